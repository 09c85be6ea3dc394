package org.vfiod.daemon.sim;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * The on-disk layout of the simulated sysfs: the same folders and relative links as the kernel's, on every bus.
 * A device's bus is its {@code subsystem} link, as in the kernel; a device folder without one (trees laid out
 * before the other buses) is PCI's.
 */
final class SimTree {
    private SimTree() {
    }

    record Ids(int vendor, int device, int classCode) {
    }

    /**
     * A device as the kernel adds it: its bus and name, the folder it sits in (relative to the root), its modalias
     * (none for a device that has no such attribute, like a CDX bus device), IOMMU group, and other attributes.
     */
    record Spec(String bus, String name, String parent, Optional<String> modalias, OptionalInt group, Map<String, String> attrs) {
        /** One line of a container's children: {@code NAME MODALIAS GROUP|-}, enough to add the child again. */
        String line() {
            return name + " " + modalias.orElse("-") + " " + (group.isPresent() ? Integer.toString(group.getAsInt()) : "-");
        }

        static Spec parse(String bus, String parent, String line) {
            String[] t = line.strip().split(" ");
            return new Spec(bus, t[0], parent, t[1].equals("-") ? Optional.empty() : Optional.of(t[1]),
                    t[2].equals("-") ? OptionalInt.empty() : OptionalInt.of(Integer.parseInt(t[2])), Map.of());
        }
    }

    /** Where PCI devices sit: one host bridge is enough for the simulation. */
    static Path devicesDir(Path root) {
        return root.resolve("devices/pci0000:00");
    }

    static Path busDir(Path root, String bus) {
        return root.resolve("bus").resolve(bus);
    }

    static Path driverDir(Path root, String driver) {
        return driverDir(root, "pci", driver);
    }

    static Path driverDir(Path root, String bus, String driver) {
        return busDir(root, bus).resolve("drivers").resolve(driver);
    }

    /** {@code bus/<b>/{devices,drivers}}, {@code drivers_probe}, and {@code drivers_autoprobe} on (the kernel's default). */
    static void addBus(Path root, String bus) throws IOException {
        Path dir = busDir(root, bus);
        Files.createDirectories(dir.resolve("devices"));
        Files.createDirectories(dir.resolve("drivers"));
        if (!Files.exists(dir.resolve("drivers_probe"))) Files.createFile(dir.resolve("drivers_probe"));
        if (!Files.exists(dir.resolve("drivers_autoprobe"))) Files.writeString(dir.resolve("drivers_autoprobe"), "1\n");
    }

    /**
     * A driver registers: {@code bus/<b>/drivers/<d>} with {@code bind} and {@code unbind} unless it suppresses them
     * ({@code suppress_bind_attrs}: the kernel then makes neither file), and {@code module/<m>/drivers/<b>:<d>}, with
     * the module's parameters.
     */
    static void loadDriver(Path root, String bus, String driver, String module, boolean bindAttrs, Map<String, String> params)
            throws IOException {
        addBus(root, bus);
        Path dir = driverDir(root, bus, driver);
        Files.createDirectories(dir);
        List<String> attrs = new ArrayList<>(List.of("uevent"));
        if (bindAttrs) attrs.addAll(List.of("bind", "unbind"));
        // new_id and remove_id are PCI's (and a few other buses'); the others have no dynamic ids
        if (bus.equals("pci")) attrs.addAll(List.of("new_id", "remove_id"));
        for (String attr : attrs) {
            if (!Files.exists(dir.resolve(attr))) Files.createFile(dir.resolve(attr));
        }
        Path mod = root.resolve("module").resolve(module);
        Files.createDirectories(mod.resolve("drivers"));
        relink(mod.resolve("drivers").resolve(bus + ":" + driver), Path.of("../../../bus").resolve(bus).resolve("drivers").resolve(driver));
        relink(dir.resolve("module"), Path.of("../../../../module").resolve(module));
        if (!params.isEmpty()) {
            Path p = Files.createDirectories(mod.resolve("parameters"));
            for (Map.Entry<String, String> e : params.entrySet()) {
                if (!Files.exists(p.resolve(e.getKey()))) Files.writeString(p.resolve(e.getKey()), e.getValue() + "\n");
            }
        }
    }

