package org.vfiod.daemon.binding;

import java.util.List;
import java.util.Map;
import org.vfiod.daemon.sysfs.DeviceName;

/** How a Rebind or Restore that did not fail ended. {@code driver} is the requested device's driver ("" for none). */
public sealed interface BindResult {
    String driver();

    /** The kernel state changed: these devices moved. */
    /** The kernel state changed: these devices moved. {@code users}: the users found and forced past. */
    record Moved(String driver, List<DeviceName> devices, List<String> steps, List<String> users) implements BindResult {
        public Moved {
            devices = List.copyOf(devices);
            steps = List.copyOf(steps);
            users = List.copyOf(users);
        }

        public Moved(String driver, List<DeviceName> devices, List<String> steps) {
            this(driver, devices, steps, List.of());
        }

        Moved withUsers(List<String> found) {
            return new Moved(driver, devices, steps, found);
        }
    }

    /** Everything already was as asked; nothing was written. */
    record Unchanged(String driver) implements BindResult {
    }

    /** A dry run: the steps that would be taken, none of them taken. */
    /**
     * A dry run: the steps that would be taken, none of them taken. {@code targets}: each device that would move,
     * in order, with the driver it would end on ("" where the kernel picks a host driver); {@code users}: who uses
     * them now (what InUse would name, or force go past).
     */
    record Planned(String driver, List<String> steps, Map<DeviceName, String> targets, List<String> users) implements BindResult {
        public Planned {
            steps = List.copyOf(steps);
            targets = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(targets));
            users = List.copyOf(users);
        }

        public Planned(String driver, List<String> steps) {
            this(driver, steps, Map.of(), List.of());
        }
    }
}
