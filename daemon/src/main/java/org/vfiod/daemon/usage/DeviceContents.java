package org.vfiod.daemon.usage;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import org.vfiod.daemon.sysfs.KernelBus;

/**
 * What the kernel shows beneath one device's sysfs folder: its disks and partitions, its network interfaces and
 * every device node, found by walking the folder without following links (sysfs's links lead back up and
 * around). Any bus: a platform device's disks and interfaces are found as a PCI device's are. A nested device of a
 * bus vfiod moves devices on (a PCI device beneath a bridge, a platform device beneath a simple-bus one, an fsl-mc
 * object beneath its DPRC) is not walked: it moves, or not, on its own, and the caller asks about it separately.
 *
 * @param iommuGroup the name of the device's {@code iommu_group} link, the group number
 */
record DeviceContents(List<BlockDevice> blocks, List<NetInterface> interfaces, List<DeviceNode> nodes,
                      Optional<String> iommuGroup) {
    /** Deep enough for a USB disk's partition: usb1/1-1/1-1:1.0/host6/target6:0:0/6:0:0:0/block/sdb/sdb1. */
    private static final int MAX_DEPTH = 16;
    private static final int IFF_UP = 0x1;

    static DeviceContents read(Path device) throws IOException {
        List<Path> nodeFolders = new ArrayList<>();
        List<Path> netFolders = new ArrayList<>();
        Files.walkFileTree(device, EnumSet.noneOf(java.nio.file.FileVisitOption.class), MAX_DEPTH, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) {
                if (dir.equals(device)) return FileVisitResult.CONTINUE;
                if (isPciAddress(dir.getFileName().toString()) || isDeviceOfTheBusTable(dir)) return FileVisitResult.SKIP_SUBTREE;
                if (dir.getParent().getFileName().toString().equals("net") && Files.exists(dir.resolve("ifindex"))) {
                    netFolders.add(dir);
                    return FileVisitResult.SKIP_SUBTREE;
                }
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                if (attrs.isRegularFile() && file.getFileName().toString().equals("dev")) nodeFolders.add(file.getParent());
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path file, IOException e) {
                // sysfs folders come and go with the devices; what vanished uses nothing
                return FileVisitResult.CONTINUE;
            }
        });
        List<BlockDevice> blocks = new ArrayList<>();
        List<DeviceNode> nodes = new ArrayList<>();
        for (Path folder : nodeFolders) {
            Optional<DeviceNumber> number = KernelFiles.read(folder.resolve("dev")).flatMap(DeviceNumber::parse);
            if (number.isEmpty()) continue;
            Map<String, String> uevent = uevent(folder);
            String name = folder.getFileName().toString();
            String devName = uevent.getOrDefault("DEVNAME", defaultDevName(folder));
            nodes.add(new DeviceNode(devName, number.get()));
            if (isBlock(folder, uevent)) {
                boolean partition = Files.exists(folder.resolve("partition"));
                String disk = partition ? folder.getParent().getFileName().toString() : name;
                blocks.add(new BlockDevice(folder, name, devName, number.get(), names(folder.resolve("holders")), disk));
            }
        }
        blocks.sort(Comparator.comparing(BlockDevice::number));
        nodes.sort(Comparator.comparing(DeviceNode::devName, NaturalOrder.INSTANCE));
        List<NetInterface> interfaces = new ArrayList<>();
        for (Path folder : netFolders) interfaces.add(netInterface(folder));
        interfaces.sort(Comparator.comparing(NetInterface::name, NaturalOrder.INSTANCE));
        return new DeviceContents(List.copyOf(blocks), List.copyOf(interfaces), List.copyOf(nodes), KernelFiles.linkName(device.resolve("iommu_group")));
    }

    /** Without a DEVNAME (a tree not written by the kernel) the folder's name, but a VFIO cdev lives in a folder of its own. */
    private static String defaultDevName(Path folder) {
        String name = folder.getFileName().toString();
        return folder.getParent().getFileName().toString().equals("vfio-dev") ? "vfio/devices/" + name : name;
    }

    private static boolean isBlock(Path folder, Map<String, String> uevent) {
        String type = uevent.getOrDefault("DEVTYPE", "");
        if (type.equals("disk") || type.equals("partition")) return true;
        if (folder.getParent().getFileName().toString().equals("block")) return true;
        if (Files.exists(folder.resolve("partition"))) return true;
        return KernelFiles.linkName(folder.resolve("subsystem")).filter("block"::equals).isPresent();
    }

    private static NetInterface netInterface(Path folder) throws IOException {
        int index = KernelFiles.read(folder.resolve("ifindex")).map(String::strip).map(DeviceContents::parseIntOrMinus).orElse(-1);
        boolean operUp = KernelFiles.read(folder.resolve("operstate")).map(String::strip).filter("up"::equals).isPresent();
        int flags = KernelFiles.read(folder.resolve("flags")).map(String::strip).map(DeviceContents::parseFlags).orElse(0);
        return new NetInterface(folder.getFileName().toString(), index, operUp || (flags & IFF_UP) != 0,
                KernelFiles.linkName(folder.resolve("master")));
    }

    private static int parseIntOrMinus(String text) {
        try {
            return Integer.parseInt(text);
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private static int parseFlags(String text) {
        try {
            return Integer.decode(text);
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    /** A folder that is a device of a bus vfiod moves devices on: its {@code subsystem} link names such a bus. */
    private static boolean isDeviceOfTheBusTable(Path dir) {
        Path link = dir.resolve("subsystem");
        if (!Files.isSymbolicLink(link)) return false;
        return KernelFiles.linkName(link).flatMap(KernelBus::named).isPresent();
    }

    static boolean isPciAddress(String name) {
        // dddd:bb:dd.f, in hex
        if (name.length() != 12 || name.charAt(4) != ':' || name.charAt(7) != ':' || name.charAt(10) != '.') return false;
        for (int i = 0; i < name.length(); i++) {
            if (i == 4 || i == 7 || i == 10) continue;
            if (Character.digit(name.charAt(i), 16) < 0) return false;
        }
        return true;
    }

    private static Map<String, String> uevent(Path folder) throws IOException {
        Map<String, String> values = new HashMap<>();
        for (String line : KernelFiles.read(folder.resolve("uevent")).orElse("").split("\n")) {
            int eq = line.indexOf('=');
            if (eq > 0) values.put(line.substring(0, eq), line.substring(eq + 1).strip());
        }
        return values;
    }

    private static List<String> names(Path folder) throws IOException {
        if (!Files.isDirectory(folder)) return List.of();
        TreeSet<String> out = new TreeSet<>(NaturalOrder.INSTANCE);
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(folder)) {
            for (Path e : entries) out.add(e.getFileName().toString());
        } catch (NoSuchFileException e) {
            return List.of();
        }
        return List.copyOf(out);
    }
}
