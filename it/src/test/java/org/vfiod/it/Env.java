package org.vfiod.it;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.vfiod.daemon.sim.SimulatedSysfs;

/**
 * One test's world: a fresh simulated sysfs ({@link SimulatedSysfs#sampleMachine}), a modules folder whose
 * modules.alias maps every PCI device to vfio_pci, and helpers to start vfiod and to call it with gdbus and busctl
 * as root or a test user. Everything started through it is ended when the test is over.
 */
public final class Env implements AutoCloseable {
    public static final String BUS_NAME = "org.vfiod";
    public static final String MANAGER = "/org/vfiod";
    public static final String MANAGER_IFACE = "org.vfiod1.Manager";
    public static final String DEVICE_IFACE = "org.vfiod1.Device";
    public static final String VFIO_ALIAS = "alias vfio_pci:v*d*sv*sd*bc*sc*i* vfio_pci\n";

    public static final String ACCESS_DENIED = "org.freedesktop.DBus.Error.AccessDenied";
    public static final String INVALID_ARGUMENT = "org.vfiod1.Error.InvalidArgument";
    public static final String NO_SUCH_DEVICE = "org.vfiod1.Error.NoSuchDevice";
    public static final String NO_VFIO_DRIVER = "org.vfiod1.Error.NoVfioDriver";
    public static final String GROUP_NOT_VIABLE = "org.vfiod1.Error.GroupNotViable";
    public static final String IN_USE = "org.vfiod1.Error.InUse";
    public static final String BUSY = "org.vfiod1.Error.Busy";
    public static final String TIMEOUT = "org.vfiod1.Error.Timeout";
    public static final String FAILED = "org.vfiod1.Error.Failed";

    private static final Pattern SINGLE_STRING = Pattern.compile("^\\(<?'(.*)'>?,\\)$", Pattern.DOTALL);

    private final Harness harness;
    private final Path dir;
    private final SimulatedSysfs sim;
    private final Path modules;
    private final Deque<AutoCloseable> started = new ConcurrentLinkedDeque<>();
    private final List<VfiodProcess> daemons = new ArrayList<>();
    private final List<SignalMonitor> monitors = new ArrayList<>();
    private VfiodProcess vfiod;
    private int counter;

