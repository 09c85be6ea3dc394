package org.vfiod.daemon.binding;

import org.vfiod.daemon.sysfs.DeviceName;
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

    /**
     * An object of a container that moves ({@link org.vfiod.daemon.sysfs.KernelBus#isContainer}, fsl-mc's DPRC): no
     * write of its own. The kernel removes it with the container's driver and adds it again when the container's new
     * driver scans it (vfio-fsl-mc gives it driver_override vfio-fsl-mc), so it ends where its container does, and a
     * rollback of the container puts it back.
     */
    record Follows(DeviceName container) implements Target {
    }
}
