package org.vfiod.daemon.usage;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Who is using a device: the host (its disks mounted, swapped on, stacked or held open exclusively; its network
 * interfaces in service; its nodes open) or, for a device on a vfio driver, a VM (its VFIO nodes open).
 *
 * <p>One check reads each device's sysfs folder, then {@code /proc} once for all of them: every process's
 * descriptors (for every node of interest at once) and mount namespace, each distinct namespace's mount table, and
 * the swap, route and address files. Nothing is cached between checks.
 */
public final class HostUseScanner {
    private static final Logger LOG = LoggerFactory.getLogger(HostUseScanner.class);

    private final HostPaths paths;
    private final InterfaceAddresses ipv4;
    private final ExclusiveOpen exclusiveOpen;
    private final ProcessTable processes;

    public HostUseScanner(HostPaths paths, InterfaceAddresses ipv4, ExclusiveOpen exclusiveOpen) {
        this(paths, ipv4, exclusiveOpen, ProcessTable.FdFolders.KERNEL);
    }

    /** {@code fdFolders}: how each {@code /proc/PID/fd} is opened (a test refuses some). */
    HostUseScanner(HostPaths paths, InterfaceAddresses ipv4, ExclusiveOpen exclusiveOpen, ProcessTable.FdFolders fdFolders) {
        this.paths = paths;
        this.ipv4 = ipv4;
        this.exclusiveOpen = exclusiveOpen;
        this.processes = new ProcessTable(paths.proc(), fdFolders);
    }

    /** This host's /sys, /proc and /dev, its addresses from rtnetlink and the kernel's EBUSY. */
    public static HostUseScanner forThisHost() {
        return new HostUseScanner(HostPaths.real(), new NetlinkAddresses(), new KernelExclusiveOpen());
    }

    public List<HostUse> scan(Path device, boolean onVfioDriver) throws IOException {
        return scan(List.of(new DeviceFolder(device, onVfioDriver)));
    }

    /**
     * Every use of the devices (those that would move together), without duplicates, in a stable order: by kind
     * (mounts, swap, holders, exclusive opens, interfaces in service, enslaved interfaces, open nodes, open VFIO
     * nodes), then by name and pid. Empty when nothing uses them.
     *
     * @throws IllegalArgumentException when a folder is not under the sysfs root
     */
    public List<HostUse> scan(List<DeviceFolder> devices) throws IOException {
        List<BlockDevice> blocks = new ArrayList<>();
        List<NetInterface> interfaces = new ArrayList<>();
        Map<String, Boolean> nodes = new TreeMap<>(); // node path -> whether a VFIO node
        // a device named twice is read once; nothing else can give a use twice (the nodes are keyed by path, and a
        // nested device is not walked as part of its bridge)
        Set<Path> seen = new HashSet<>();
        for (DeviceFolder device : devices) {
            Path folder = device.path().toAbsolutePath().normalize();
            if (!folder.startsWith(paths.sysfs().toAbsolutePath().normalize())) {
                throw new IllegalArgumentException(device.path() + " is not under " + paths.sysfs());
            }
            if (!seen.add(folder)) continue;
            DeviceContents contents = DeviceContents.read(folder);
            blocks.addAll(contents.blocks());
            interfaces.addAll(contents.interfaces());
            for (DeviceNode node : contents.nodes()) nodes.put(node.path(), node.devName().startsWith("vfio/"));
            if (device.onVfioDriver()) {
                contents.iommuGroup().ifPresent(group -> {
                    nodes.put("/dev/vfio/" + group, true);
                    // the fake group of vfio's unsafe no-IOMMU mode has this node instead
                    nodes.put("/dev/vfio/noiommu-" + group, true);
                });
            }
        }
        List<HostUse> uses = new ArrayList<>();
        if (blocks.isEmpty() && interfaces.isEmpty() && nodes.isEmpty()) return uses;
        // a NIC alone has no node and no disk: nothing in /proc's process folders can say it is in use
        ProcessScan scan = nodes.isEmpty() && blocks.isEmpty() ? ProcessScan.none() : processes.scan(nodes.keySet());
        if (scan.denied() > 0) warnPartial(scan);
        if (!blocks.isEmpty()) uses.addAll(blockUses(blocks, scan));
        if (!interfaces.isEmpty()) uses.addAll(interfaceUses(interfaces));
        List<HostUse> opens = new ArrayList<>();
        Map<Integer, String> commands = new HashMap<>();
        scan.openers().forEach((node, pids) -> {
            for (int pid : pids) {
                Opener opener = new Opener(pid, commands.computeIfAbsent(pid, this::command));
                opens.add(nodes.get(node) ? new HostUse.VfioNodeOpen(node, opener) : new HostUse.NodeOpen(node, opener));
            }
        });
        uses.addAll(opens);
        uses.sort(ORDER);
        return List.copyOf(uses);
    }

