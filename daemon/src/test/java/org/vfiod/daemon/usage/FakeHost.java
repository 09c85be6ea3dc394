package org.vfiod.daemon.usage;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashSet;
import java.util.Set;

/**
 * A sysfs, /proc and /dev in a folder, with what the kernel would show of devices in use: nodes beneath a device,
 * processes with their descriptors and mount namespaces, mount tables, swap, routes and addresses. Public for the
 * simulated kernel's tests (module {@code sim} has the daemon's test classes), which lay it beside a
 * {@code SimulatedSysfs} tree.
 */
public final class FakeHost {
    public static final String HOST_NAMESPACE = "mnt:[4026531841]";

    public final Path sys;
    public final Path proc;
    public final Path dev;
    /** The IPv4 addresses, for {@link FileInterfaceAddresses}. */
    public final Path ipv4File;
    /** The block names the fake exclusive-open check calls busy. */
    public final Set<String> busy = new HashSet<>();

    /** A host of its own in {@code dir}: sysfs in {@code dir/sys}. */
    public FakeHost(Path dir) throws IOException {
        this(Files.createDirectories(dir.resolve("sys")), dir);
        Files.createDirectories(sys.resolve("devices/pci0000:00"));
    }

    /** A /proc and /dev in {@code dir} for a sysfs tree that exists, such as a {@code SimulatedSysfs} one. */
    public FakeHost(Path sysfsRoot, Path dir) throws IOException {
        sys = sysfsRoot;
        proc = Files.createDirectories(dir.resolve("proc"));
        dev = Files.createDirectories(dir.resolve("dev"));
        ipv4File = dir.resolve("ipv4-addresses");
        Files.createDirectories(proc.resolve("self/ns"));
        Files.createSymbolicLink(proc.resolve("self/ns/mnt"), Path.of(HOST_NAMESPACE));
        Files.writeString(proc.resolve("self/mountinfo"), "");
        Files.createDirectories(proc.resolve("net"));
        Files.writeString(proc.resolve("swaps"), "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n");
        Files.writeString(proc.resolve("net/route"), "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n");
        Files.writeString(proc.resolve("net/ipv6_route"), "");
        Files.writeString(proc.resolve("net/if_inet6"), "");
    }

    public HostUseScanner scanner() {
        return scanner(ProcessTable.FdFolders.KERNEL);
    }

    /** The same, opening each {@code /proc/PID/fd} with {@code fdFolders}. */
    HostUseScanner scanner(ProcessTable.FdFolders fdFolders) {
        return new HostUseScanner(new HostPaths(sys, proc, dev), new FileInterfaceAddresses(ipv4File),
                node -> busy.contains(node.getFileName().toString()), fdFolders);
    }

    // ---- sysfs ------------------------------------------------------------------------------------------

    public Path device(String address) throws IOException {
        return Files.createDirectories(sys.resolve("devices/pci0000:00").resolve(address));
    }

    /** A folder with {@code dev} and a uevent naming the node, as the kernel makes for every device node. */
    public static Path node(Path folder, String majMin, String devName, String devType) throws IOException {
        Files.createDirectories(folder);
        Files.writeString(folder.resolve("dev"), majMin + "\n");
        String major = majMin.substring(0, majMin.indexOf(':'));
        String minor = majMin.substring(majMin.indexOf(':') + 1);
        Files.writeString(folder.resolve("uevent"), "MAJOR=" + major + "\nMINOR=" + minor + "\nDEVNAME=" + devName + "\n"
                + (devType == null ? "" : "DEVTYPE=" + devType + "\n"));
        return folder;
    }

    /** A disk at {@code relative} under the device: nvme/nvme0/nvme0n1, virtio1/block/vda, host0/.../block/sda. */
    public static Path disk(Path device, String relative, String majMin) throws IOException {
        Path folder = node(device.resolve(relative), majMin, Path.of(relative).getFileName().toString(), "disk");
        Files.createDirectories(folder.resolve("holders"));
        return folder;
    }

    public static Path partition(Path disk, String name, String majMin, int number) throws IOException {
        Path folder = node(disk.resolve(name), majMin, name, "partition");
        Files.writeString(folder.resolve("partition"), number + "\n");
        Files.createDirectories(folder.resolve("holders"));
        return folder;
    }

