package org.vfiod.daemon.binding;

import org.vfiod.daemon.sysfs.DriverName;

/** Where one device of a plan goes. */
public sealed interface Target {
    /** A vfio driver, known by the name it registered with the bus. */
    record Driver(DriverName name) implements Target {
    }

    /** A vfio module that is not loaded yet: its driver's name is known only once it is. */
    record Module(DriverName module) implements Target {
    }

    /** Off VFIO: whatever host driver the kernel picks (possibly none). */
    record Host() implements Target {
    }
}
