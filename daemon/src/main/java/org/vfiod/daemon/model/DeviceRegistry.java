package org.vfiod.daemon.model;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
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
import org.vfiod.daemon.sysfs.PciAddress;
import org.vfiod.daemon.sysfs.PciDevice;
import org.vfiod.daemon.sysfs.Sysfs;
import org.vfiod.daemon.udev.HardwareNames;

/**
 * Every PCI device as vfiod knows it, kept equal to sysfs: devices appear and vanish, and every change of a
 * property is told to the listeners (the bus announces them). Whatever an event says, the registry re-reads sysfs
 * for the truth, so events that arrive late, twice or out of order cannot leave a stale device behind.
 */
public final class DeviceRegistry {
    private static final Logger LOG = LoggerFactory.getLogger(DeviceRegistry.class);

    private final List<DeviceListener> listeners = new CopyOnWriteArrayList<>();
    private final Sysfs sysfs;
    private final VfioDrivers vfioDrivers;
    private final Predicate<PciDevice> onVfio;
    private final HardwareNames names;
    private final Predicate<PciDevice> persistent;
    /** What the reconcile at start did to a device ("" for nothing). */
    private final Function<PciAddress, String> recovery;
    private final TreeMap<PciAddress, DeviceState> devices = new TreeMap<>();
    /**
     * What readers see: a copy of {@code devices} replaced whole on every add and remove. Bus calls are answered on
     * the reader thread and must never wait for a refresh, which may stall on a device the kernel is busy with.
     */
    private volatile List<DeviceState> view = List.of();
    private volatile Map<PciAddress, DeviceState> byAddress = Map.of();
    /** The devices a Rebind or Restore is moving: their State is "busy". */
    private final Set<PciAddress> busy = new HashSet<>();
    /** Reads started (a counter) and, per device, the last one applied: see {@link #refresh}. */
    private long reads;
    private final Map<PciAddress, Long> applied = new HashMap<>();
    /** Before the name is taken nobody can be listening: the first population tells no one. */
    private boolean quiet;

