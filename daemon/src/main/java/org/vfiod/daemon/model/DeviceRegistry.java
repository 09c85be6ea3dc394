package org.vfiod.daemon.model;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.freedesktop.dbus.DBusPath;
import org.freedesktop.dbus.types.Variant;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.vfiod.daemon.aliases.AliasIndex;
import org.vfiod.daemon.sysfs.Device;
import org.vfiod.daemon.sysfs.DeviceName;
import org.vfiod.daemon.sysfs.Sysfs;
import org.vfiod.daemon.udev.HardwareNames;

/**
 * Every device as vfiod knows it, kept equal to sysfs: devices appear and vanish, and every change of a
 * property is told to the listeners (the bus announces them). Whatever an event says, the registry re-reads sysfs
 * for the truth, so events that arrive late, twice or out of order cannot leave a stale device behind.
 */
public final class DeviceRegistry {
    private static final Logger LOG = LoggerFactory.getLogger(DeviceRegistry.class);

    private final List<DeviceListener> listeners = new CopyOnWriteArrayList<>();
    private final Sysfs sysfs;
    private final VfioDrivers vfioDrivers;
    private final Predicate<Device> onVfio;
    private final HardwareNames names;
    private final Predicate<Device> persistent;
    /** What the reconcile at start did to a device ("" for nothing). */
    private final Function<DeviceName, String> recovery;
    private final DeviceView.NodeReader nodes;
    private final TreeMap<DeviceName, DeviceState> devices = new TreeMap<>();
    /**
     * What readers see: a copy of {@code devices} replaced whole on every add and remove. Bus calls are answered on
     * the reader thread and must never wait for a refresh, which may stall on a device the kernel is busy with.
     */
    private volatile List<DeviceState> view = List.of();
    private volatile Map<DeviceName, DeviceState> byName = Map.of();
    /** The same by object path: a call on a device's object names it by its path, which cannot be parsed back. */
    private volatile Map<String, DeviceState> byPath = Map.of();
    /**
     * The devices a Rebind or Restore is moving, each with the number of calls that marked it: their State is "busy".
     * Counted, because a call refused while another still moves the device must not end the other's busy state.
     */
    private final Map<DeviceName, Integer> busy = new HashMap<>();
    /** Reads started (a counter) and, per device, the last one applied: see {@link #refresh}. */
    private long reads;
    private final Map<DeviceName, Long> applied = new HashMap<>();
    /** Before the name is taken nobody can be listening: the first population tells no one. */
    private boolean quiet;

    /**
     * {@code onVfio} says whether a device is on a VFIO driver (the engine knows); {@code persistent} whether a
     * persistent rule covers it.
     */
    public DeviceRegistry(Sysfs sysfs, Supplier<AliasIndex> index, Predicate<Device> onVfio, HardwareNames names,
                          Predicate<Device> persistent, Function<DeviceName, String> recovery) {
        this(sysfs, index, onVfio, names, persistent, recovery, (d, vfio) -> DeviceView.Nodes.NONE);
    }

    /** {@code nodes}: a device's VFIO nodes and who was given access to them (read from the nodes themselves). */
    public DeviceRegistry(Sysfs sysfs, Supplier<AliasIndex> index, Predicate<Device> onVfio, HardwareNames names,
                          Predicate<Device> persistent, Function<DeviceName, String> recovery, DeviceView.NodeReader nodes) {
        this.nodes = nodes;
        this.sysfs = sysfs;
        this.vfioDrivers = new VfioDrivers(sysfs, index);
        this.onVfio = onVfio;
        this.names = names;
        this.persistent = persistent;
        this.recovery = recovery;
    }

    /** From now on, {@code listener} hears every change (not the first population's). */
    public void listen(DeviceListener listener) {
        listeners.add(listener);
    }

    public List<DBusPath> paths() {
        return view.stream().map(d -> new DBusPath(d.path())).toList();
    }

    public Optional<DeviceState> get(DeviceName device) {
        return Optional.ofNullable(byName.get(device));
    }

    /** The device whose object is at {@code path}. */
    public Optional<DeviceState> atPath(String path) {
        return Optional.ofNullable(byPath.get(path));
    }

    /** Every device, in name order. */
    public List<DeviceState> all() {
        return view;
    }

    private void publishView() {
        view = List.copyOf(devices.values());
        byName = Map.copyOf(devices);
        Map<String, DeviceState> paths = new java.util.HashMap<>();
        for (DeviceState d : view) paths.put(d.path(), d);
        byPath = Map.copyOf(paths);
    }

    /** The properties of every device, for tests and benchmarks that compare the registry with sysfs. */
    public synchronized Map<DeviceName, Map<String, Variant<?>>> snapshot() {
        Map<DeviceName, Map<String, Variant<?>>> out = new TreeMap<>();
        devices.forEach((a, d) -> out.put(a, d.properties()));
        return out;
    }