    /**
     * Once per check, not per process: the check saw less than every process, so "nobody uses it" may be wrong.
     * The shipped unit keeps CAP_DAC_READ_SEARCH for this; a unit made by hand, or a vfiod run as another user,
     * may not have it.
     */
    private static void warnPartial(ProcessScan scan) {
        LOG.warn("the host-use check is partial: {} of {} processes would not show their descriptors (/proc/PID/fd: "
                + "permission denied), so what they hold open (a VM's /dev/vfio node, a DRM or disk node) is not seen; "
                + "vfiod needs to run as root with CAP_DAC_READ_SEARCH and CAP_SYS_PTRACE, as systemd/vfiod.service "
                + "gives it", scan.denied(), scan.processes());
    }

    private List<HostUse> blockUses(List<BlockDevice> blocks, ProcessScan scan) throws IOException {
        Map<String, Set<String>> mountPoints = mountPoints(blocks, scan);
        Set<String> swaps = ProcNet.swapNames(KernelFiles.readOrEmpty(paths.proc().resolve("swaps")));
        List<HostUse> uses = new ArrayList<>();
        Set<String> explained = new HashSet<>();
        for (BlockDevice b : blocks) {
            Set<String> at = mountPoints.get(b.name());
            if (at != null) uses.add(new HostUse.Mounted(b.name(), List.copyOf(at)));
            if (swaps.contains(b.name()) || swaps.contains(lastSegment(b.devName()))) uses.add(new HostUse.ActiveSwap(b.name()));
            if (!b.holders().isEmpty()) uses.add(new HostUse.HeldBy(b.name(), b.holders()));
            if (at != null || swaps.contains(b.name()) || !b.holders().isEmpty()) {
                explained.add(b.name());
                explained.add(b.disk());
            }
        }
        // a claimed partition makes its whole disk refuse O_EXCL too: partitions first, then the disks they explain
        List<BlockDevice> partitionsFirst = new ArrayList<>(blocks);
        partitionsFirst.sort(Comparator.comparing(BlockDevice::isPartition).reversed());
        for (BlockDevice b : partitionsFirst) {
            if (explained.contains(b.name())) continue;
            if (exclusiveOpen.busy(paths.dev().resolve(b.devName()))) {
                uses.add(new HostUse.OpenExclusively(b.name()));
                explained.add(b.name());
                explained.add(b.disk());
            }
        }
        return uses;
    }

    /** For each block mounted in any namespace, its mount points: by MAJ:MIN, or by source for btrfs's anonymous numbers. */
    private Map<String, Set<String>> mountPoints(List<BlockDevice> blocks, ProcessScan scan) throws IOException {
        Map<DeviceNumber, String> byNumber = new HashMap<>();
        Map<String, String> bySource = new HashMap<>();
        for (BlockDevice b : blocks) {
            byNumber.put(b.number(), b.name());
            bySource.put("/dev/" + b.devName(), b.name());
        }
        Map<String, Set<String>> out = new HashMap<>();
        for (String table : mountTables(scan)) {
            for (MountTable.Mount m : MountTable.parse(table)) {
                String block = byNumber.get(m.number());
                if (block == null) block = bySource.get(m.source());
                if (block != null) out.computeIfAbsent(block, k -> new TreeSet<>()).add(m.mountPoint());
            }
        }
        return out;
    }