    /**
     * {@code onVfio} says whether a device is on a VFIO driver (the engine knows); {@code persistent} whether a
     * persistent rule covers it.
     */
    public DeviceRegistry(Sysfs sysfs, Supplier<AliasIndex> index, Predicate<PciDevice> onVfio, HardwareNames names,
                          Predicate<PciDevice> persistent, Function<PciAddress, String> recovery) {
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

    public Optional<DeviceState> get(PciAddress address) {
        return Optional.ofNullable(byAddress.get(address));
    }

    /** Every device, in address order. */
    public List<DeviceState> all() {
        return view;
    }

    private void publishView() {
        view = List.copyOf(devices.values());
        byAddress = Map.copyOf(devices);
    }

    /** The properties of every device, for tests and benchmarks that compare the registry with sysfs. */
    public synchronized Map<PciAddress, Map<String, Variant<?>>> snapshot() {
        Map<PciAddress, Map<String, Variant<?>>> out = new TreeMap<>();
        devices.forEach((a, d) -> out.put(a, d.properties()));
        return out;
    }

    /**
     * The first devices, as the caller just read them, before the bus name is requested: no listener is told (no
     * one can hear yet).
     */
    public synchronized void populate(List<PciDevice> devices) {
        quiet = true;
        try {
            for (PciDevice d : devices) apply(d);
        } finally {
            quiet = false;
            publishView();
        }
    }

    /** Reads every device again: adds the new, removes the gone, announces what changed. */
    public void rescan() {
        List<PciAddress> present;
        try {
            present = sysfs.pciDevices();
        } catch (IOException e) {
            LOG.error("cannot list PCI devices: {}", e.toString());
            return;
        }
        synchronized (this) {
            for (PciAddress gone : new ArrayList<>(devices.keySet())) {
                if (!present.contains(gone)) remove(gone);
            }
        }
        for (PciAddress a : present) refresh(a);
    }

    /**
     * Reads a device and the other members of its IOMMU group (before and after, since an add or remove changes
     * everyone's GroupDevices) and announces the differences.
     */
    public void refreshWithGroup(PciAddress address) {
        Set<PciAddress> todo = new TreeSet<>();
        todo.add(address);
        todo.addAll(groupOf(address));
        refresh(address);
        todo.addAll(groupOf(address));
        for (PciAddress a : todo) if (!a.equals(address)) refresh(a);
    }

    /**
     * Reads one device again and announces the difference (or its arrival or departure). The read happens outside
     * the registry's lock: a device the kernel is busy with can stall it, and must not stall anyone else. Reads are
     * numbered as they start, and a read that a later-started one has overtaken is dropped, so an old read never
     * overwrites a newer one.
     */
    public void refresh(PciAddress address) {
        long ticket;
        synchronized (this) {
            ticket = ++reads;
        }
        Optional<PciDevice> read;
        try {
            read = sysfs.read(address);
        } catch (java.nio.channels.ClosedByInterruptException stopping) {
            // the events worker is interrupted when vfiod stops; the object may stay as it was
            LOG.debug("reading {} interrupted", address);
            return;
        } catch (IOException e) {
            LOG.warn("cannot read {}: {}", address, e.toString());
            return;
        }
        synchronized (this) {
            if (ticket < applied.getOrDefault(address, 0L)) return;
            applied.put(address, ticket);
            if (read.isEmpty()) {
                remove(address);
                return;
            }
            apply(read.get());
        }
    }

    /** Makes the device's state say what {@code d} says, telling the listeners the difference. */
    private void apply(PciDevice d) {
        PciAddress address = d.address();
        HardwareNames.Names n = names.lookup(d.modalias());
        Map<String, Variant<?>> props = DeviceView.properties(d, n.vendor().orElse(""), n.model().orElse(""),
                vfioDrivers.of(d), onVfio.test(d), persistent.test(d), busy.contains(address), recovery.apply(address));
        DeviceState existing = devices.get(address);
        if (existing == null) {
            DeviceState added = new DeviceState(d, props);
            devices.put(address, added);
            // the first population publishes the view once, at its end
            if (quiet) return;
            publishView();
            for (DeviceListener l : listeners) l.added(added);
            LOG.debug("device {} added", address);
            return;
        }
        Map<String, Variant<?>> changed = existing.update(d, props);
        if (!changed.isEmpty() && !quiet) {
            for (DeviceListener l : listeners) l.changed(existing, changed);
        }
    }

    /** The addresses in the device's IOMMU group as its object knows them (empty when unknown). */
    public synchronized List<PciAddress> groupOf(PciAddress address) {
        DeviceState d = devices.get(address);
        if (d == null) return List.of();
        Object g = d.properties().get("GroupDevices").getValue();
        List<PciAddress> out = new ArrayList<>();
        if (g instanceof List<?> paths) {
            for (Object p : paths) {
                String path = p instanceof DBusPath dp ? dp.getPath() : String.valueOf(p);
                String element = path.substring(path.lastIndexOf('/') + 1);
                PciAddress.fromObjectPathElement(element).ifPresent(out::add);
            }
        }
        return out;
    }

    /** Marks devices busy (or no longer), re-reading each: clearing it picks up what the operation changed. */
    public void setBusy(Collection<PciAddress> addresses, boolean on) {
        markBusy(addresses, on);
        for (PciAddress a : addresses) refresh(a);
    }

    /**
     * Marks devices busy (or no longer) from what is known of them, reading nothing: a call must be able to say so,
     * and reply, even while the kernel holds the device.
     */
    public synchronized void markBusy(Collection<PciAddress> addresses, boolean on) {
        for (PciAddress a : addresses) {
            if (on) busy.add(a);
            else busy.remove(a);
            DeviceState d = devices.get(a);
            if (d != null) apply(d.device());
        }
    }

    private void remove(PciAddress address) {
        DeviceState d = devices.remove(address);
        if (d == null) return;
        publishView();
        for (DeviceListener l : listeners) l.removed(d);
        LOG.debug("device {} removed", address);
    }
}
