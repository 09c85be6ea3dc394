package org.vfiod.daemon.access;

import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.function.Predicate;
import org.vfiod.daemon.sysfs.Device;
import org.vfiod.daemon.sysfs.DeviceName;
import org.vfiod.daemon.sysfs.Sysfs;

/**
 * Gives a uid a device's VFIO nodes and takes them back: the group node and the cdev of every endpoint of its IOMMU
 * group on a vfio driver (a VM opens the group, and with it may use every device in it). What is read is sysfs as it
 * is now, so it holds after a move and after a restart alike.
 */
public final class Grants {
    private final Sysfs sysfs;
    private final VfioNodes nodes;
    private final Predicate<Device> onVfio;

    public Grants(Sysfs sysfs, VfioNodes nodes, Predicate<Device> onVfio) {
        this.sysfs = sysfs;
        this.nodes = nodes;
        this.onVfio = onVfio;
    }

    /**
     * The device and its IOMMU group's other endpoints as sysfs shows them now, the device first; bridges stay on
     * their host driver and no VM opens them, so they are left out.
     */
    public List<Device> groupOf(DeviceName device) throws IOException {
        List<Device> out = new ArrayList<>();
        Optional<Device> d = sysfs.read(device);
        if (d.isEmpty()) return out;
        out.add(d.get());
        for (DeviceName m : d.get().groupMembers()) {
            if (!m.equals(device)) sysfs.read(m).filter(x -> !x.bridge()).ifPresent(out::add);
        }
        return out;
    }

    /** Every node of the group to open, the group node first; empty while nothing of it is on VFIO. */
    public List<Path> nodes(List<Device> group) {
        LinkedHashSet<Path> out = new LinkedHashSet<>();
        for (Device d : group) {
            boolean vfio = onVfio.test(d);
            nodes.groupNode(d, vfio).ifPresent(out::add);
        }
        for (Device d : group) if (onVfio.test(d)) nodes.deviceNode(d).ifPresent(out::add);
        return List.copyOf(out);
    }

    public Optional<Path> groupNode(List<Device> group) {
        for (Device d : group) {
            Optional<Path> n = nodes.groupNode(d, onVfio.test(d));
            if (n.isPresent()) return n;
        }
        return Optional.empty();
    }

    /** Each device of the group with a cdev: its address and node. */
    public Map<DeviceName, Path> deviceNodes(List<Device> group) {
        Map<DeviceName, Path> out = new LinkedHashMap<>();
        for (Device d : group) if (onVfio.test(d)) nodes.deviceNode(d).ifPresent(n -> out.put(d.name(), n));
        return out;
    }

    /** The uids with access, from the group node (or the first node there is); empty without nodes. */
    public List<Long> users(List<Device> group) {
        for (Path n : nodes(group)) {
            try {
                return nodes.access().users(n);
            } catch (IOException e) {
                // not there (yet): the next one
            }
        }
        return List.of();
    }

    /**
     * Gives {@code uid} read/write access to every node of the device's group; returns what was done, one line a
     * node. A node missing is an IOException naming it: a VM could not open the device.
     */
    public List<String> grant(DeviceName device, long uid, String userName) throws IOException {
        List<Path> all = nodes(groupOf(device));
        if (all.isEmpty()) throw new NoSuchFileException(device + " has no VFIO node (is it on a vfio driver?)");
        List<String> done = new ArrayList<>();
        for (Path n : all) {
            nodes.access().grant(n, uid);
            done.add("give uid " + uid + " (" + userName + ") read and write access to " + n);
        }
        return done;
    }

    /**
     * The nodes a Rebind of the group would give: the group node it will have once on VFIO, and the cdevs there are
     * already (the kernel numbers new ones at the bind).
     */
    public List<Path> plannedNodes(List<Device> group) {
        LinkedHashSet<Path> out = new LinkedHashSet<>();
        if (!group.isEmpty()) nodes.groupNode(group.get(0), true).ifPresent(out::add);
        out.addAll(nodes(group));
        return List.copyOf(out);
    }

    /** The group node a device will have once on VFIO. */
    public Optional<Path> plannedGroupNode(List<Device> group) {
        return group.isEmpty() ? Optional.empty() : nodes.groupNode(group.get(0), true);
    }

    /** The lines a dry run shows for a grant to {@code uid} on {@code all}. */
    public static List<String> planned(List<Path> all, long uid, String userName) {
        return all.stream().map(n -> "give uid " + uid + " (" + userName + ") read and write access to " + n).toList();
    }

    /** What a revocation took away, so that it can be given back when what followed it failed. */
    public record Revoked(Map<Path, List<Long>> before, List<String> steps) {
        public Revoked {
            before = Map.copyOf(before);
            steps = List.copyOf(steps);
        }
    }

    private Revoked revoke(List<Path> all) throws IOException {
        Map<Path, List<Long>> before = new LinkedHashMap<>();
        List<String> steps = new ArrayList<>();
        for (Path n : all) {
            List<Long> had;
            try {
                had = nodes.access().users(n);
            } catch (NoSuchFileException gone) {
                continue;
            }
            if (had.isEmpty()) continue;
            nodes.access().revokeAll(n);
            before.put(n, had);
            steps.add("take back the access of uid " + join(had) + " to " + n);
        }
        return new Revoked(before, steps);
    }

    /**
     * Takes every uid's access to the nodes of the device (with {@code group}, of every endpoint of its IOMMU group)
     * away, finding them from links and folders only ({@link Sysfs#vfioLink}): a Restore does this before it asks
     * the engine, and must get its answer (Busy, Timeout) at once while the kernel holds a device of the group.
     */
    public Revoked revokeAll(DeviceName device, boolean group) throws IOException {
        OptionalInt number = sysfs.iommuGroup(device);
        List<DeviceName> members = group && number.isPresent() ? sysfs.groupMembers(number.getAsInt()) : List.of(device);
        LinkedHashSet<Path> found = new LinkedHashSet<>();
        List<Path> cdevs = new ArrayList<>();
        for (DeviceName m : members) {
            Optional<Sysfs.VfioLink> link = sysfs.vfioLink(m);
            if (link.isEmpty() || !link.get().bound()) continue;
            number.ifPresent(n -> found.add(nodes.groupNode(n)));
            link.get().cdev().map(nodes::cdev).ifPresent(cdevs::add);
        }
        found.addAll(cdevs);
        return revoke(List.copyOf(found));
    }

    /** Puts back what {@link #revokeAll} took. */
    public void undo(Revoked revoked) throws IOException {
        for (Map.Entry<Path, List<Long>> e : revoked.before().entrySet()) {
            for (long uid : e.getValue()) nodes.access().grant(e.getKey(), uid);
        }
    }

    private static String join(List<Long> uids) {
        return String.join(", ", uids.stream().map(String::valueOf).toList());
    }
}
