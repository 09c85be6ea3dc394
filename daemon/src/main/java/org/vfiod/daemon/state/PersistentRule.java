package org.vfiod.daemon.state;

import java.nio.file.Path;
import java.util.Optional;
import java.util.OptionalLong;
import org.vfiod.daemon.binding.DriverPolicy;

/**
 * One rule file: the devices it covers, and how to rebind them (a chosen vfio driver, or a policy for choosing
 * one; the whole IOMMU group), and the uid to give the VFIO nodes to ({@code owner}). A rule has a driver or a
 * policy, not both.
 */
public record PersistentRule(Path file, DeviceMatch match, Optional<String> driver, Optional<DriverPolicy> policy, boolean group,
                             OptionalLong owner) {
    public PersistentRule {
        if (driver.isPresent() && policy.isPresent()) throw new IllegalArgumentException("a rule names a driver or a policy, not both");
    }

    /** A rule without an owner. */
    public PersistentRule(Path file, DeviceMatch match, Optional<String> driver, Optional<DriverPolicy> policy, boolean group) {
        this(file, match, driver, policy, group, OptionalLong.empty());
    }

    /** A rule without a policy of its own (the daemon's default applies) and without an owner. */
    public PersistentRule(Path file, DeviceMatch match, Optional<String> driver, boolean group) {
        this(file, match, driver, Optional.empty(), group);
    }
}
