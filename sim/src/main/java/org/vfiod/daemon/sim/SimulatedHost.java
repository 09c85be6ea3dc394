package org.vfiod.daemon.sim;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.vfiod.daemon.usage.ExclusiveOpen;
import org.vfiod.daemon.usage.FileInterfaceAddresses;
import org.vfiod.daemon.usage.HostPaths;
import org.vfiod.daemon.usage.HostUseScanner;

/**
 * The host around a simulated sysfs, for the host-use check: a {@code proc/} and {@code dev/} in a folder of the
 * simulation's, which a test fills (processes with their descriptors, mount tables, swaps, routes), and the IPv4
 * addresses in {@code .vfiod-sim/ipv4} beside the tree ({@code IFINDEX ADDRESS/PREFIX} per line). A simulated host
 * has no block node to open exclusively.
 */
public final class SimulatedHost {
    private SimulatedHost() {
    }

    /** The scanner for a simulated tree whose host lives in {@code hostDir} (made empty if it is not there). */
    public static HostUseScanner scanner(Path sysfsRoot, Path hostDir) {
        try {
            Path proc = Files.createDirectories(hostDir.resolve("proc"));
            Path dev = Files.createDirectories(hostDir.resolve("dev"));
            return scanner(new HostPaths(sysfsRoot, proc, dev));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static HostUseScanner scanner(HostPaths paths) {
        return new HostUseScanner(paths, new FileInterfaceAddresses(paths.sysfs().resolve(SimulatedKernel.CONTROL_DIR).resolve("ipv4")),
                ExclusiveOpen.NOT_CHECKED);
    }
}
