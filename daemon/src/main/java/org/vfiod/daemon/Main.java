package org.vfiod.daemon;

import java.util.Arrays;
import java.util.List;

/** Entry point: {@code vfiod [run] [options]} starts the daemon; {@code vfiod resolve ...} is the offline lookup. */
public final class Main {
    private Main() {
    }

    public static void main(String[] argv) {
        List<String> args = Arrays.asList(argv);
        if (!args.isEmpty() && args.get(0).equals("resolve")) {
            System.exit(ResolveCommand.run(args.subList(1, args.size()), System.out, System.err));
        }
        if (!args.isEmpty() && (args.get(0).equals("-h") || args.get(0).equals("--help"))) {
            System.out.println(DaemonOptions.USAGE);
            System.exit(0);
        }
        List<String> runArgs = !args.isEmpty() && args.get(0).equals("run") ? args.subList(1, args.size()) : args;
        DaemonOptions options;
        try {
            options = DaemonOptions.parse(runArgs);
        } catch (DaemonOptions.UsageException e) {
            System.err.println("vfiod: " + e.getMessage());
            System.err.println(DaemonOptions.USAGE);
            System.exit(Daemon.EXIT_USAGE);
            return;
        }
        // must be set before the first logger exists
        System.setProperty("vfiod.log.level", options.logLevel().toUpperCase(java.util.Locale.ROOT));
        // logging set up directly (see LogProvider), unless someone names another provider; slf4j announces a
        // named provider on stderr at its default verbosity, so that is lowered to warnings unless set
        if (System.getProperty("slf4j.provider") == null) {
            System.setProperty("slf4j.provider", LogProvider.class.getName());
            if (System.getProperty("slf4j.internal.verbosity") == null) System.setProperty("slf4j.internal.verbosity", "WARN");
        }
        System.exit(Daemon.run(options));
    }
}
