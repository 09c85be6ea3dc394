package org.vfiod.daemon.sim;

import java.io.IOException;
import java.nio.file.Path;

/** {@code java -cp vfiod.jar org.vfiod.daemon.sim.SampleMachine DIR}: lays out the demo's simulated sysfs. */
public final class SampleMachine {
    private SampleMachine() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length != 1) {
            System.err.println("usage: SampleMachine DIR");
            System.exit(64);
        }
        System.out.println(SimulatedSysfs.sampleMachine(Path.of(args[0])).root());
    }
}
