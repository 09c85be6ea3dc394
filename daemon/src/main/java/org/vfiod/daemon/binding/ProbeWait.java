package org.vfiod.daemon.binding;

import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import org.vfiod.daemon.sysfs.DeviceName;

/** Waits, after a probe or bind, for the driver the kernel settles on (probing may be asynchronous). */
final class ProbeWait {
    /** How long a device may stay driverless after drivers_probe before we call the probe failed. */
    private static final Duration PROBE_SETTLE = Duration.ofSeconds(2);

    private final DriverWaiter waiter;

    ProbeWait(DriverWaiter waiter) {
        this.waiter = waiter;
    }

    /** The driver seen last; with {@code expected} null, any driver ends the wait. */
    Optional<String> driverOf(DeviceName device, String expected, Instant deadline) throws IOException {
        Instant settle = Instant.now().plus(PROBE_SETTLE);
        Instant until = settle.isBefore(deadline) ? settle : deadline;
        try {
            return waiter.await(device, d -> expected == null ? d.isPresent() : d.filter(expected::equals).isPresent(), until);
        } catch (NoSuchFileException gone) {
            throw new IOException("the device vanished");
        }
    }
}
