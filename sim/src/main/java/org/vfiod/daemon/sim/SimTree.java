package org.vfiod.daemon.sim;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/** The on-disk layout of the simulated sysfs: the same folders and relative links as the kernel's. */
final class SimTree {
    private SimTree() {
    }

    record Ids(int vendor, int device, int classCode) {
    }

    static Path devicesDir(Path root) {
        return root.resolve("devices/pci0000:00");
    }

    static Path driverDir(Path root, String driver) {
        return root.resolve("bus/pci/drivers").resolve(driver);
    }

    static void loadDriver(Path root, String driver, String module) throws IOException {
        Path dir = driverDir(root, driver);
        Files.createDirectories(dir);
        for (String attr : new String[] {"bind", "unbind", "new_id", "remove_id", "uevent"}) {
            if (!Files.exists(dir.resolve(attr))) Files.createFile(dir.resolve(attr));
        }
        Path mod = root.resolve("module").resolve(module);
        Files.createDirectories(mod.resolve("drivers"));
        relink(mod.resolve("drivers").resolve("pci:" + driver), Path.of("../../../bus/pci/drivers").resolve(driver));
        relink(dir.resolve("module"), Path.of("../../../../module").resolve(module));
    }

    static Optional<String> driverOf(Path dev) throws IOException {
        Path link = dev.resolve("driver");
        if (!Files.isSymbolicLink(link)) return Optional.empty();
        return Optional.of(Files.readSymbolicLink(link).getFileName().toString());
    }

    static Optional<String> override(Path dev) throws IOException {
        String v = Files.readString(dev.resolve("driver_override"), StandardCharsets.US_ASCII).strip();
        return v.isEmpty() || v.equals("(null)") ? Optional.empty() : Optional.of(v);
    }

    static Ids ids(Path dev) throws IOException {
        return new Ids(hex(dev.resolve("vendor")), hex(dev.resolve("device")), hex(dev.resolve("class")));
    }

    static void linkDriver(Path root, Path dev, String driver, boolean vfio) throws IOException {
        String address = dev.getFileName().toString();
        relink(dev.resolve("driver"), Path.of("../../../bus/pci/drivers").resolve(driver));
        relink(driverDir(root, driver).resolve(address), Path.of("../../../../devices/pci0000:00").resolve(address));
        if (!vfio) return;
        String cdev = "vfio" + vfioIndex(root, address);
        Path vfioDev = Files.createDirectories(dev.resolve("vfio-dev").resolve(cdev));
        // a device number: the kernel (6.2+, CONFIG_VFIO_DEVICE_CDEV) makes /dev/vfio/devices/vfioN for it
        Files.writeString(vfioDev.resolve("dev"), "511:" + vfioIndex(root, address) + "\n");
        Optional<Path> devRoot = devRoot(root);
        if (devRoot.isEmpty()) return;
        Optional<String> group = groupOf(dev);
        if (group.isPresent()) node(devRoot.get().resolve("vfio").resolve(group.get()));
        node(devRoot.get().resolve("vfio/devices").resolve(cdev));
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

    private static Optional<String> groupOf(Path dev) throws IOException {
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
        Files.deleteIfExists(driverDir(root, driver).resolve(dev.getFileName().toString()));
        Optional<Path> devRoot = devRoot(root);
        Path vfioDev = dev.resolve("vfio-dev");
        if (devRoot.isPresent() && Files.isDirectory(vfioDev)) {
            try (DirectoryStream<Path> s = Files.newDirectoryStream(vfioDev)) {
                for (Path c : s) Files.deleteIfExists(devRoot.get().resolve("vfio/devices").resolve(c.getFileName().toString()));
            }
            // the group's node goes with the last of its devices on a vfio driver
            Optional<String> group = groupOf(dev);
            if (group.isPresent() && !anotherOnVfio(root, group.get(), dev)) {
                Files.deleteIfExists(devRoot.get().resolve("vfio").resolve(group.get()));
            }
        }
        deleteTree(vfioDev);
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

    static void removeDevice(Path root, String address) throws IOException {
        Path dev = devicesDir(root).resolve(address);
        Optional<String> driver = Files.isDirectory(dev) ? driverOf(dev) : Optional.empty();
        if (driver.isPresent()) unlinkDriver(root, dev, driver.get());
        Files.deleteIfExists(root.resolve("bus/pci/devices").resolve(address));
        Path groups = root.resolve("kernel/iommu_groups");
        if (Files.isDirectory(groups)) {
            try (DirectoryStream<Path> gs = Files.newDirectoryStream(groups)) {
                for (Path g : gs) Files.deleteIfExists(g.resolve("devices").resolve(address));
            }
        }
        deleteTree(dev);
    }

    static void relink(Path link, Path target) throws IOException {
        Files.deleteIfExists(link);
        Files.createSymbolicLink(link, target);
    }

    static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) return;
        if (Files.isDirectory(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            try (DirectoryStream<Path> s = Files.newDirectoryStream(p)) {
                for (Path c : s) deleteTree(c);
            }
        }
        Files.delete(p);
    }

    private static int vfioIndex(Path root, String address) {
        // stable per device, like the kernel's vfio device numbering within one boot
        return Math.abs(address.hashCode() % 1000);
    }

    private static int hex(Path p) throws IOException {
        String v = Files.readString(p, StandardCharsets.US_ASCII).strip();
        return Integer.parseUnsignedInt(v.startsWith("0x") ? v.substring(2) : v, 16);
    }
}
