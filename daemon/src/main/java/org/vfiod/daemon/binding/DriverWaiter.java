package org.vfiod.daemon.binding;

import java.io.IOException;
import java.time.Instant;
import java.util.Optional;
import java.util.function.Predicate;
import org.vfiod.daemon.sysfs.DeviceName;

/** Waits until a device's driver satisfies a condition or a deadline passes; returns the driver seen last. */
@FunctionalInterface
public interface DriverWaiter {
    Optional<String> await(DeviceName device, Predicate<Optional<String>> done, Instant deadline) throws IOException;
}
