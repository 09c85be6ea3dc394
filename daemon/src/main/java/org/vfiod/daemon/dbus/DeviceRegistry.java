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
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.freedesktop.dbus.DBusPath;
import org.freedesktop.dbus.connections.impl.DBusConnection;
import org.freedesktop.dbus.exceptions.DBusException;
import org.freedesktop.dbus.interfaces.ObjectManager;
import org.freedesktop.dbus.interfaces.Properties;
import org.freedesktop.dbus.messages.DBusSignal;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.vfiod.daemon.aliases.AliasIndex;
import org.vfiod.daemon.binding.RebindEngine;
import org.vfiod.daemon.sysfs.DriverName;
import org.vfiod.daemon.sysfs.PciAddress;
import org.vfiod.daemon.sysfs.PciDevice;
import org.vfiod.daemon.sysfs.Sysfs;
import org.vfiod1.Device;
import org.vfiod1.Manager;

/**
 * The device objects on the bus, kept equal to sysfs: objects appear and vanish with DeviceAdded/DeviceRemoved and
 * the ObjectManager signals, and every property change is announced with PropertiesChanged.
 */
final class DeviceRegistry {
    private static final Logger LOG = LoggerFactory.getLogger(DeviceRegistry.class);

    private final DBusConnection connection;
    private final Sysfs sysfs;
    private final Supplier<AliasIndex> index;
    private final RebindEngine engine;
    private final DeviceNames names;
    private final Predicate<PciDevice> persistent;
    private final TreeMap<PciAddress, DeviceObject> objects = new TreeMap<>();
    private final Set<PciAddress> busy = new HashSet<>();
    private Operations operations;

    DeviceRegistry(DBusConnection connection, Sysfs sysfs, Supplier<AliasIndex> index, RebindEngine engine,
                   DeviceNames names, Predicate<PciDevice> persistent) {
        this.connection = connection;
        this.sysfs = sysfs;
        this.index = index;
        this.engine = engine;
        this.names = names;
        this.persistent = persistent;
    }

    void setOperations(Operations operations) {
        this.operations = operations;
    }

    synchronized List<DBusPath> paths() {
        return objects.values().stream().map(o -> new DBusPath(o.getObjectPath())).toList();
    }

    synchronized Optional<DeviceObject> get(PciAddress address) {
        return Optional.ofNullable(objects.get(address));
    }

    synchronized Collection<DeviceObject> all() {
        return List.copyOf(objects.values());
    }

    /** Reads every device again: adds the new, removes the gone, announces what changed. */
    synchronized void rescan() {
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

    /** Reads one device again and announces the difference (or its arrival or departure). */
    synchronized void refresh(PciAddress address) {
        Optional<PciDevice> read;
        try {
            read = sysfs.read(address);
        } catch (IOException e) {
            LOG.warn("cannot read {}: {}", address, e.toString());
            return;
        }
        if (read.isEmpty()) {
            remove(address);
            return;
        }
        PciDevice d = read.get();
        var props = DeviceView.properties(d, names.vendor(d), names.product(d), vfioDriver(d), engine.onVfioDriver(d),
                persistent.test(d), busy.contains(address));
        DeviceObject existing = objects.get(address);
        if (existing == null) {
            DeviceObject o = new DeviceObject(address, operations, props);
            try {
                connection.exportObject(o.getObjectPath(), o);
            } catch (DBusException e) {
                LOG.error("cannot export {}: {}", o.getObjectPath(), e.toString());
                return;
            }
            objects.put(address, o);
            send(() -> new ObjectManager.InterfacesAdded(Manager.PATH, new DBusPath(o.getObjectPath()),
                    Map.of(Device.INTERFACE, o.properties())));
            send(() -> new Manager.DeviceAdded(Manager.PATH, new DBusPath(o.getObjectPath())));
            LOG.debug("device {} added", address);
            return;
        }
        Map<String, org.freedesktop.dbus.types.Variant<?>> changed = existing.update(props);
        if (!changed.isEmpty()) {
            send(() -> new Properties.PropertiesChanged(existing.getObjectPath(), Device.INTERFACE, changed, List.of()));
        }
    }

    /** Refreshes a device and the rest of its IOMMU group. */
    synchronized void refreshGroup(PciAddress address) {
        Set<PciAddress> todo = new java.util.TreeSet<>();
        todo.add(address);
        DeviceObject o = objects.get(address);
        if (o != null) {
            @SuppressWarnings("unchecked")
            List<DBusPath> group = (List<DBusPath>) o.properties().get("GroupDevices").getValue();
            for (DBusPath p : group) {
                objects.values().stream().filter(x -> x.getObjectPath().equals(p.getPath())).findFirst()
                        .ifPresent(x -> todo.add(x.address()));
            }
        }
        for (PciAddress a : todo) refresh(a);
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
        connection.unExportObject(o.getObjectPath());
        send(() -> new ObjectManager.InterfacesRemoved(Manager.PATH, new DBusPath(o.getObjectPath()),
                List.of(Device.INTERFACE)));
        send(() -> new Manager.DeviceRemoved(Manager.PATH, new DBusPath(o.getObjectPath())));
        LOG.debug("device {} removed", address);
    }

    /** The driver Rebind would choose: the driver name once its module is loaded, the module name before. */
    String vfioDriver(PciDevice d) {
        return index.get().resolve(d.modalias()).map(m -> {
            try {
                DriverName module = new DriverName(m.module());
                return sysfs.driverOfModule(module).map(DriverName::value).orElse(m.module());
            } catch (IOException e) {
                return m.module();
            }
        }).orElse("");
    }

    private void send(SignalFactory factory) {
        try {
            connection.sendMessage(factory.make());
        } catch (DBusException | RuntimeException e) {
            LOG.warn("cannot send a signal: {}", e.toString());
        }
    }

    /** Signals are built here; building one can only fail on a malformed path, which our paths never are. */
    private interface SignalFactory {
        DBusSignal make() throws DBusException;
    }
}
