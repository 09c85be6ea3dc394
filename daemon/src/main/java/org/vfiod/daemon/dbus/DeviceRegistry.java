package org.vfiod.daemon.dbus;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.freedesktop.dbus.DBusPath;
import org.freedesktop.dbus.interfaces.ObjectManager;
import org.freedesktop.dbus.interfaces.Properties;
import org.freedesktop.dbus.types.Variant;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.vfiod.daemon.aliases.AliasIndex;
import org.vfiod.daemon.binding.RebindEngine;
import org.vfiod.daemon.sysfs.DriverName;
import org.vfiod.daemon.sysfs.PciAddress;
import org.vfiod.daemon.sysfs.PciDevice;
import org.vfiod.daemon.sysfs.Sysfs;
import org.vfiod.daemon.udev.HardwareNames;
import org.vfiod1.Device;
import org.vfiod1.Manager;

/**
 * The device objects on the bus, kept equal to sysfs: objects appear and vanish with DeviceAdded/DeviceRemoved and
 * the ObjectManager signals, and every property change is announced with PropertiesChanged. Whatever an event
 * says, the registry re-reads sysfs for the truth, so events that arrive late, twice or out of order cannot leave
 * a stale object behind.
 */
public final class DeviceRegistry {
    private static final Logger LOG = LoggerFactory.getLogger(DeviceRegistry.class);

    private final ObjectPublisher publisher;
    private final Sysfs sysfs;
    private final Supplier<AliasIndex> index;
    private final RebindEngine engine;
    private final HardwareNames names;
    private final Predicate<PciDevice> persistent;
    private final TreeMap<PciAddress, DeviceObject> objects = new TreeMap<>();
    /**
     * What readers see: a copy of {@code objects} replaced whole on every add and remove. Bus calls are answered on
     * the reader thread and must never wait for a refresh, which may stall on a device the kernel is busy with.
     */
    private volatile List<DeviceObject> view = List.of();
    private volatile Map<PciAddress, DeviceObject> byAddress = Map.of();
    private final Set<PciAddress> busy = new HashSet<>();
    private final Map<String, String> driverOfModule = new java.util.concurrent.ConcurrentHashMap<>();
    private volatile Operations operations;
    /** Before the name is taken nobody can be listening: the first export sends no signals. */
    private boolean quiet;

    public DeviceRegistry(ObjectPublisher publisher, Sysfs sysfs, Supplier<AliasIndex> index, RebindEngine engine,
                          HardwareNames names, Predicate<PciDevice> persistent) {
        this.publisher = publisher;
        this.sysfs = sysfs;
        this.index = index;
        this.engine = engine;
        this.names = names;
        this.persistent = persistent;
    }

    void setOperations(Operations operations) {
        this.operations = operations;
    }

    public List<DBusPath> paths() {
        return view.stream().map(o -> new DBusPath(o.getObjectPath())).toList();
    }

    Optional<DeviceObject> get(PciAddress address) {
        return Optional.ofNullable(byAddress.get(address));
    }

    /** Every object, in address order. */
    List<DeviceObject> all() {
        return view;
    }

    private void publishView() {
        view = List.copyOf(objects.values());
        byAddress = Map.copyOf(objects);
    }

    /** The properties of every object, for tests and benchmarks that compare the registry with sysfs. */
    public synchronized Map<PciAddress, Map<String, Variant<?>>> snapshot() {
        Map<PciAddress, Map<String, Variant<?>>> out = new TreeMap<>();
        objects.forEach((a, o) -> out.put(a, o.properties()));
        return out;
    }