    /** Adds a device folder with its attributes and links, as {@code device_add} would; no driver yet. */
    static Path addDevice(Path root, Spec s) throws IOException {
        addBus(root, s.bus());
        Path dev = root.resolve(s.parent()).resolve(s.name());
        Files.createDirectories(dev);
        relink(dev.resolve("subsystem"), dev.relativize(busDir(root, s.bus())));
        if (s.modalias().isPresent()) {
            write(dev.resolve("modalias"), s.modalias().get() + "\n");
            write(dev.resolve("driver_override"), "(null)\n");
            write(dev.resolve("uevent"), "MODALIAS=" + s.modalias().get() + "\n");
        }
        for (Map.Entry<String, String> a : s.attrs().entrySet()) {
            Files.createDirectories(dev.resolve(a.getKey()).getParent());
            Files.writeString(dev.resolve(a.getKey()), a.getValue(), StandardCharsets.ISO_8859_1);
        }
        Path link = busDir(root, s.bus()).resolve("devices").resolve(s.name());
        relink(link, link.getParent().relativize(dev));
        if (s.group().isPresent()) joinGroup(root, dev, s.group().getAsInt());
        return dev;
    }

    static void joinGroup(Path root, Path dev, int group) throws IOException {
        Path g = root.resolve("kernel/iommu_groups").resolve(Integer.toString(group));
        Path members = Files.createDirectories(g.resolve("devices"));
        Path member = members.resolve(dev.getFileName().toString());
        relink(member, members.relativize(dev));
        relink(dev.resolve("iommu_group"), dev.relativize(g));
    }

    /** The device's bus: where its {@code subsystem} link points, or PCI for a folder without one. */
    static String busOf(Path dev) throws IOException {
        Path link = dev.resolve("subsystem");
        if (!Files.isSymbolicLink(link)) return "pci";
        return Files.readSymbolicLink(link).getFileName().toString();
    }

    static Optional<String> driverOf(Path dev) throws IOException {
        Path link = dev.resolve("driver");
        if (!Files.isSymbolicLink(link)) return Optional.empty();
        return Optional.of(Files.readSymbolicLink(link).getFileName().toString());
    }

    static Optional<String> override(Path dev) throws IOException {
        Path f = dev.resolve("driver_override");
        if (!Files.exists(f)) return Optional.empty();
        String v = Files.readString(f, StandardCharsets.US_ASCII).strip();
        return v.isEmpty() || v.equals("(null)") ? Optional.empty() : Optional.of(v);
    }

    static Optional<String> modalias(Path dev) throws IOException {
        Path f = dev.resolve("modalias");
        return Files.exists(f) ? Optional.of(Files.readString(f, StandardCharsets.US_ASCII).strip()) : Optional.empty();
    }

    static Ids ids(Path dev) throws IOException {
        return new Ids(hex(dev.resolve("vendor")), hex(dev.resolve("device")), hex(dev.resolve("class")));
    }

    static void linkDriver(Path root, Path dev, String driver, boolean vfio) throws IOException {
        String name = dev.getFileName().toString();
        Path drv = driverDir(root, busOf(dev), driver);
        relink(dev.resolve("driver"), dev.relativize(drv));
        relink(drv.resolve(name), drv.relativize(dev));
        if (!vfio) return;
        String cdev = "vfio" + vfioIndex(root, name);
        Path vfioDev = Files.createDirectories(dev.resolve("vfio-dev").resolve(cdev));
        // a device number: the kernel (6.2+, CONFIG_VFIO_DEVICE_CDEV) makes /dev/vfio/devices/vfioN for it
        Files.writeString(vfioDev.resolve("dev"), "511:" + vfioIndex(root, name) + "\n");
        Optional<Path> devRoot = devRoot(root);
        if (devRoot.isEmpty()) return;
        Optional<String> group = groupOf(dev);
        if (group.isPresent()) node(devRoot.get().resolve("vfio").resolve(groupNode(root, group.get())));
        node(devRoot.get().resolve("vfio/devices").resolve(cdev));
    }

