package org.vfiod.daemon.bus;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.freedesktop.dbus.DBusPath;
import org.freedesktop.dbus.interfaces.Properties;
import org.freedesktop.dbus.types.UInt32;
import org.freedesktop.dbus.types.Variant;
import org.vfiod.daemon.sysfs.CallerText;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.vfiod.daemon.aliases.AliasIndex;
import org.vfiod.daemon.aliases.AliasMatch;
import org.vfiod.daemon.model.DeviceRegistry;
import org.vfiod.daemon.model.DeviceState;
import org.vfiod.daemon.sysfs.DriverName;
import org.vfiod.daemon.sysfs.DeviceName;
import org.vfiod.daemon.sysfs.KernelBus;
import org.vfiod.daemon.sysfs.Sysfs;
import org.vfiod1.Device;
import org.vfiod1.Error;
import org.vfiod1.Manager;

/** {@code /org/vfiod}: the manager interface, its properties and the ObjectManager of the device objects. */
final class ManagerObject {
    private static final Logger LOG = LoggerFactory.getLogger(ManagerObject.class);
    public static final int VERSION = 1;

    private final ObjectPublisher publisher;
    private final DeviceRegistry registry;
    private final Mutations mutations;
    private final Supplier<AliasIndex> index;
    private final Sysfs sysfs;
    private final String kernelRelease;
    private volatile Map<String, Variant<?>> properties;

    /** {@code index} is the alias index in use (Reload and the alias watcher replace it). */
    ManagerObject(ObjectPublisher publisher, DeviceRegistry registry, Mutations mutations, Supplier<AliasIndex> index,
                  Sysfs sysfs, String kernelRelease) {
        this.properties = Map.copyOf(props(kernelRelease, index.get()));
        this.publisher = publisher;
        this.registry = registry;
        this.mutations = mutations;
        this.index = index;
        this.sysfs = sysfs;
        this.kernelRelease = kernelRelease;
    }

    /** The manager's properties (ContractTest holds their types to the contract). */
    static Map<String, Variant<?>> props(String kernelRelease, AliasIndex index) {
        Map<String, Variant<?>> p = new LinkedHashMap<>();
        p.put("Version", new Variant<>(new UInt32(VERSION)));
        p.put("KernelRelease", new Variant<>(kernelRelease));
        p.put("AliasCount", new Variant<>(new UInt32(index.size())));
        return p;
    }

    Variant<?> get(String iface, String property) {
        return ReadOnlyProperties.get(Manager.INTERFACE, properties, iface, property);
    }

    Map<String, Variant<?>> getAll(String iface) {
        return ReadOnlyProperties.getAll(Manager.INTERFACE, properties, iface);
    }

    List<DBusPath> ListDevices() {
        return registry.paths();
    }

    DBusPath DeviceByAddress(String address) {
        DeviceName a = AddressArgument.parse(address);
        return registry.get(a).map(d -> new DBusPath(d.path()))
                .orElseThrow(() -> new Error.NoSuchDevice("no " + KernelBus.titleOf(a) + " device " + a));
    }

    Map<String, Variant<?>> Resolve(String modalias) {
        if (modalias == null || modalias.isEmpty() || modalias.length() > 512 || !modalias.chars().allMatch(c -> c > 0x20 && c < 0x7f)) {
            throw new Error.InvalidArgument("'" + CallerText.printable(modalias) + "' is not a modalias (printable ASCII, no spaces, at most 512 characters)");
        }
        AliasMatch m = index.get().resolve(modalias)
                .orElseThrow(() -> new Error.NoVfioDriver("no vfio_ alias matches " + modalias));
        Map<String, Variant<?>> out = new LinkedHashMap<>();
        out.put("module", new Variant<>(m.module()));
        try {
            sysfs.driverOfModule(new DriverName(m.module())).ifPresent(d -> out.put("driver", new Variant<>(d.value())));
        } catch (IOException e) {
            LOG.debug("driver of {} unknown: {}", m.module(), e.toString());
        }
        out.put("pattern", new Variant<>(m.pattern()));
        out.put("wildcards", new Variant<>(new UInt32(m.wildcards())));
        out.put("builtin", new Variant<>(m.builtin()));
        out.put("tie", new Variant<>(m.tiedWith(), "as"));
        return out;
    }

    String rebind(Caller caller, String address, Map<String, Variant<?>> options) {
        return mutations.rebind(caller, AddressArgument.parse(address), options);
    }

    String restore(Caller caller, String address, Map<String, Variant<?>> options) {
        return mutations.restore(caller, AddressArgument.parse(address), options);
    }

    Map<String, Variant<?>> assign(Caller caller, String address, Map<String, Variant<?>> options) {
        return mutations.assign(caller, AddressArgument.parse(address), options);
    }

    Map<String, Variant<?>> release(Caller caller, String address, Map<String, Variant<?>> options) {
        return mutations.release(caller, AddressArgument.parse(address), options);
    }

    void reload(Caller caller) {
        mutations.reload(caller);
        aliasesChanged();
    }

    /** Announces a new index: AliasCount here, VfioDriver on the devices. */
    void aliasesChanged() {
        Map<String, Variant<?>> changed;
        synchronized (this) {
            Map<String, Variant<?>> next = props(kernelRelease, index.get());
            changed = DeviceState.changes(properties, next);
            properties = Map.copyOf(next);
        }
        if (!changed.isEmpty()) {
            publisher.signal(() -> new Properties.PropertiesChanged(Manager.PATH, Manager.INTERFACE, changed, List.of()));
        }
        registry.rescan();
    }

    Map<DBusPath, Map<String, Map<String, Variant<?>>>> GetManagedObjects() {
        Map<DBusPath, Map<String, Map<String, Variant<?>>>> out = new LinkedHashMap<>();
        for (DeviceState d : registry.all()) out.put(new DBusPath(d.path()), Map.of(Device.INTERFACE, d.properties()));
        return out;
    }
}
