package org.vfiod.daemon;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.vfiod.daemon.usage.HostUseScanner;
import org.vfiod.daemon.usage.KernelExclusiveOpen;
import org.vfiod.daemon.usage.NetlinkAddresses;
import org.slf4j.LoggerFactory;
import org.vfiod.daemon.sysfs.FileKernelWriter;
import org.vfiod.daemon.sysfs.ModprobeLoader;
import org.vfiod.daemon.udev.UdevMonitorSource;

/** Entry point: {@code vfiod [run] [options]} starts the daemon; {@code vfiod resolve ...} is the offline lookup. */
public final class Main {
    private Main() {
    }

    public static void main(String[] argv) {
        System.exit(run(argv, Main::realKernel));
    }

    /** The kernel itself: sysfs written as files, modprobe, and libudev's events, which only ever see the real /sys. */
    static Kernel realKernel(Path sysfsRoot) {
        return new Kernel(new FileKernelWriter(), new ModprobeLoader("modprobe"),
                root -> root.equals(Path.of("/sys").toAbsolutePath()) ? Optional.of(new UdevMonitorSource()) : Optional.empty(),
                paths -> new HostUseScanner(paths, new NetlinkAddresses(), new KernelExclusiveOpen()));
    }

    /**
     * vfiod's command line, with the daemon driving the kernel {@code kernel} makes for the sysfs root: the real one
     * here, the simulated one in the sim module's main. Returns the exit code.
     */
    public static int run(String[] argv, Kernel.Factory kernel) {
        List<String> args = Arrays.asList(argv);
        if (!args.isEmpty() && args.get(0).equals("resolve")) {
            return ResolveCommand.run(args.subList(1, args.size()), System.out, System.err);
        }
        if (!args.isEmpty() && (args.get(0).equals("-h") || args.get(0).equals("--help"))) {
            System.out.println(DaemonOptions.USAGE);
            return 0;
        }
        List<String> runArgs = !args.isEmpty() && args.get(0).equals("run") ? args.subList(1, args.size()) : args;
        DaemonOptions options;
        try {
            options = DaemonOptions.parse(runArgs);
        } catch (DaemonOptions.UsageException e) {
            System.err.println("vfiod: " + e.getMessage());
            System.err.println(DaemonOptions.USAGE);
            return Daemon.EXIT_USAGE;
        }
        // must be set before the first logger exists
        System.setProperty("vfiod.log.level", options.logLevel().toUpperCase(java.util.Locale.ROOT));
        // logging set up directly (see LogProvider), unless someone names another provider; slf4j announces a
        // named provider on stderr at its default verbosity, so that is lowered to warnings unless set
        if (System.getProperty("slf4j.provider") == null) {
            System.setProperty("slf4j.provider", LogProvider.class.getName());
            if (System.getProperty("slf4j.internal.verbosity") == null) System.setProperty("slf4j.internal.verbosity", "WARN");
        }
        Kernel k;
        try {
            k = kernel.open(options.sysfsRoot());
        } catch (IOException e) {
            LoggerFactory.getLogger(Main.class).error("cannot use sysfs root {}: {}", options.sysfsRoot(), e.toString());
            return Daemon.EXIT_FAILURE;
        }
        return Daemon.run(options, k);
    }
}
