package org.vfiod.cli;

import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.vfiod.client.RebindOptions;

/**
 * The command line: {@code vfioctl [--address ADDR] [--json] COMMAND [ARGS] [OPTIONS]}. Options may come before
 * or after the command, as {@code --opt value} or {@code --opt=value}; {@code --} ends the options. Everything a
 * daemon call needs is checked here, so a wrong command line costs no bus connection and exits 64.
 */
final class Args {
    static final String DEFAULT_DRIVERCTL_DIR = "/etc/driverctl.d";
    /** vfiod's own limit on the {@code timeout} option. */
    static final long MAX_TIMEOUT_MS = 600_000;

    private static final String[] VALUE_OPTIONS = {"address", "driver", "timeout", "dir", "owner"};
    private static final String[] FLAG_OPTIONS = {"json", "help", "group", "persist", "force", "dry-run", "no-ask"};
    private static final String[] GLOBAL_OPTIONS = {"address", "json", "help"};

    private Args() {
    }

    static Command.Invocation parse(String... args) throws UsageException {
        Map<String, String> options = new LinkedHashMap<>();
        List<String> positional = new ArrayList<>();
        boolean optionsEnd = false;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (optionsEnd || a.equals("-") || !a.startsWith("-")) {
                positional.add(a);
                continue;
            }
            if (a.equals("--")) {
                optionsEnd = true;
                continue;
            }
            if (a.equals("-h")) a = "--help";
            if (!a.startsWith("--")) throw new UsageException("unknown option '" + Exit.oneLine(a) + "'" + HINT);
            String name = a.substring(2);
            String value = null;
            int eq = name.indexOf('=');
            if (eq >= 0) {
                value = name.substring(eq + 1);
                name = name.substring(0, eq);
            }
            if (contains(VALUE_OPTIONS, name)) {
                if (value == null) {
                    if (i + 1 >= args.length) throw new UsageException("option --" + name + " needs a value" + HINT);
                    value = args[++i];
                }
                String before = options.put(name, value);
                if (before != null && !before.equals(value)) {
                    throw new UsageException("option --" + name + " given twice ('" + Exit.oneLine(before) + "' and '"
                            + Exit.oneLine(value) + "')");
                }
            } else if (contains(FLAG_OPTIONS, name)) {
                if (value != null) throw new UsageException("option --" + name + " takes no value" + HINT);
                options.put(name, "");
            } else {
                throw new UsageException("unknown option '--" + Exit.oneLine(name) + "'" + HINT);
            }
        }

        String address = options.get("address");
        if (address != null && address.isBlank()) throw new UsageException("option --address needs a bus address, e.g. unix:path=/run/dbus/system_bus_socket");
        boolean json = options.containsKey("json");
        if (options.containsKey("help")) return new Command.Invocation(address, json, new Command.Help());
        if (positional.isEmpty()) throw new UsageException("no command given" + HINT);

