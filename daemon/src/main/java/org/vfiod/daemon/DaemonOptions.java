package org.vfiod.daemon;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.vfiod.daemon.binding.DriverPolicy;

/** The daemon's command line. Every path it touches is here, so tests and the demo never need the real ones. */
record DaemonOptions(Optional<String> busAddress, Path sysfsRoot, Path modulesDir, List<Path> modprobeDirs,
                     Path configDir, Path stateDir, Path runtimeDir, Path procRoot, Path devRoot, Path udevRulesDir, String logLevel, boolean replace,
                     DriverPolicy driverPolicy, Optional<Path> featuresFile, Optional<Path> passwdFile) {
    /** Where Node Feature Discovery reads local feature files (its default); written only if asked for. */
    static final Path NFD_FEATURES_FILE = Path.of("/etc/kubernetes/node-feature-discovery/features.d/vfiod");

    static final String USAGE = """
            usage: vfiod [run] [--bus-address ADDR] [--sysfs-root DIR] [--modules-dir DIR] [--modprobe-dir DIR]...
                         [--config-dir DIR] [--state-dir DIR] [--runtime-dir DIR] [--proc-root DIR]
                         [--dev-root DIR] [--udev-rules-dir DIR] [--passwd-file FILE]
                         [--driver-policy best-match|prefer-vfio-pci] [--nfd-features [FILE]]
                         [--log-level error|warn|info|debug] [--replace]
                   vfiod resolve [--modules-dir DIR] [--modprobe-dir DIR]... MODALIAS...""";

    static final class UsageException extends Exception {
        private static final long serialVersionUID = 1L;

        UsageException(String message) {
            super(message);
        }
    }

    static DaemonOptions parse(List<String> args) throws UsageException {
        // the system bus: as the environment names it, as D-Bus activation names it, or its well-known socket
        Optional<String> bus = Optional.ofNullable(System.getenv("DBUS_SYSTEM_BUS_ADDRESS")).filter(s -> !s.isBlank())
                .or(() -> Optional.ofNullable(System.getenv("DBUS_STARTER_ADDRESS")).filter(s -> !s.isBlank()))
                .or(() -> Optional.of("unix:path=/run/dbus/system_bus_socket"));
        Path sysfs = Path.of("/sys");
        Path modules = null;
        List<Path> modprobe = new ArrayList<>();
        Path config = Path.of("/etc/vfiod");
        Path state = Path.of("/var/lib/vfiod");
        // the journal of moves in flight: a tmpfs, so a reboot (which resets the kernel's state) clears it too
        Path runtime = Path.of("/run/vfiod");
        // where the host-use check looks for processes, mounts and routes, and for device nodes
        Path proc = Path.of("/proc");
        Path dev = Path.of("/dev");
        Path udev = null;
        String level = "info";
        boolean replace = false;
        DriverPolicy policy = DriverPolicy.BEST_MATCH;
        Optional<Path> features = Optional.empty();
        // the users an owner may be: the C library's (NSS) unless a file is named (a simulated machine's)
        Optional<Path> passwd = Optional.empty();
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            switch (a) {
                case "--bus-address" -> bus = Optional.of(value(args, ++i, a));
                case "--sysfs-root" -> sysfs = Path.of(value(args, ++i, a));
                case "--modules-dir" -> modules = Path.of(value(args, ++i, a));
                case "--modprobe-dir" -> modprobe.add(Path.of(value(args, ++i, a)));
                case "--config-dir" -> config = Path.of(value(args, ++i, a));
                case "--state-dir" -> state = Path.of(value(args, ++i, a));
                case "--runtime-dir" -> runtime = Path.of(value(args, ++i, a));
                case "--proc-root" -> proc = Path.of(value(args, ++i, a));
                case "--dev-root" -> dev = Path.of(value(args, ++i, a));
                case "--udev-rules-dir" -> udev = Path.of(value(args, ++i, a));
                case "--log-level" -> {
                    level = value(args, ++i, a).toLowerCase(java.util.Locale.ROOT);
                    if (!List.of("error", "warn", "info", "debug", "trace").contains(level)) {
                        throw new UsageException("--log-level must be error, warn, info, debug or trace");
                    }
                }
                case "--replace" -> replace = true;
                case "--passwd-file" -> passwd = Optional.of(Path.of(value(args, ++i, a)));
                case "--driver-policy" -> {
                    String v = value(args, ++i, a);
                    policy = DriverPolicy.parse(v).orElseThrow(() -> new UsageException("--driver-policy takes one of " + DriverPolicy.spellings()));
                }
                case "--nfd-features" -> {
                    // the file is optional: NFD's own folder unless a path (not an option) follows
                    boolean path = i + 1 < args.size() && !args.get(i + 1).startsWith("--");
                    features = Optional.of(path ? Path.of(args.get(++i)) : NFD_FEATURES_FILE);
                }
                default -> throw new UsageException("unknown option " + a);
            }
        }
        if (modules == null) modules = Path.of("/lib/modules", Options.kernelRelease());
        if (modprobe.isEmpty()) modprobe = org.vfiod.daemon.aliases.AliasSources.DEFAULT_MODPROBE_DIRS;
        // the boot rules belong to the real machine; over another sysfs root they stay beside the config
        if (udev == null) udev = sysfs.equals(Path.of("/sys")) ? Path.of("/etc/udev/rules.d") : config.resolve("udev-rules.d");
        return new DaemonOptions(bus, sysfs, modules, List.copyOf(modprobe), config, state, runtime, proc, dev, udev, level, replace,
                policy, features, passwd);
    }

    private static String value(List<String> args, int i, String option) throws UsageException {
        if (i >= args.size()) throw new UsageException(option + " needs a value");
        return args.get(i);
    }
}