    /** The group's node under /dev/vfio: {@code N}, or {@code noiommu-N} for a no-IOMMU group, as vfio names them. */
    private static String groupNode(Path root, String group) throws IOException {
        return isNoIommu(root, group) ? "noiommu-" + group : group;
    }

    private static boolean isNoIommu(Path root, String group) throws IOException {
        Path name = root.resolve("kernel/iommu_groups").resolve(group).resolve("name");
        return Files.exists(name) && Files.readString(name, StandardCharsets.US_ASCII).strip().equals("vfio-noiommu");
    }

    /**
     * vfio's fake group for a device without one, in no-IOMMU mode: the lowest free group number (the kernel's ida),
     * named vfio-noiommu; it goes when the vfio driver lets the device go.
     */
    static int addNoIommuGroup(Path root, Path dev) throws IOException {
        int n = 0;
        while (Files.exists(root.resolve("kernel/iommu_groups").resolve(Integer.toString(n)))) n++;
        joinGroup(root, dev, n);
        Files.writeString(root.resolve("kernel/iommu_groups").resolve(Integer.toString(n)).resolve("name"), "vfio-noiommu\n");
        return n;
    }

    /**
     * Where the simulated kernel makes its device nodes (regular files, mode 0600 as devtmpfs makes them): the
     * folder named in {@code .vfiod-sim/dev-root}, or none.
     */
    static Optional<Path> devRoot(Path root) throws IOException {
        Path f = root.resolve(SimulatedKernel.CONTROL_DIR).resolve("dev-root");
        if (!Files.exists(f)) return Optional.empty();
        return Optional.of(Path.of(Files.readString(f, StandardCharsets.UTF_8).strip()));
    }

    static Optional<String> groupOf(Path dev) throws IOException {
        Path link = dev.resolve("iommu_group");
        if (!Files.isSymbolicLink(link)) return Optional.empty();
        return Optional.of(Files.readSymbolicLink(link).getFileName().toString());
    }

