package org.vfiod.daemon.sim;

import java.io.IOException;
import java.nio.file.Path;

/**
 * {@code java -cp vfiod.jar org.vfiod.daemon.sim.SampleMachine DIR [--all-buses]}: lays out the demo's simulated
 * sysfs; with {@code --all-buses}, also the CDX, platform and fsl-mc devices of {@link SimulatedSysfs#withOtherBuses}.
 */
public final class SampleMachine {
    private SampleMachine() {
    }

    public static void main(String[] args) throws IOException {
        boolean all = args.length == 2 && args[1].equals("--all-buses");
        if (args.length != 1 && !all) {
            System.err.println("usage: SampleMachine DIR [--all-buses]");
            System.exit(64);
        }
        Path dir = Path.of(args[0]);
        System.out.println((all ? SimulatedSysfs.allBuses(dir) : SimulatedSysfs.sampleMachine(dir)).root());
    }
}