    /**
     * The first devices, as the caller just read them, before the bus name is requested: no listener is told (no
     * one can hear yet).
     */
    public synchronized void populate(List<Device> devices) {
        quiet = true;
        try {
            for (Device d : devices) apply(d);
            applyLearnedDrivers();
        } finally {
            quiet = false;
            publishView();
        }
    }

    /** Reads every device again: adds the new, removes the gone, announces what changed. */
    public void rescan() {
        List<DeviceName> present;
        try {
            present = sysfs.devices();
        } catch (IOException e) {
            LOG.error("cannot list devices: {}", e.toString());
            return;
        }
        synchronized (this) {
            for (DeviceName gone : new ArrayList<>(devices.keySet())) {
                if (!present.contains(gone)) remove(gone);
            }
        }
        for (DeviceName a : present) refresh(a);
    }

    /**
     * Reads a device and the other members of its IOMMU group (before and after, since an add or remove changes
     * everyone's GroupDevices) and announces the differences.
     */
    public void refreshWithGroup(DeviceName device) {
        Set<DeviceName> todo = new TreeSet<>();
        todo.add(device);
        todo.addAll(groupOf(device));
        refresh(device);
        todo.addAll(groupOf(device));
        for (DeviceName a : todo) if (!a.equals(device)) refresh(a);
    }

    /**
     * Reads one device again and announces the difference (or its arrival or departure). The read happens outside
     * the registry's lock: a device the kernel is busy with can stall it, and must not stall anyone else. Reads are
     * numbered as they start, and a read that a later-started one has overtaken is dropped, so an old read never
     * overwrites a newer one.
     */
    public void refresh(DeviceName device) {
        long ticket;
        synchronized (this) {
            ticket = ++reads;
        }
        Optional<Device> read;
        try {
            read = sysfs.read(device);
        } catch (java.nio.channels.ClosedByInterruptException stopping) {
            // the events worker is interrupted when vfiod stops; the object may stay as it was
            LOG.debug("reading {} interrupted", device);
            return;
        } catch (IOException e) {
            LOG.warn("cannot read {}: {}", device, e.toString());
            return;
        }
        synchronized (this) {
            if (ticket < applied.getOrDefault(device, 0L)) return;
            applied.put(device, ticket);
            if (read.isEmpty()) {
                remove(device);
                return;
            }
            apply(read.get());
            applyLearnedDrivers();
        }
    }

    /**
     * The read just applied may have found a vfio module loaded (the move of this device loaded it): every device
     * whose VfioDriver still names that module, read before, gets its driver's name now, and is announced. Applied
     * from what is known of each device, reading nothing, as {@link #markBusy} does.
     */
    private void applyLearnedDrivers() {
        for (String module = vfioDrivers.nextLearned(); module != null; module = vfioDrivers.nextLearned()) {
            for (DeviceState d : new ArrayList<>(devices.values())) {
                Variant<?> shown = d.properties().get("VfioDriver");
                if (shown != null && module.equals(shown.getValue())) apply(d.device());
            }
        }
    }

    /** Makes the device's state say what {@code d} says, telling the listeners the difference. */
    private void apply(Device d) {
        DeviceName name = d.name();
        HardwareNames.Names n = names.lookup(d.modalias());
        boolean vfio = onVfio.test(d);
        Map<String, Variant<?>> props = DeviceView.properties(d, n.vendor().orElse(""), n.model().orElse(""),
                vfioDrivers.of(d), vfio, persistent.test(d), busy.containsKey(name), recovery.apply(name), nodes.of(d, vfio));
        DeviceState existing = devices.get(name);
        if (existing == null) {
            DeviceState added = new DeviceState(d, props);
            devices.put(name, added);
            // the first population publishes the view once, at its end
            if (quiet) return;
            publishView();
            for (DeviceListener l : listeners) l.added(added);
            LOG.debug("device {} added", name);
            return;
        }
        Map<String, Variant<?>> changed = existing.update(d, props);
        if (!changed.isEmpty() && !quiet) {
            for (DeviceListener l : listeners) l.changed(existing, changed);
        }
    }

    /** The devices in the device's IOMMU group as its object knows them (empty when unknown). */
    public synchronized List<DeviceName> groupOf(DeviceName device) {
        DeviceState d = devices.get(device);
        return d == null ? List.of() : d.groupMembers();
    }

    /**
     * Marks devices busy (or no longer) from what is known of them, reading nothing: a call must be able to say so,
     * and reply, even while the kernel holds the device.
     */
    public synchronized void markBusy(Collection<DeviceName> names, boolean on) {
        for (DeviceName a : names) {
            if (on) busy.merge(a, 1, Integer::sum);
            else busy.computeIfPresent(a, (k, n) -> n > 1 ? n - 1 : null);
            DeviceState d = devices.get(a);
            if (d != null) apply(d.device());
        }
    }

    private void remove(DeviceName device) {
        DeviceState d = devices.remove(device);
        if (d == null) return;
        publishView();
        for (DeviceListener l : listeners) l.removed(d);
        LOG.debug("device {} removed", device);
    }
}
