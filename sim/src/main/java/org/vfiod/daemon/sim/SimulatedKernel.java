package org.vfiod.daemon.sim;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.vfiod.daemon.sysfs.DriverName;
import org.vfiod.daemon.sysfs.KernelWriter;
import org.vfiod.daemon.sysfs.ModuleLoader;

/**
 * Gives writes to a sysfs-shaped folder the kernel's semantics for driver_override, unbind, bind and
 * drivers_probe, and loads "modules" from a catalog. The catalog and the faults to inject live beside the tree in
 * {@code .vfiod-sim/}, so a test, the demo and a daemon in another process all drive the same simulation:
 * <pre>
 * .vfiod-sim/drivers   DRIVER MODULE [bus:BUS] [vfio] [override-only] [no-bind-attrs] [needs-reset]
 *                      [param:NAME=VALUE ...] [VVVV:DDDD | class:CC | alias:GLOB ...]
 * .vfiod-sim/resets    the devices a vfio-platform reset exists for (a reset module for the compatible, or _RST)
 * .vfiod-sim/containers/NAME  the children a container (an fsl-mc DPRC) has while a driver holds it
 * .vfiod-sim/faults    probe-fail DRIVER [ADDR] | hang-unbind ADDR | vanish-on-unbind ADDR | modprobe-fail MODULE
 *                      | sigkill-after-write N | hang-modprobe MODULE
 *                      | fail-write ATTR ERRNO ADDR [nth N] | remove-on-write ATTR ADDR [nth N]
 * .vfiod-sim/writes    every write: PID ATTRIBUTE VALUE
 * .vfiod-sim/kernel.log  what the simulated kernel did (probes, binds), like dmesg
 * </pre>
 * ATTR is the attribute's file name ({@code driver_override}, {@code unbind}, {@code bind}, {@code drivers_probe})
 * and ADDR the device it is about: {@code fail-write} refuses the store with ERRNO ({@code EIO}, {@code ENODEV},
 * {@code EBUSY}, {@code EINVAL}) and changes nothing, as a kernel store returning that error would;
 * {@code remove-on-write} hot-removes the device just before the store, which then fails as on a device that is gone.
 * With {@code nth N} only the Nth such write of this kernel is hit (counted from the first one seen), so a test can
 * fail one step of a move, or one write of its rollback; without it, every such write is. A refused write is not
 * in {@code writes}; the kernel log says it was refused. {@code hang-modprobe} blocks the module load (only that
 * caller) until the line is gone.
 *
 * <p>Every bus is laid out alike ({@link SimTree}); what differs is kept to what the kernel's drivers do:
 * <ul>
 * <li>A vfio driver's probe fails without an IOMMU group ({@code vfio_iommu_group_get}: "No IOMMU group", -EINVAL).
 * <li>vfio-platform ({@code needs-reset}) fails its probe with -ENOENT, "No reset function found for device", when
 *     {@code module/vfio_platform/parameters/reset_required} is Y and no reset exists for the device.
 * <li>An fsl-mc DPRC is a bus: the driver that binds it scans the container and adds its children; unbinding it
 *     removes them ({@code dprc_remove_devices}). When that driver is vfio-fsl-mc, its bus notifier sets each child's
 *     driver_override to vfio-fsl-mc as the child is added ({@code BUS_NOTIFY_ADD_DEVICE}), so the children follow
 *     the container. A child is added with no override and probed when {@code drivers_autoprobe} is on. A child bound
 *     to vfio-fsl-mc while its container is not is accepted, as kernels since 5.19 do (5.10-5.18 refused it with
 *     -ENODEV); vfiod refuses it first.
 * <li>A driver with {@code suppress_bind_attrs} ({@code no-bind-attrs}) has no {@code bind} or {@code unbind} file.
 * </ul>
 */
public final class SimulatedKernel implements KernelWriter, ModuleLoader {
    public static final String CONTROL_DIR = ".vfiod-sim";

    private final Path root;
    private final Object lock = new Object();
    private final java.util.concurrent.atomic.AtomicInteger writes = new java.util.concurrent.atomic.AtomicInteger();

    public SimulatedKernel(Path root) throws IOException {
        this.root = root.toRealPath();
    }

    public static boolean isSimulated(Path root) {
        return Files.isDirectory(root.resolve(CONTROL_DIR));
    }