        String name = positional.get(0);
        List<String> rest = positional.subList(1, positional.size());
        Command command = switch (name) {
            case "help" -> {
                allow(name, options);
                yield new Command.Help();
            }
            case "list" -> {
                allow(name, options);
                none(name, rest);
                yield new Command.ListDevices();
            }
            case "show" -> {
                allow(name, options);
                yield new Command.Show(device(name, rest));
            }
            case "rebind" -> {
                allow(name, options, "group", "persist", "force", "dry-run", "driver", "timeout", "no-ask", "owner");
                yield new Command.Rebind(device(name, rest), rebindOptions(options));
            }
            case "restore" -> {
                allow(name, options, "persist", "group", "dry-run", "timeout", "no-ask");
                yield new Command.Restore(device(name, rest), rebindOptions(options));
            }
            case "resolve" -> {
                allow(name, options);
                yield new Command.Resolve(modalias(rest));
            }
            case "monitor" -> {
                allow(name, options);
                none(name, rest);
                yield new Command.Monitor();
            }
            case "import-driverctl" -> {
                allow(name, options, "dir", "dry-run", "no-ask");
                none(name, rest);
                String dir = options.get("dir");
                yield new Command.ImportDriverctl(path(dir == null ? DEFAULT_DRIVERCTL_DIR : dir), dir != null,
                        options.containsKey("dry-run"), options.containsKey("no-ask"));
            }
            default -> throw new UsageException("unknown command '" + Exit.oneLine(name) + "'" + HINT);
        };
        return new Command.Invocation(address, json, command);
    }

    private static final String HINT = " (see vfioctl --help)";

    private static boolean contains(String[] names, String name) {
        for (String n : names) if (n.equals(name)) return true;
        return false;
    }

    /** Refuses any option that is neither global nor one of the command's. */
    private static void allow(String command, Map<String, String> options, String... own) throws UsageException {
        for (String o : options.keySet()) {
            if (!contains(GLOBAL_OPTIONS, o) && !contains(own, o)) {
                throw new UsageException("option --" + o + " does not apply to '" + command + "'" + HINT);
            }
        }
    }

    private static void none(String command, List<String> rest) throws UsageException {
        if (!rest.isEmpty()) throw new UsageException("'" + command + "' takes no arguments, not '" + Exit.oneLine(rest.get(0)) + "'" + HINT);
    }

    private static String device(String command, List<String> rest) throws UsageException {
        if (rest.isEmpty()) throw new UsageException("'" + command + "' needs a device: vfioctl " + command + " DEV" + HINT);
        if (rest.size() > 1) throw new UsageException("'" + command + "' takes one device, not also '" + Exit.oneLine(rest.get(1)) + "'" + HINT);
        String dev = rest.get(0);
        String address = DeviceNames.canonicalDevice(dev);
        if (address == null) {
            throw new UsageException("'" + Exit.oneLine(dev) + "' is not a device: a PCI address (DDDD:BB:DD.F or BB:DD.F "
                    + "in hex, e.g. 0000:03:00.0), BUS:NAME (e.g. platform:a000000.virtio_mmio) or a device object path "
                    + "(/org/vfiod/devices/pci_0000_3a03_3a00_2e0)");
        }
        return address;
    }

    private static String modalias(List<String> rest) throws UsageException {
        if (rest.isEmpty()) throw new UsageException("'resolve' needs a modalias, e.g. vfioctl resolve \"$(cat /sys/bus/pci/devices/0000:03:00.0/modalias)\"");
        if (rest.size() > 1) throw new UsageException("'resolve' takes one modalias, not also '" + Exit.oneLine(rest.get(1)) + "'" + HINT);
        String m = rest.get(0);
        if (m.isEmpty()) throw new UsageException("the modalias is empty");
        return m;
    }

    private static RebindOptions rebindOptions(Map<String, String> o) throws UsageException {
        RebindOptions r = RebindOptions.none();
        if (o.containsKey("group")) r = r.withGroup();
        if (o.containsKey("persist")) r = r.withPersist();
        if (o.containsKey("force")) r = r.withForce();
        if (o.containsKey("dry-run")) r = r.withDryRun();
        if (o.containsKey("no-ask")) r = r.withoutUserInteraction();
        String driver = o.get("driver");
        if (driver != null) {
            if (!Pci.isDriverName(driver)) {
                throw new UsageException("'" + Exit.oneLine(driver) + "' is not a driver name (letters, digits, _ . + -)");
            }
            r = r.withDriver(driver);
        }
        String timeout = o.get("timeout");
        if (timeout != null) r = r.withTimeoutMillis(timeoutMillis(timeout));
        String owner = o.get("owner");
        if (owner != null) r = r.withOwner(uid(owner));
        return r;
    }

    /** A uid, as {@code id -u} prints it: vfiod checks that a user has it. */
    static long uid(String text) throws UsageException {
        if (!text.matches("[0-9]{1,10}") || Long.parseLong(text) >= 0xffffffffL) {
            throw new UsageException("--owner takes a uid (a number, e.g. --owner \"$(id -u alice)\"), not '" + Exit.oneLine(text) + "'");
        }
        return Long.parseLong(text);
    }

    static long timeoutMillis(String text) throws UsageException {
        long ms = text.isEmpty() || text.length() > 7 ? -1 : 0;
        for (int i = 0; i < text.length() && ms >= 0; i++) {
            char c = text.charAt(i);
            ms = c >= '0' && c <= '9' ? ms * 10 + (c - '0') : -1;
        }
        if (ms < 1 || ms > MAX_TIMEOUT_MS) {
            throw new UsageException("--timeout takes milliseconds from 1 to " + MAX_TIMEOUT_MS + ", not '" + Exit.oneLine(text) + "'");
        }
        return ms;
    }

    private static Path path(String dir) throws UsageException {
        if (dir.isEmpty()) throw new UsageException("option --dir needs a directory");
        try {
            return Path.of(dir);
        } catch (InvalidPathException e) {
            throw new UsageException("'" + Exit.oneLine(dir) + "' is not a usable path: " + e.getReason());
        }
    }
}