    /** Our own mount table and one of each other namespace, from the first of its processes still there to show it. */
    private List<String> mountTables(ProcessScan scan) throws IOException {
        List<String> tables = new ArrayList<>();
        tables.add(KernelFiles.readOrEmpty(paths.proc().resolve("self").resolve("mountinfo")));
        Optional<String> own = KernelFiles.linkName(paths.proc().resolve("self").resolve("ns").resolve("mnt"));
        for (Map.Entry<String, List<Integer>> ns : scan.mountNamespaces().entrySet()) {
            if (own.isPresent() && own.get().equals(ns.getKey())) continue;
            for (int pid : ns.getValue()) {
                Optional<String> table = KernelFiles.read(paths.proc().resolve(Integer.toString(pid)).resolve("mountinfo"));
                if (table.isPresent()) {
                    tables.add(table.get());
                    break;
                }
            }
        }
        return tables;
    }

    private List<HostUse> interfaceUses(List<NetInterface> interfaces) throws IOException {
        Path net = paths.proc().resolve("net");
        Set<String> ipv4Routes = ProcNet.ipv4DefaultRoutes(KernelFiles.readOrEmpty(net.resolve("route")));
        Set<String> ipv6Routes = ProcNet.ipv6DefaultRoutes(KernelFiles.readOrEmpty(net.resolve("ipv6_route")));
        Map<Integer, List<String>> ipv6 = ProcNet.ipv6Addresses(KernelFiles.readOrEmpty(net.resolve("if_inet6")));
        Map<Integer, List<String>> v4 = new HashMap<>();
        for (InterfaceAddress a : ipv4.ipv4()) v4.computeIfAbsent(a.interfaceIndex(), k -> new ArrayList<>()).add(a.text());
        List<HostUse> uses = new ArrayList<>();
        for (NetInterface i : interfaces) {
            List<String> addresses = new ArrayList<>();
            if (i.up()) {
                addresses.addAll(v4.getOrDefault(i.index(), List.of()));
                addresses.addAll(ipv6.getOrDefault(i.index(), List.of()));
            }
            boolean route4 = ipv4Routes.contains(i.name());
            boolean route6 = ipv6Routes.contains(i.name());
            if (!addresses.isEmpty() || route4 || route6) uses.add(new HostUse.InterfaceInService(i.name(), addresses, route4, route6));
            i.master().ifPresent(master -> uses.add(new HostUse.Enslaved(i.name(), master)));
        }
        return uses;
    }

    private String command(int pid) {
        try {
            return KernelFiles.read(paths.proc().resolve(Integer.toString(pid)).resolve("comm")).map(String::strip).orElse("?");
        } catch (IOException e) {
            return "?";
        }
    }

    private static String lastSegment(String path) {
        return path.substring(path.lastIndexOf('/') + 1);
    }

    private static int kind(HostUse use) {
        if (use instanceof HostUse.Mounted) return 0;
        if (use instanceof HostUse.ActiveSwap) return 1;
        if (use instanceof HostUse.HeldBy) return 2;
        if (use instanceof HostUse.OpenExclusively) return 3;
        if (use instanceof HostUse.InterfaceInService) return 4;
        if (use instanceof HostUse.Enslaved) return 5;
        if (use instanceof HostUse.NodeOpen) return 6;
        return 7;
    }

    private static String subject(HostUse use) {
        if (use instanceof HostUse.Mounted u) return u.block();
        if (use instanceof HostUse.ActiveSwap u) return u.block();
        if (use instanceof HostUse.HeldBy u) return u.block();
        if (use instanceof HostUse.OpenExclusively u) return u.block();
        if (use instanceof HostUse.InterfaceInService u) return u.iface();
        if (use instanceof HostUse.Enslaved u) return u.iface();
        if (use instanceof HostUse.NodeOpen u) return u.node();
        return ((HostUse.VfioNodeOpen) use).node();
    }

    private static int pid(HostUse use) {
        if (use instanceof HostUse.NodeOpen u) return u.opener().pid();
        if (use instanceof HostUse.VfioNodeOpen u) return u.opener().pid();
        return 0;
    }

    private static final Comparator<HostUse> ORDER = Comparator.comparingInt(HostUseScanner::kind)
            .thenComparing(HostUseScanner::subject, NaturalOrder.INSTANCE)
            .thenComparingInt(HostUseScanner::pid);
}