    record CatalogDriver(String name, String module, String bus, boolean vfio, boolean overrideOnly, boolean bindAttrs,
                         boolean needsReset, Map<String, String> params, List<String> ids) {
        /** Whether the driver's id table (or its module aliases) claims the device. */
        boolean matches(Path dev) throws IOException {
            if (!bus.equals(SimTree.busOf(dev))) return false;
            Optional<String> modalias = SimTree.modalias(dev);
            for (String id : ids) {
                if (id.startsWith("alias:")) {
                    if (modalias.isPresent() && glob(id.substring(6), modalias.get())) return true;
                    continue;
                }
                if (!bus.equals("pci")) continue;
                SimTree.Ids pci = SimTree.ids(dev);
                if (id.startsWith("class:") && id.substring(6).equalsIgnoreCase(String.format("%02x", pci.classCode() >> 16))) return true;
                if (id.equalsIgnoreCase(String.format("%04x:%04x", pci.vendor(), pci.device()))) return true;
            }
            return false;
        }
    }

    /** {@code *} and {@code ?} as fnmatch has them, enough for module aliases. */
    static boolean glob(String pattern, String text) {
        StringBuilder re = new StringBuilder();
        for (char c : pattern.toCharArray()) {
            if (c == '*') re.append(".*");
            else if (c == '?') re.append('.');
            else re.append(java.util.regex.Pattern.quote(String.valueOf(c)));
        }
        return text.matches(re.toString());
    }

    @Override
    public void write(Path attribute, String value) throws IOException {
        Path rel = root.relativize(attribute.toRealPath());
        injectWriteFaults(rel, value);
        apply(attribute, rel, value);
        afterWrite(rel, value);
    }

