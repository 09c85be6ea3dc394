package org.vfiod.daemon;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;
import org.vfiod.daemon.usage.HostPaths;
import org.vfiod.daemon.usage.HostUseScanner;
import org.vfiod.daemon.sysfs.KernelWriter;
import org.vfiod.daemon.sysfs.ModuleLoader;
import org.vfiod.daemon.udev.DeviceEventSource;

/**
 * The kernel the daemon drives: what writes sysfs attributes, what loads modules, and where device events come
 * from. {@link Main} gives the real one; the simulated kernel (module {@code sim}) gives its own for a simulated tree.
 */
public record Kernel(KernelWriter writer, ModuleLoader modules, EventSources events, HostUses hostUses) {
    /** Who uses a device: the scanner for the host's (or a simulation's) /sys, /proc and /dev. */
    @FunctionalInterface
    public interface HostUses {
        HostUseScanner scanner(HostPaths paths);
    }

    /** The device events of a sysfs root (given as {@code Sysfs} resolved it), if this kernel has any for it. */
    @FunctionalInterface
    public interface EventSources {
        Optional<DeviceEventSource> open(Path sysfsRoot);
    }

    /** Makes the kernel for the sysfs root of the command line; an IOException ends vfiod with its message logged. */
    @FunctionalInterface
    public interface Factory {
        Kernel open(Path sysfsRoot) throws IOException;
    }
}
