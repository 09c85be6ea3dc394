package org.vfiod.daemon.binding;

import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.function.Predicate;
import org.vfiod.daemon.sysfs.DeviceName;
import org.vfiod.daemon.sysfs.Sysfs;

/**
 * Waits for the bind/unbind uevent of a device instead of sleeping: every event for any device wakes the waiters,
 * who re-read their driver link. A slow re-read every {@code fallback} covers an event that never comes (a
 * dropped netlink message), so a wait ends at the deadline at worst.
 */
public final class EventDriverWaiter implements DriverWaiter {
    private final Sysfs sysfs;
    private final Duration fallback;
    private final Object changed = new Object();
    private long generation;

    public EventDriverWaiter(Sysfs sysfs, Duration fallback) {
        this.sysfs = sysfs;
        this.fallback = fallback;
    }

    /** Called by the event pump for every event. */
    public void deviceChanged(DeviceName device) {
        synchronized (changed) {
            generation++;
            changed.notifyAll();
        }
    }

    @Override
    public Optional<String> await(DeviceName device, Predicate<Optional<String>> done, Instant deadline) throws IOException {
        while (true) {
            long seen;
            synchronized (changed) {
                seen = generation;
            }
            Optional<String> driver = sysfs.currentDriver(device);
            if (done.test(driver)) return driver;
            Duration left = Duration.between(Instant.now(), deadline);
            if (left.isNegative() || left.isZero()) return driver;
            long wait = Math.max(1, Math.min(left.toMillis(), fallback.toMillis()));
            synchronized (changed) {
                try {
                    if (generation == seen) changed.wait(wait);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return driver;
                }
            }
        }
    }
}
