package org.vfiod.daemon.binding;

import java.util.Optional;
import org.vfiod.daemon.sysfs.Device;

/** A device as it was before a move: what a rollback, or a reconcile after a crash, puts back. */
public record Prior(Optional<String> driver, Optional<String> override) {
    public static Prior of(Device device) {
        return new Prior(device.driver(), device.driverOverride());
    }

    @Override
    public String toString() {
        return driver.map(d -> "on " + d).orElse("without a driver") + override.map(o -> ", driver_override " + o).orElse("");
    }
}