    /**
     * The first objects, from the devices the caller just read, before the bus name is requested: no signals (no
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
    public synchronized void rescan() {
        List<PciAddress> present;
        try {
            present = sysfs.pciDevices();
        } catch (IOException e) {
            LOG.error("cannot list PCI devices: {}", e.toString());
            return;
        }
        for (PciAddress gone : new ArrayList<>(objects.keySet())) {
            if (!present.contains(gone)) remove(gone);
        }
        for (PciAddress a : present) refresh(a);
    }

    /**
     * Reads a device and the other members of its IOMMU group (before and after, since an add or remove changes
     * everyone's GroupDevices) and announces the differences.
     */
    public synchronized void refreshWithGroup(PciAddress address) {
        Set<PciAddress> todo = new TreeSet<>();
        todo.add(address);
        todo.addAll(groupOf(address));
        refresh(address);
        todo.addAll(groupOf(address));
        for (PciAddress a : todo) if (!a.equals(address)) refresh(a);
    }

    /** Reads one device again and announces the difference (or its arrival or departure). */
    public synchronized void refresh(PciAddress address) {
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
        if (read.isEmpty()) {
            remove(address);
            return;
        }
        apply(read.get());
    }

    /** Makes the device's object say what {@code d} says, announcing the difference. */
    private void apply(PciDevice d) {
        PciAddress address = d.address();
        HardwareNames.Names n = names.lookup(d.modalias());
        Map<String, Variant<?>> props = DeviceView.properties(d, n.vendor().orElse(""), n.model().orElse(""),
                vfioDriver(d), engine.onVfioDriver(d), persistent.test(d), busy.contains(address));
        DeviceObject existing = objects.get(address);
        if (existing == null) {
            DeviceObject o = new DeviceObject(address, operations, props);
            objects.put(address, o);
            // the first population publishes the view once, at its end
            if (quiet) return;
            publishView();
            DBusPath path = new DBusPath(o.getObjectPath());
            Map<String, Map<String, Variant<?>>> ifaces = Map.of(Device.INTERFACE, o.properties());
            publisher.signal(() -> new ObjectManager.InterfacesAdded(Manager.PATH, path, ifaces));
            publisher.signal(() -> new Manager.DeviceAdded(Manager.PATH, path));
            LOG.debug("device {} added", address);
            return;
        }
        Map<String, Variant<?>> changed = existing.update(props);
        if (!changed.isEmpty() && !quiet) {
            String path = existing.getObjectPath();
            publisher.signal(() -> new Properties.PropertiesChanged(path, Device.INTERFACE, changed, List.of()));
        }
    }

    /** The addresses in the device's IOMMU group as its object knows them (empty when unknown). */
    synchronized List<PciAddress> groupOf(PciAddress address) {
        DeviceObject o = objects.get(address);
        if (o == null) return List.of();
        Object g = o.properties().get("GroupDevices").getValue();
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

    synchronized void setBusy(Collection<PciAddress> addresses, boolean on) {
        for (PciAddress a : addresses) {
            if (on) busy.add(a);
            else busy.remove(a);
            refresh(a);
        }
    }

    private void remove(PciAddress address) {
        DeviceObject o = objects.remove(address);
        if (o == null) return;
        publishView();
        DBusPath path = new DBusPath(o.getObjectPath());
        publisher.signal(() -> new ObjectManager.InterfacesRemoved(Manager.PATH, path, List.of(Device.INTERFACE)));
        publisher.signal(() -> new Manager.DeviceRemoved(Manager.PATH, path));
        LOG.debug("device {} removed", address);
    }

    /**
     * The driver Rebind would choose: the driver name once its module is loaded, the module name before. A module's
     * driver name never changes once it is known, so it is remembered instead of listing sysfs for every device.
     */
    String vfioDriver(PciDevice d) {
        return index.get().resolve(d.modalias()).map(m -> {
            String known = driverOfModule.get(m.module());
            if (known != null) return known;
            try {
                Optional<DriverName> driver = sysfs.driverOfModule(new DriverName(m.module()));
                driver.ifPresent(x -> driverOfModule.put(m.module(), x.value()));
                return driver.map(DriverName::value).orElse(m.module());
            } catch (IOException e) {
                return m.module();
            }
        }).orElse("");
    }
}