    Env(Harness harness, Path dir) {
        this.harness = harness;
        this.dir = dir;
        try {
            this.sim = SimulatedSysfs.sampleMachine(dir.resolve("sys"));
            this.modules = modulesDir("modules", VFIO_ALIAS);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    // ---- the world ------------------------------------------------------------------------------------------------

    public Path dir() {
        return dir;
    }

    public SimulatedSysfs sim() {
        return sim;
    }

    public Path sysfsRoot() {
        return sim.root();
    }

    public PrivateSystemBus bus() {
        return harness.bus();
    }

    public String address() {
        return harness.bus().address();
    }

    /** A modules folder (for --modules-dir) whose modules.alias holds {@code aliases}. */
    public Path modulesDir(String name, String aliases) {
        Path d = dir.resolve(name);
        try {
            Files.createDirectories(d);
            Files.writeString(d.resolve("modules.alias"), aliases, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return d;
    }

    /** The modules folder vfiod gets by default (modules.alias: {@link #VFIO_ALIAS}). */
    public Path defaultModulesDir() {
        return modules;
    }

    /** Stops polkitd for the rest of this test (the harness starts it again for the next one). */
    public void stopPolkitd() {
        harness.polkitd().stop();
    }

    /** The class's polkitd, e.g. to kill it in the middle of a check. */
    public Polkitd polkitd() {
        return harness.polkitd();
    }

    /** Starts polkitd again after a test stopped or killed it (a new process, a new unique name on the bus). */
    public Polkitd restartPolkitd() {
        harness.ensurePolkitd();
        return harness.polkitd();
    }

    /** The path vfiod gives the PCI device {@code address} (the contract's escaping; literal in BusAddressesIT). */
    public static String devicePath(String address) {
        return org.vfiod1.DevicePaths.path("pci", address);
    }

    // ---- vfiod ----------------------------------------------------------------------------------------------------

    /** The usual vfiod of a test, started (and ready) on the first call. */
    public synchronized VfiodProcess vfiod() {
        if (vfiod == null) vfiod = startVfiod(List.of(), true);
        return vfiod;
    }

    /** The command line of a vfiod on the class's bus and this test's tree; every path it could touch is the test's. */
    public List<String> vfiodArgs(String busAddress, Path modulesDir) {
        return new ArrayList<>(List.of("--bus-address", busAddress, "--sysfs-root", sim.root().toString(),
                "--modules-dir", modulesDir.toString(), "--modprobe-dir", dir.resolve("no-modprobe.d").toString(),
                "--config-dir", dir.resolve("etc-vfiod").toString(), "--state-dir", dir.resolve("var-lib-vfiod").toString(),
                "--runtime-dir", runtimeDir().toString(), "--proc-root", hostDir().resolve("proc").toString(),
                "--dev-root", hostDir().resolve("dev").toString()));
    }

    /**
     * The host around the simulated tree, for the host-use check: {@code proc/} and {@code dev/}, empty (nobody uses
     * anything) until a test fills them, e.g. with {@code new FakeHost(env.sysfsRoot(), env.hostDir())}.
     */
    public Path hostDir() {
        try {
            Files.createDirectories(dir.resolve("host/proc"));
            Files.createDirectories(dir.resolve("host/dev"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return dir.resolve("host");
    }

    /** vfiod's runtime directory in this test (its journal is in {@code journal/}). */
    public Path runtimeDir() {
        return dir.resolve("run-vfiod");
    }

    /** How many journals vfiod's runtime directory holds: one per move in flight, or left by a killed vfiod. */
    public long journalCount() {
        Path journal = runtimeDir().resolve("journal");
        if (!Files.isDirectory(journal)) return 0;
        try (java.util.stream.Stream<Path> s = Files.list(journal)) {
            return s.filter(p -> p.getFileName().toString().endsWith(".journal")).count();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The simulated kernel's record of the writes process {@code pid} made, in order ("ATTRIBUTE VALUE"). */
    public List<String> simulatedWritesBy(long pid) {
        Path log = sysfsRoot().resolve(".vfiod-sim/writes");
        try {
            if (!Files.exists(log)) return List.of();
            return Files.readAllLines(log).stream().filter(l -> l.startsWith(pid + " ")).map(l -> l.substring(l.indexOf(' ') + 1)).toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Starts another vfiod on the class's bus with the default modules and {@code extra} arguments. */
    public VfiodProcess startVfiod(List<String> extra, boolean awaitReady) {
        List<String> args = vfiodArgs(address(), modules);
        args.addAll(extra);
        return startVfiodWith(args, awaitReady);
    }

    /**
     * Starts vfiod with exactly {@code args}. Its --sysfs-root is this test's simulated tree, so it is the simulated
     * vfiod: the same daemon and command line, on the simulated kernel.
     */
    public synchronized VfiodProcess startVfiodWith(List<String> args, boolean awaitReady) {
        return startVfiodWith(List.of(), Map.of(), args, awaitReady);
    }

    /** Like {@link #startVfiodWith(List, boolean)}, with these JVM options (the unit's heap, say) and environment. */
    public synchronized VfiodProcess startVfiodWith(List<String> jvmOptions, Map<String, String> environment, List<String> args,
                                                    boolean awaitReady) {
        String name = "vfiod-" + (++counter);
        VfiodProcess v = VfiodProcess.start(name, VfiodProcess.SIMULATED_MAIN, jvmOptions, environment, args,
                dir.resolve(name + ".log"), false);
        daemons.add(v);
        started.push(v);
        if (awaitReady) v.awaitReady();
        if (vfiod == null && awaitReady) vfiod = v;
        return v;
    }

    // ---- clients --------------------------------------------------------------------------------------------------

    /** {@code gdbus call} of {@code method} ("interface.Member") on {@code path} of org.vfiod. */
    public Reply call(User user, String path, String method, String... args) {
        List<String> argv = new ArrayList<>(List.of("gdbus", "call", "--address", address(), "--timeout", "30",
                "--dest", BUS_NAME, "--object-path", path, "--method", method));
        // "--": an argument such as "-1" is an argument, not an option of gdbus
        argv.add("--");
        argv.addAll(List.of(args));
        return Cmd.run(user, Duration.ofSeconds(40), argv);
    }

    /** {@code gdbus call} of a Manager method. */
    public Reply manager(User user, String member, String... args) {
        return call(user, MANAGER, MANAGER_IFACE + "." + member, args);
    }

    /** {@code gdbus call} of a Device method on the device at {@code address}. */
    public Reply device(User user, String address, String member, String... args) {
        return call(user, devicePath(address), DEVICE_IFACE + "." + member, args);
    }

    /** Properties.Get with gdbus. */
    public Reply get(User user, String path, String iface, String property) {
        return call(user, path, "org.freedesktop.DBus.Properties.Get", iface, property);
    }

    /** A string property of a device, read as root. */
    public String deviceProperty(String address, String property) {
        return string(get(User.ROOT, devicePath(address), DEVICE_IFACE, property).assertOk());
    }

    /** {@code busctl --address=A ARGS...}. */
    public Reply busctl(User user, String... args) {
        List<String> argv = new ArrayList<>(List.of("busctl", "--address=" + address(), "--timeout=30"));
        argv.addAll(List.of(args));
        return Cmd.run(user, Duration.ofSeconds(40), argv);
    }

    /**
     * {@code dbus-send --print-reply} to org.vfiod: it sends whatever types it is given (gdbus checks them against the
     * introspection first) and prints the error name of a failed call.
     */
    public Reply dbusSend(User user, String path, String method, String... args) {
        List<String> argv = new ArrayList<>(List.of("dbus-send", "--print-reply", "--reply-timeout=30000",
                "--bus=" + address(), "--dest=" + BUS_NAME, path, method));
        argv.addAll(List.of(args));
        return Cmd.run(user, Duration.ofSeconds(40), argv);
    }

    /** {@code gdbus ARGS...} with --address added after the subcommand. */
    public Reply gdbus(User user, String subcommand, String... args) {
        List<String> argv = new ArrayList<>(List.of("gdbus", subcommand, "--address", address()));
        argv.addAll(List.of(args));
        return Cmd.run(user, Duration.ofSeconds(40), argv);
    }

    /** A gdbus call of a Manager method in the background, e.g. one that will hang. */
    public Proc managerInBackground(User user, String member, String... args) {
        List<String> argv = new ArrayList<>(List.of("gdbus", "call", "--address", address(), "--timeout", "60",
                "--dest", BUS_NAME, "--object-path", MANAGER, "--method", MANAGER_IFACE + "." + member, "--"));
        argv.addAll(List.of(args));
        Proc p = Cmd.start(user, argv);
        started.push(p);
        return p;
    }

    /** A gdbus call of {@code method} ("interface.Member") on {@code path} in the background, e.g. a device's Rebind. */
    public Proc callInBackground(User user, String path, String method, String... args) {
        List<String> argv = new ArrayList<>(List.of("gdbus", "call", "--address", address(), "--timeout", "60",
                "--dest", BUS_NAME, "--object-path", path, "--method", method, "--"));
        argv.addAll(List.of(args));
        Proc p = Cmd.start(user, argv);
        started.push(p);
        return p;
    }

    /** A signal monitor on org.vfiod, ready when this returns. */
    public synchronized SignalMonitor monitor() {
        SignalMonitor m = SignalMonitor.start(address(), BUS_NAME, dir.resolve("monitor-" + (++counter) + ".log"));
        monitors.add(m);
        started.push(m);
        return m;
    }

    /** Another private bus (same configuration, no polkitd), e.g. to kill it under a vfiod. */
    public synchronized PrivateSystemBus extraBus() {
        Path d = dir.resolve("bus-" + (++counter));
        try {
            Files.createDirectories(d);
            Files.setPosixFilePermissions(d, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        PrivateSystemBus b = PrivateSystemBus.start(d, Harness.projectRoot().resolve("packaging/dbus/org.vfiod.conf"));
        started.push(b);
        return b;
    }

    /** The single string of a gdbus reply such as {@code ('vfio-pci',)} or {@code (<'e1000e'>,)}. */
    public static String string(Reply r) {
        Matcher m = SINGLE_STRING.matcher(r.out().strip());
        if (!m.matches()) fail("expected one string in " + r.describe());
        return m.group(1);
    }

    // ---- the simulated sysfs --------------------------------------------------------------------------------------

    public Path deviceDir(String address) {
        return sim.root().resolve("devices/pci0000:00").resolve(address);
    }

    /** The driver the tree says the device is bound to ("" for none): the name its driver link points at. */
    public String driverOf(String address) {
        Path link = deviceDir(address).resolve("driver");
        try {
            if (!Files.isSymbolicLink(link)) return "";
            return Files.readSymbolicLink(link).getFileName().toString();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The device's driver_override file, stripped ("(null)" when unset, as the kernel shows it). */
    public String overrideOf(String address) {
        try {
            return Files.readString(deviceDir(address).resolve("driver_override")).strip();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public boolean deviceExists(String address) {
        return Files.exists(sim.root().resolve("bus/pci/devices").resolve(address), LinkOption.NOFOLLOW_LINKS);
    }

    public SysfsSnapshot snapshot() {
        return SysfsSnapshot.of(sim.root());
    }

    public void fault(String line) {
        try {
            sim.fault(line);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public void clearFaults() {
        try {
            sim.clearFaults();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    // ---- the end --------------------------------------------------------------------------------------------------

    /** Logs of what ran, for a failed test's report. */
    String diagnostics(String test) {
        StringBuilder b = new StringBuilder("---- vfiod-it diagnostics for ").append(test).append(" (").append(dir).append(")");
        for (VfiodProcess v : daemons) b.append("\n-- ").append(v.process().name()).append(" log:\n").append(v.log());
        for (SignalMonitor m : monitors) b.append("\n-- monitor:\n").append(String.join("\n", m.lines()));
        b.append("\n-- polkitd:\n").append(harness.polkitd().log());
        try {
            b.append("\n-- simulated kernel log:\n").append(sim.kernelLog());
        } catch (IOException e) {
            b.append("\n(no kernel log: ").append(e).append(')');
        }
        return b.toString();
    }

    @Override
    public void close() {
        // a hanging simulated unbind would hold vfiod's shutdown: release it first
        try {
            sim.clearFaults();
        } catch (IOException ignored) {
            // the tree may be gone
        }
        AutoCloseable c;
        while ((c = started.poll()) != null) {
            try {
                c.close();
            } catch (Exception e) {
                System.err.println("vfiod-it: closing " + c + " failed: " + e);
            }
        }
        harness.ensurePolkitd();
    }
}