    public void holder(Path block, String holder) throws IOException {
        Files.createDirectories(sys.resolve("devices/virtual/block").resolve(holder));
        Files.createSymbolicLink(block.resolve("holders").resolve(holder), Path.of("../../../../../../virtual/block/" + holder));
    }

    public static Path netInterface(Path device, String name, int index, boolean up) throws IOException {
        Path folder = Files.createDirectories(device.resolve("net").resolve(name));
        Files.writeString(folder.resolve("ifindex"), index + "\n");
        Files.writeString(folder.resolve("operstate"), up ? "up\n" : "down\n");
        Files.writeString(folder.resolve("flags"), up ? "0x1003\n" : "0x1002\n");
        return folder;
    }

    public void master(Path iface, String master) throws IOException {
        Files.createDirectories(sys.resolve("devices/virtual/net").resolve(master));
        Files.createSymbolicLink(iface.resolve("master"), Path.of("../../../../virtual/net/" + master));
    }

    public void iommuGroup(Path device, int group) throws IOException {
        Files.createDirectories(sys.resolve("kernel/iommu_groups").resolve(Integer.toString(group)));
        Files.createSymbolicLink(device.resolve("iommu_group"), Path.of("../../../kernel/iommu_groups/" + group));
    }

    // ---- /proc ------------------------------------------------------------------------------------------

    public void process(int pid, String command, String mountNamespace) throws IOException {
        Path p = Files.createDirectories(proc.resolve(Integer.toString(pid)));
        Files.createDirectories(p.resolve("fd"));
        Files.createDirectories(p.resolve("ns"));
        Files.writeString(p.resolve("comm"), command + "\n");
        Files.createSymbolicLink(p.resolve("ns/mnt"), Path.of(mountNamespace));
        Files.writeString(p.resolve("mountinfo"), "");
    }

    public void open(int pid, int fd, String target) throws IOException {
        Files.createSymbolicLink(proc.resolve(Integer.toString(pid)).resolve("fd").resolve(Integer.toString(fd)), Path.of(target));
    }

    /** A mount in our own table, which stands for the host namespace's. */
    public void mount(String majMin, String source, String mountPoint) throws IOException {
        Files.writeString(proc.resolve("self/mountinfo"), mountLine(majMin, source, mountPoint), StandardOpenOption.APPEND);
    }

    public void mountIn(int pid, String majMin, String source, String mountPoint) throws IOException {
        Files.writeString(proc.resolve(Integer.toString(pid)).resolve("mountinfo"), mountLine(majMin, source, mountPoint),
                StandardOpenOption.APPEND);
    }

    public static String mountLine(String majMin, String source, String mountPoint) {
        return "36 25 " + majMin + " / " + mountPoint.replace(" ", "\\040") + " rw,relatime shared:1 - ext4 " + source + " rw\n";
    }

    public void swap(String path) throws IOException {
        Files.writeString(proc.resolve("swaps"), path + "                               partition\t8388604\t\t0\t\t-2\n",
                StandardOpenOption.APPEND);
    }

    public void ipv4DefaultRoute(String iface) throws IOException {
        Files.writeString(proc.resolve("net/route"), iface + "\t00000000\t0100000A\t0003\t0\t0\t100\t00000000\t0\t0\t0\n",
                StandardOpenOption.APPEND);
    }

    public void ipv4Route(String iface, String destination, String mask) throws IOException {
        Files.writeString(proc.resolve("net/route"), iface + "\t" + destination + "\t00000000\t0001\t0\t0\t100\t" + mask + "\t0\t0\t0\n",
                StandardOpenOption.APPEND);
    }

    public void ipv6DefaultRoute(String iface, boolean reject) throws IOException {
        Files.writeString(proc.resolve("net/ipv6_route"), "00000000000000000000000000000000 00 00000000000000000000000000000000 00 "
                + "fe800000000000000000000000000001 00000400 00000001 00000000 " + (reject ? "00200200" : "00000003") + " " + iface + "\n",
                StandardOpenOption.APPEND);
    }

    public void ipv6Address(int index, String iface, String hex32, int prefix, String scope) throws IOException {
        Files.writeString(proc.resolve("net/if_inet6"), String.format("%s %02x %02x %s 80 %8s%n", hex32, index, prefix, scope, iface),
                StandardOpenOption.APPEND);
    }

    public void ipv4Address(int index, String addressWithPrefix) throws IOException {
        Files.writeString(ipv4File, index + " " + addressWithPrefix + "\n", StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }
}