    private static void node(Path p) throws IOException {
        Files.createDirectories(p.getParent());
        if (Files.exists(p)) return;
        Files.createFile(p);
        Files.setPosixFilePermissions(p, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
    }

    static void unlinkDriver(Path root, Path dev, String driver) throws IOException {
        Files.deleteIfExists(dev.resolve("driver"));
        Files.deleteIfExists(driverDir(root, busOf(dev), driver).resolve(dev.getFileName().toString()));
        Optional<Path> devRoot = devRoot(root);
        Path vfioDev = dev.resolve("vfio-dev");
        if (devRoot.isPresent() && Files.isDirectory(vfioDev)) {
            try (DirectoryStream<Path> s = Files.newDirectoryStream(vfioDev)) {
                for (Path c : s) Files.deleteIfExists(devRoot.get().resolve("vfio/devices").resolve(c.getFileName().toString()));
            }
            // the group's node goes with the last of its devices on a vfio driver
            Optional<String> group = groupOf(dev);
            if (group.isPresent() && !anotherOnVfio(root, group.get(), dev)) {
                Files.deleteIfExists(devRoot.get().resolve("vfio").resolve(groupNode(root, group.get())));
            }
        }
        deleteTree(vfioDev);
        // a no-IOMMU group lives as long as the vfio driver holds the device
        Optional<String> group = groupOf(dev);
        if (group.isPresent() && isNoIommu(root, group.get())) {
            Files.deleteIfExists(dev.resolve("iommu_group"));
            deleteTree(root.resolve("kernel/iommu_groups").resolve(group.get()));
        }
    }

    private static boolean anotherOnVfio(Path root, String group, Path dev) throws IOException {
        Path members = root.resolve("kernel/iommu_groups").resolve(group).resolve("devices");
        if (!Files.isDirectory(members)) return false;
        try (DirectoryStream<Path> s = Files.newDirectoryStream(members)) {
            for (Path m : s) {
                if (m.getFileName().equals(dev.getFileName())) continue;
                if (Files.isDirectory(m.resolve("vfio-dev"))) return true;
            }
        }
        return false;
    }

    /** The folder of the device the kernel calls {@code name} on any bus, or empty. */
    static Optional<Path> findDevice(Path root, String name) throws IOException {
        Path buses = root.resolve("bus");
        if (!Files.isDirectory(buses)) return Optional.empty();
        try (DirectoryStream<Path> bs = Files.newDirectoryStream(buses)) {
            for (Path b : bs) {
                Path link = b.resolve("devices").resolve(name);
                if (Files.exists(link)) return Optional.of(link.toRealPath());
            }
        }
        return Optional.empty();
    }

    /**
     * Removes a device as {@code device_del} would: the devices beneath it first (a container's objects), then its
     * driver, its bus and group entries, and its folder.
     */
    static void removeDevice(Path root, String name) throws IOException {
        Optional<Path> found = findDevice(root, name);
        Path dev = found.orElse(devicesDir(root).resolve(name));
        for (String child : devicesBeneath(root, dev)) removeDevice(root, child);
        String bus = Files.isDirectory(dev) ? busOf(dev) : "pci";
        Optional<String> driver = Files.isDirectory(dev) ? driverOf(dev) : Optional.empty();
        if (driver.isPresent()) unlinkDriver(root, dev, driver.get());
        Files.deleteIfExists(busDir(root, bus).resolve("devices").resolve(name));
        Path groups = root.resolve("kernel/iommu_groups");
        if (Files.isDirectory(groups)) {
            try (DirectoryStream<Path> gs = Files.newDirectoryStream(groups)) {
                for (Path g : gs) Files.deleteIfExists(g.resolve("devices").resolve(name));
            }
        }
        deleteTree(dev);
    }

    /** The names of the devices, of any bus, whose folders sit beneath {@code dev}'s. */
    static List<String> devicesBeneath(Path root, Path dev) throws IOException {
        List<String> out = new ArrayList<>();
        Path buses = root.resolve("bus");
        if (!Files.isDirectory(buses) || !Files.isDirectory(dev)) return out;
        try (DirectoryStream<Path> bs = Files.newDirectoryStream(buses)) {
            for (Path b : bs) {
                if (!Files.isDirectory(b.resolve("devices"))) continue;
                try (DirectoryStream<Path> ds = Files.newDirectoryStream(b.resolve("devices"))) {
                    for (Path link : ds) {
                        if (!Files.isSymbolicLink(link)) continue;
                        Path target = link.getParent().resolve(Files.readSymbolicLink(link)).normalize();
                        if (!target.equals(dev) && target.startsWith(dev)) out.add(link.getFileName().toString());
                    }
                }
            }
        }
        return out;
    }

    /**
     * A device gone from the machine for good (hot-unplugged, destroyed): no container's scan adds it again. A device
     * its container's driver removes is not forgotten: the next scan finds it.
     */
    static void forget(Path root, String name) throws IOException {
        Path containers = root.resolve(SimulatedKernel.CONTROL_DIR).resolve("containers");
        if (!Files.isDirectory(containers)) return;
        try (DirectoryStream<Path> cs = Files.newDirectoryStream(containers)) {
            for (Path c : cs) {
                List<String> lines = Files.readAllLines(c, StandardCharsets.UTF_8);
                List<String> kept = lines.stream().filter(l -> !l.strip().split(" ")[0].equals(name)).toList();
                if (kept.size() != lines.size()) Files.write(c, kept, StandardCharsets.UTF_8);
            }
        }
        // a container gone takes its children's record with it
        Files.deleteIfExists(containers.resolve(name));
    }

    static void relink(Path link, Path target) throws IOException {
        Files.deleteIfExists(link);
        Files.createSymbolicLink(link, target);
    }

    static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) return;
        if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
            try (DirectoryStream<Path> s = Files.newDirectoryStream(p)) {
                for (Path c : s) deleteTree(c);
            }
        }
        Files.delete(p);
    }

    private static int vfioIndex(Path root, String name) {
        // stable per device, like the kernel's vfio device numbering within one boot
        return Math.abs(name.hashCode() % 1000);
    }

    private static void write(Path p, String s) throws IOException {
        Files.writeString(p, s, StandardCharsets.US_ASCII);
    }

    private static int hex(Path p) throws IOException {
        String v = Files.readString(p, StandardCharsets.US_ASCII).strip();
        return Integer.parseUnsignedInt(v.startsWith("0x") ? v.substring(2) : v, 16);
    }
}
