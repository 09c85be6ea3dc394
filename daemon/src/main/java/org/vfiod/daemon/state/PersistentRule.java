package org.vfiod.daemon.state;

import java.nio.file.Path;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * One rule file: the devices it covers, and how to rebind them (a chosen vfio driver, the whole IOMMU group), and
 * the uid to give the VFIO nodes to ({@code owner}).
 */
public record PersistentRule(Path file, DeviceMatch match, Optional<String> driver, boolean group, OptionalLong owner) {
    public PersistentRule(Path file, DeviceMatch match, Optional<String> driver, boolean group) {
        this(file, match, driver, group, OptionalLong.empty());
    }
}
