package org.vfiod.daemon.sim;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.vfiod.daemon.sysfs.DriverName;
import org.vfiod.daemon.sysfs.KernelWriter;
import org.vfiod.daemon.sysfs.ModuleLoader;

/**
 * Gives writes to a sysfs-shaped folder the kernel's semantics for driver_override, unbind, bind and
 * drivers_probe, and loads "modules" from a catalog. The catalog and the faults to inject live beside the tree in
 * {@code .vfiod-sim/}, so a test, the demo and a daemon in another process all drive the same simulation:
 * <pre>
 * .vfiod-sim/drivers   DRIVER MODULE [vfio] [override-only] [VVVV:DDDD | class:CC ...]
 * .vfiod-sim/faults    probe-fail DRIVER [ADDR] | hang-unbind ADDR | vanish-on-unbind ADDR | modprobe-fail MODULE
 *                      | hang-modprobe MODULE | sigkill-after-write N
 * .vfiod-sim/writes    every write: PID ATTRIBUTE VALUE
 * .vfiod-sim/kernel.log  what the simulated kernel did (probes, binds), like dmesg
 * </pre>
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

    record CatalogDriver(String name, String module, boolean vfio, boolean overrideOnly, List<String> ids) {
        boolean matches(SimTree.Ids dev) {
            for (String id : ids) {
                if (id.startsWith("class:") && id.substring(6).equalsIgnoreCase(String.format("%02x", dev.classCode() >> 16))) return true;
                if (id.equalsIgnoreCase(String.format("%04x:%04x", dev.vendor(), dev.device()))) return true;
            }
            return false;
        }
    }

    @Override
    public void write(Path attribute, String value) throws IOException {
        Path rel = root.relativize(attribute.toRealPath());
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

    private void apply(Path attribute, Path rel, String value) throws IOException {
        String v = value.strip();
        int n = rel.getNameCount();
        if (rel.getFileName().toString().equals("driver_override")) {
            synchronized (lock) {
                Files.writeString(attribute, v.isEmpty() ? "(null)\n" : v + "\n", StandardOpenOption.TRUNCATE_EXISTING);
            }
        } else if (n == 5 && rel.startsWith("bus/pci/drivers") && rel.getFileName().toString().equals("unbind")) {
            unbind(v, rel.getName(3).toString());
        } else if (n == 5 && rel.startsWith("bus/pci/drivers") && rel.getFileName().toString().equals("bind")) {
            synchronized (lock) {
                bind(v, rel.getName(3).toString());
            }
        } else if (n == 5 && rel.startsWith("bus/platform/drivers")
                && (rel.getFileName().toString().equals("unbind") || rel.getFileName().toString().equals("bind"))) {
            synchronized (lock) {
                Path link = attribute.getParent().resolve(v);
                if (rel.getFileName().toString().equals("unbind")) {
                    if (!Files.isSymbolicLink(link)) throw new IOException("No such device");
                    Files.delete(link);
                } else {
                    if (Files.exists(link, java.nio.file.LinkOption.NOFOLLOW_LINKS)) throw new IOException("Device or resource busy");
                    Files.createSymbolicLink(link, Path.of("../../../../devices/platform").resolve(v));
                }
                log("platform " + rel.getName(3) + " " + v + ": " + rel.getFileName());
            }
        } else if (rel.toString().equals("bus/pci/drivers_probe")) {
            synchronized (lock) {
                probe(v);
            }
        } else {
            synchronized (lock) {
                // sysfs shows an attribute's value with a newline, whatever was written
                Files.writeString(attribute, value.strip() + "\n", StandardOpenOption.TRUNCATE_EXISTING);
            }
        }
    }

    @Override
    public void load(DriverName module) throws IOException {
        // a module init that does not return (hardware or firmware that does not answer) holds only this loader
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
                SimTree.loadDriver(root, d.name(), d.module());
            }
            if (!found) throw new IOException("modprobe: FATAL: Module " + module + " not found");
            log("module " + module + " loaded");
        }
    }

    private void unbind(String address, String driver) throws IOException {
        Path dev = device(address);
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
            if (faults().contains("vanish-on-unbind " + address)) {
                SimTree.removeDevice(root, address);
                log(address + ": device vanished");
            }
        }
    }

    private void bind(String address, String driver) throws IOException {
        Path dev = device(address);
        if (SimTree.driverOf(dev).isPresent()) throw new IOException("Device or resource busy");
        CatalogDriver d = catalogDriver(driver).filter(x -> Files.isDirectory(SimTree.driverDir(root, x.name())))
                .orElseThrow(() -> new IOException("No such device"));
        Optional<String> override = SimTree.override(dev);
        boolean allowed = override.map(driver::equals).orElse(!d.overrideOnly() && d.matches(SimTree.ids(dev)));
        if (!allowed) throw new IOException("No such device");
        if (!tryProbe(dev, address, d)) throw new IOException("Input/output error");
    }

    private void probe(String address) throws IOException {
        Path dev = device(address);
        if (SimTree.driverOf(dev).isPresent()) return;
        Optional<String> override = SimTree.override(dev);
        for (CatalogDriver d : catalog()) {
            if (!Files.isDirectory(SimTree.driverDir(root, d.name()))) continue;
            boolean candidate = override.map(d.name()::equals).orElse(!d.overrideOnly() && d.matches(SimTree.ids(dev)));
            // like the kernel: a failed probe leaves the device unbound and drivers_probe still returns success
            if (candidate && tryProbe(dev, address, d)) return;
        }
    }

    private boolean tryProbe(Path dev, String address, CatalogDriver d) throws IOException {
        log(d.name() + " " + address + ": probe");
        List<String> faults = faults();
        if (faults.contains("probe-fail " + d.name()) || faults.contains("probe-fail " + d.name() + " " + address)) {
            log(d.name() + " " + address + ": probe failed with error -5");
            return false;
        }
        SimTree.linkDriver(root, dev, d.name(), d.vfio());
        return true;
    }

    private Path device(String address) throws IOException {
        Path link = root.resolve("bus/pci/devices").resolve(address);
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
            boolean vfio = false, overrideOnly = false;
            List<String> ids = new ArrayList<>();
            for (int i = 2; i < t.length; i++) {
                switch (t[i]) {
                    case "vfio" -> vfio = true;
                    case "override-only" -> overrideOnly = true;
                    default -> ids.add(t[i]);
                }
            }
            out.add(new CatalogDriver(t[0], t[1], vfio, overrideOnly, ids));
        }
        return out;
    }

    private List<String> faults() throws IOException {
        Path f = root.resolve(CONTROL_DIR).resolve("faults");
        try {
            return Files.readAllLines(f, StandardCharsets.UTF_8).stream().map(String::strip).toList();
        } catch (NoSuchFileException none) {
            // no faults, or a test clearing them just now: a hanging write must end then, not fail
            return List.of();
        }
    }

    private void log(String line) throws IOException {
        Files.writeString(root.resolve(CONTROL_DIR).resolve("kernel.log"), line + "\n", StandardCharsets.UTF_8,
                StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }
}
