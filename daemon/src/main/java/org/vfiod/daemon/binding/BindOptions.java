package org.vfiod.daemon.binding;

import java.time.Duration;
import java.util.Optional;

/**
 * What the caller asked for besides the device. {@code driver} names a vfio driver (or its module) to use
 * instead of the one the aliases choose; {@code policy}, how to choose when no driver is named (empty: the
 * daemon's default); {@code timeout} bounds every wait on the kernel.
 */
public record BindOptions(boolean group, boolean force, boolean dryRun, Optional<String> driver, Optional<DriverPolicy> policy,
                          Duration timeout) {
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(10);

    public BindOptions {
        if (timeout.isNegative() || timeout.isZero()) throw new IllegalArgumentException("timeout must be positive");
    }

    /** The daemon's default policy. */
    public BindOptions(boolean group, boolean force, boolean dryRun, Optional<String> driver, Duration timeout) {
        this(group, force, dryRun, driver, Optional.empty(), timeout);
    }

    public static BindOptions defaults() {
        return new BindOptions(false, false, false, Optional.empty(), DEFAULT_TIMEOUT);
    }

    public BindOptions withGroup(boolean v) {
        return new BindOptions(v, force, dryRun, driver, policy, timeout);
    }

    public BindOptions withForce(boolean v) {
        return new BindOptions(group, v, dryRun, driver, policy, timeout);
    }

    public BindOptions withDryRun(boolean v) {
        return new BindOptions(group, force, v, driver, policy, timeout);
    }

    public BindOptions withDriver(String v) {
        return new BindOptions(group, force, dryRun, Optional.of(v), policy, timeout);
    }

    public BindOptions withPolicy(DriverPolicy v) {
        return new BindOptions(group, force, dryRun, driver, Optional.of(v), timeout);
    }

    public BindOptions withTimeout(Duration v) {
        return new BindOptions(group, force, dryRun, driver, policy, v);
    }
}
