package org.vfiod.daemon.binding;

import java.util.List;
import org.vfiod.daemon.sysfs.DeviceName;

/** How a Rebind or Restore that did not fail ended. {@code driver} is the requested device's driver ("" for none). */
public sealed interface BindResult {
    String driver();

    /** The kernel state changed: these devices moved. */
    record Moved(String driver, List<DeviceName> devices, List<String> steps) implements BindResult {
        public Moved {
            devices = List.copyOf(devices);
            steps = List.copyOf(steps);
        }
    }

    /** Everything already was as asked; nothing was written. */
    record Unchanged(String driver) implements BindResult {
    }

    /** A dry run: the steps that would be taken, none of them taken. */
    record Planned(String driver, List<String> steps) implements BindResult {
        public Planned {
            steps = List.copyOf(steps);
        }
    }
}