    /**
     * Every write is recorded in {@code .vfiod-sim/writes} with the writer's pid, and {@code sigkill-after-write N}
     * kills the writing process with a real SIGKILL once its Nth write has taken effect, as a crash, the OOM killer
     * or {@code systemctl kill} would: the crash tests' fault point.
     */
    private void afterWrite(Path rel, String value) throws IOException {
        long pid = ProcessHandle.current().pid();
        int n = writes.incrementAndGet();
        Files.writeString(root.resolve(CONTROL_DIR).resolve("writes"), pid + " " + rel + " " + value.strip() + "\n",
                StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        if (faults().contains("sigkill-after-write " + n)) {
            log("sigkill after write " + n + " (" + rel + " " + value.strip() + ") of pid " + pid);
            try {
                new ProcessBuilder("kill", "-KILL", Long.toString(pid)).inheritIO().start().waitFor();
                Thread.sleep(60_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            throw new IOException("the simulated crash did not kill pid " + pid);
        }
    }

    /** The kernel's messages for the errors a store can fail with, as the JDK reports a failed write(2). */
    private static final Map<String, String> STRERROR = Map.of("EIO", "Input/output error", "ENODEV", "No such device",
            "EBUSY", "Device or resource busy", "EINVAL", "Invalid argument", "ENOENT", "No such file or directory",
            "EPERM", "Operation not permitted");

    private final Map<String, Integer> seen = new HashMap<>();

    /** {@code fail-write} and {@code remove-on-write}: see the class comment. */
    private void injectWriteFaults(Path rel, String value) throws IOException {
        String attr = rel.getFileName().toString();
        // the device a write is about: the folder of its driver_override, or the address written to unbind, bind, drivers_probe
        String device = attr.equals("driver_override") ? rel.getParent().getFileName().toString() : value.strip();
        for (String line : faults()) {
            String[] t = line.split("\\s+");
            boolean fail = t[0].equals("fail-write") && t.length >= 4 && t[1].equals(attr) && t[3].equals(device);
            boolean remove = t[0].equals("remove-on-write") && t.length >= 3 && t[1].equals(attr) && t[2].equals(device);
            if (!fail && !remove) continue;
            int nth = nth(t, fail ? 4 : 3);
            int count;
            synchronized (seen) {
                count = seen.merge(line, 1, Integer::sum);
            }
            if (nth > 0 && count != nth) continue;
            if (remove) {
                synchronized (lock) {
                    SimTree.removeDevice(root, device);
                    SimTree.forget(root, device);
                }
                log(device + ": hot-removed before write " + count + " to its " + attr);
                continue;
            }
            String why = STRERROR.get(t[2]);
            if (why == null) throw new IllegalArgumentException("unknown errno in fault '" + line + "'");
            log(attr + " " + value.strip() + ": refused with " + t[2] + " (injected)");
            throw new IOException(why);
        }
    }

    private static int nth(String[] t, int at) {
        if (t.length < at + 2 || !t[at].equals("nth")) return 0;
        return Integer.parseInt(t[at + 1]);
    }

    private void apply(Path attribute, Path rel, String value) throws IOException {
        String v = value.strip();
        int n = rel.getNameCount();
        String file = rel.getFileName().toString();
        boolean onBus = n >= 3 && rel.getName(0).toString().equals("bus");
        String bus = onBus ? rel.getName(1).toString() : "";
        if (file.equals("driver_override")) {
            synchronized (lock) {
                Files.writeString(attribute, v.isEmpty() ? "(null)\n" : v + "\n", StandardOpenOption.TRUNCATE_EXISTING);
            }
        } else if (onBus && n == 5 && rel.getName(2).toString().equals("drivers") && file.equals("unbind")
                && listed(bus, v)) {
            unbind(bus, v, rel.getName(3).toString());
        } else if (onBus && n == 5 && rel.getName(2).toString().equals("drivers") && file.equals("bind") && listed(bus, v)) {
            synchronized (lock) {
                bind(bus, v, rel.getName(3).toString());
            }
        } else if (n == 5 && rel.startsWith("bus/platform/drivers") && (file.equals("unbind") || file.equals("bind"))) {
            // a firmware framebuffer laid out as a driver's link alone (SimulatedSysfs.bootFramebuffer)
            synchronized (lock) {
                Path link = attribute.getParent().resolve(v);
                if (file.equals("unbind")) {
                    if (!Files.isSymbolicLink(link)) throw new IOException("No such device");
                    Files.delete(link);
                } else {
                    if (Files.exists(link, java.nio.file.LinkOption.NOFOLLOW_LINKS)) throw new IOException("Device or resource busy");
                    Files.createSymbolicLink(link, Path.of("../../../../devices/platform").resolve(v));
                }
                log("platform " + rel.getName(3) + " " + v + ": " + file);
            }
        } else if (onBus && n == 3 && file.equals("drivers_probe")) {
            synchronized (lock) {
                probe(bus, v);
            }
        } else {
            synchronized (lock) {
                // sysfs shows an attribute's value with a newline, whatever was written
                Files.writeString(attribute, value.strip() + "\n", StandardOpenOption.TRUNCATE_EXISTING);
            }
        }
    }

    /** Whether {@code bus/<bus>/devices/<name>} exists: the bus's own device, as bind and unbind look it up. */
    private boolean listed(String bus, String name) {
        return !name.contains("/") && !name.isEmpty() && Files.exists(SimTree.busDir(root, bus).resolve("devices").resolve(name));
    }

    @Override
    public void load(DriverName module) throws IOException {
        // a modprobe that never returns (a module's init stuck on its hardware): only this caller waits
        while (faults().contains("hang-modprobe " + module.value())) {
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted");
            }
        }
        synchronized (lock) {
            if (faults().contains("modprobe-fail " + module.value())) {
                throw new IOException("modprobe: ERROR: could not insert '" + module + "': Operation not permitted");
            }
            boolean found = false;
            for (CatalogDriver d : catalog()) {
                if (!d.module().equals(module.value()) && !d.module().equals(module.value().replace('-', '_'))) continue;
                found = true;
                SimTree.loadDriver(root, d.bus(), d.name(), d.module(), d.bindAttrs(), d.params());
            }
            if (!found) throw new IOException("modprobe: FATAL: Module " + module + " not found");
            log("module " + module + " loaded");
        }
    }

    private void unbind(String bus, String address, String driver) throws IOException {
        Path dev = device(bus, address);
        // a hanging remove() blocks only this writer, as a device lock would, not the whole simulated kernel
        while (faults().contains("hang-unbind " + address)) {
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted");
            }
        }
        synchronized (lock) {
            if (!driver.equals(SimTree.driverOf(dev).orElse(null))) throw new IOException("No such device");
            SimTree.unlinkDriver(root, dev, driver);
            log(driver + " " + address + ": removed");
            removeChildren(address);
            if (faults().contains("vanish-on-unbind " + address)) {
                SimTree.removeDevice(root, address);
                SimTree.forget(root, address);
                log(address + ": device vanished");
            }
        }
    }

    private void bind(String bus, String address, String driver) throws IOException {
        Path dev = device(bus, address);
        if (SimTree.driverOf(dev).isPresent()) throw new IOException("Device or resource busy");
        CatalogDriver d = catalogDriver(driver).filter(x -> x.bus().equals(bus))
                .filter(x -> Files.isDirectory(SimTree.driverDir(root, bus, x.name())))
                .orElseThrow(() -> new IOException("No such device"));
        if (!allowed(dev, d)) throw new IOException("No such device");
        if (!tryProbe(dev, address, d)) throw new IOException("Input/output error");
    }

    /**
     * The bus's match: with a driver_override only the driver of that name; without one, a driver whose id table
     * claims the device, never an override-only one.
     */
    private static boolean allowed(Path dev, CatalogDriver d) throws IOException {
        Optional<String> override = SimTree.override(dev);
        return override.isPresent() ? override.get().equals(d.name()) : !d.overrideOnly() && d.matches(dev);
    }

    private void probe(String bus, String address) throws IOException {
        Path dev = device(bus, address);
        if (SimTree.driverOf(dev).isPresent()) return;
        for (CatalogDriver d : catalog()) {
            if (!d.bus().equals(bus) || !Files.isDirectory(SimTree.driverDir(root, bus, d.name()))) continue;
            // like the kernel: a failed probe leaves the device unbound and drivers_probe still returns success
            if (allowed(dev, d) && tryProbe(dev, address, d)) return;
        }
    }

    private boolean tryProbe(Path dev, String address, CatalogDriver d) throws IOException {
        log(d.name() + " " + address + ": probe");
        List<String> faults = faults();
        if (faults.contains("probe-fail " + d.name()) || faults.contains("probe-fail " + d.name() + " " + address)) {
            log(d.name() + " " + address + ": probe failed with error -5");
            return false;
        }
        // vfio_platform_probe_common looks for the reset before the group
        if (d.needsReset() && resetRequired(d) && !hasReset(address)) {
            log(d.name() + " " + address + ": No reset function found for device " + address);
            log(d.name() + " " + address + ": probe failed with error -2");
            return false;
        }
        if (d.vfio() && SimTree.groupOf(dev).isEmpty()) {
            if (!noIommuMode()) {
                log(d.name() + " " + address + ": No IOMMU group for device " + address);
                log(d.name() + " " + address + ": probe failed with error -22");
                return false;
            }
            int group = SimTree.addNoIommuGroup(root, dev);
            log(d.name() + " " + address + ": Adding kernel taint for vfio-noiommu group on device (group " + group + ")");
        }
        SimTree.linkDriver(root, dev, d.name(), d.vfio());
        addChildren(address, dev, d);
        return true;
    }

    /**
     * vfio's unsafe no-IOMMU mode ({@code module/vfio/parameters/enable_unsafe_noiommu_mode} Y): a vfio driver gives a
     * device without a group a fake one, named vfio-noiommu, for as long as it holds the device.
     */
    private boolean noIommuMode() throws IOException {
        Path p = root.resolve("module/vfio/parameters/enable_unsafe_noiommu_mode");
        return Files.exists(p) && Files.readString(p, StandardCharsets.US_ASCII).strip().equals("Y");
    }

    /** vfio-platform's {@code reset_required} parameter, as its module shows it now (Y unless loaded with 0). */
    private boolean resetRequired(CatalogDriver d) throws IOException {
        Path p = root.resolve("module").resolve(d.module()).resolve("parameters/reset_required");
        return !Files.exists(p) || Files.readString(p, StandardCharsets.US_ASCII).strip().equals("Y");
    }

    private boolean hasReset(String address) throws IOException {
        Path f = root.resolve(CONTROL_DIR).resolve("resets");
        return Files.exists(f) && Files.readAllLines(f, StandardCharsets.UTF_8).stream().map(String::strip).anyMatch(address::equals);
    }

    /** A container laid out bound at boot: its driver's scan adds its children now. */
    void scanContainer(String address) throws IOException {
        synchronized (lock) {
            Path dev = device(SimTree.busOf(SimTree.findDevice(root, address).orElseThrow()), address);
            String driver = SimTree.driverOf(dev).orElseThrow(() -> new IllegalStateException(address + " has no driver"));
            addChildren(address, dev, catalogDriver(driver).orElseThrow());
        }
    }

    private Path containerSpec(String address) {
        return root.resolve(CONTROL_DIR).resolve("containers").resolve(address);
    }

    /**
     * A driver bound a container: its scan adds the children (as fresh devices, without override), a vfio driver's
     * bus notifier sets each one's driver_override to itself, and each is probed if the bus autoprobes.
     */
    private void addChildren(String address, Path dev, CatalogDriver d) throws IOException {
        Path spec = containerSpec(address);
        if (!Files.exists(spec)) return;
        String bus = SimTree.busOf(dev);
        String parent = root.relativize(dev).toString();
        boolean autoprobe = Files.readString(SimTree.busDir(root, bus).resolve("drivers_autoprobe"), StandardCharsets.US_ASCII)
                .strip().equals("1");
        for (String line : Files.readAllLines(spec, StandardCharsets.UTF_8)) {
            if (line.isBlank()) continue;
            SimTree.Spec child = SimTree.Spec.parse(bus, parent, line);
            if (Files.exists(SimTree.busDir(root, bus).resolve("devices").resolve(child.name()))) continue;
            Path c = SimTree.addDevice(root, child);
            log(address + ": scanned, added " + child.name());
            if (d.vfio()) {
                Files.writeString(c.resolve("driver_override"), d.name() + "\n");
                log(child.name() + ": driver_override set to " + d.name() + " for device in dprc " + address);
            }
            if (autoprobe) probe(bus, child.name());
        }
    }

    /** The container's driver went: its children are removed, as {@code dprc_remove_devices} does. */
    private void removeChildren(String address) throws IOException {
        Path spec = containerSpec(address);
        if (!Files.exists(spec)) return;
        for (String line : Files.readAllLines(spec, StandardCharsets.UTF_8)) {
            if (line.isBlank()) continue;
            String child = line.strip().split(" ")[0];
            if (SimTree.findDevice(root, child).isEmpty()) continue;
            SimTree.removeDevice(root, child);
            log(address + ": removed child " + child);
        }
    }

    private Path device(String bus, String address) throws IOException {
        Path link = SimTree.busDir(root, bus).resolve("devices").resolve(address);
        if (address.contains("/") || !Files.exists(link)) throw new NoSuchFileException(address, null, "No such device");
        return link.toRealPath();
    }

    Optional<CatalogDriver> catalogDriver(String name) throws IOException {
        return catalog().stream().filter(d -> d.name().equals(name)).findFirst();
    }

    List<CatalogDriver> catalog() throws IOException {
        List<CatalogDriver> out = new ArrayList<>();
        Path f = root.resolve(CONTROL_DIR).resolve("drivers");
        if (!Files.exists(f)) return out;
        for (String line : Files.readAllLines(f, StandardCharsets.UTF_8)) {
            String[] t = line.strip().split("\\s+");
            if (t.length < 2 || t[0].startsWith("#")) continue;
            boolean vfio = false, overrideOnly = false, bindAttrs = true, needsReset = false;
            String bus = "pci";
            Map<String, String> params = new java.util.TreeMap<>();
            List<String> ids = new ArrayList<>();
            for (int i = 2; i < t.length; i++) {
                switch (t[i]) {
                    case "vfio" -> vfio = true;
                    case "override-only" -> overrideOnly = true;
                    case "no-bind-attrs" -> bindAttrs = false;
                    case "needs-reset" -> needsReset = true;
                    default -> {
                        if (t[i].startsWith("bus:")) bus = t[i].substring(4);
                        else if (t[i].startsWith("param:") && t[i].contains("=")) {
                            params.put(t[i].substring(6, t[i].indexOf('=')), t[i].substring(t[i].indexOf('=') + 1));
                        } else ids.add(t[i]);
                    }
                }
            }
            out.add(new CatalogDriver(t[0], t[1], bus, vfio, overrideOnly, bindAttrs, needsReset, params, ids));
        }
        return out;
    }

    private List<String> faults() throws IOException {
        Path f = root.resolve(CONTROL_DIR).resolve("faults");
        try {
            return Files.readAllLines(f, StandardCharsets.UTF_8).stream().map(String::strip).toList();
        } catch (NoSuchFileException none) {
            // no faults; also when a test clears them while a hanging write polls the file
            return List.of();
        }
    }

    private void log(String line) throws IOException {
        Files.writeString(root.resolve(CONTROL_DIR).resolve("kernel.log"), line + "\n", StandardCharsets.UTF_8,
                StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }
}
