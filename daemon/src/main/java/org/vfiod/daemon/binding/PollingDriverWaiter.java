package org.vfiod.daemon.binding;

import java.io.IOException;
import java.time.Instant;
import java.util.Optional;
import java.util.function.Predicate;
import org.vfiod.daemon.sysfs.DeviceName;
import org.vfiod.daemon.sysfs.Sysfs;

/** Reads the driver link every few milliseconds; for where no udev events are available. */
public final class PollingDriverWaiter implements DriverWaiter {
    private final Sysfs sysfs;

    public PollingDriverWaiter(Sysfs sysfs) {
        this.sysfs = sysfs;
    }

    @Override
    public Optional<String> await(DeviceName device, Predicate<Optional<String>> done, Instant deadline) throws IOException {
        long sleep = 1;
        while (true) {
            Optional<String> driver = sysfs.currentDriver(device);
            if (done.test(driver) || Instant.now().isAfter(deadline)) return driver;
            try {
                Thread.sleep(sleep);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return driver;
            }
            sleep = Math.min(sleep * 2, 20);
        }
    }
}
