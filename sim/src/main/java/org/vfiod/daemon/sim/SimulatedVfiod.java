package org.vfiod.daemon.sim;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;
import org.slf4j.LoggerFactory;
import org.vfiod.daemon.Kernel;
import org.vfiod.daemon.Main;

/**
 * vfiod over a simulated sysfs: the daemon's own entry ({@link Main#run}, the same command line as
 * {@code org.vfiod.daemon.Main}) with the simulated kernel ({@link SimulatedKernel} for writes and module loads,
 * {@link SimulatedEventSource} for events) instead of the real one. The demo, the integration tests and the
 * benchmarks start vfiod this way; it refuses a root that is not a simulated tree.
 */
public final class SimulatedVfiod {
    private SimulatedVfiod() {
    }

    public static void main(String[] argv) {
        System.exit(Main.run(argv, SimulatedVfiod::kernel));
    }

    static Kernel kernel(Path sysfsRoot) throws IOException {
        if (!SimulatedKernel.isSimulated(sysfsRoot)) {
            throw new IOException("not a simulated sysfs (it has no " + SimulatedKernel.CONTROL_DIR
                    + " folder): the simulated vfiod drives only those");
        }
        SimulatedKernel kernel = new SimulatedKernel(sysfsRoot);
        // the logger is made here, not in a static field: Main sets the log level first
        LoggerFactory.getLogger(SimulatedVfiod.class)
                .warn("{} is a simulated sysfs: kernel writes and module loads are simulated", sysfsRoot);
        // a simulated host has no real block nodes to open exclusively, and its IPv4 addresses are a file beside the tree
        return new Kernel(kernel, kernel, root -> Optional.of(new SimulatedEventSource(root, true)),
                SimulatedHost::scanner);
    }
}
