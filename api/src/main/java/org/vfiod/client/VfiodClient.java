package org.vfiod.client;

import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.freedesktop.dbus.DBusPath;
import org.freedesktop.dbus.connections.impl.DBusConnection;
import org.freedesktop.dbus.connections.impl.DBusConnectionBuilder;
import org.freedesktop.dbus.exceptions.DBusException;
import org.freedesktop.dbus.interfaces.Properties;
import org.vfiod1.Device;
import org.vfiod1.Manager;

/**
 * A typed client of vfiod for Java programs (and vfioctl). Errors arrive as the contract's exception classes
 * ({@code org.vfiod1.Error.*}); a polkit denial as dbus-java's {@code org.freedesktop.dbus.errors.AccessDenied}.
 * An {@code address} is {@code bus:name} ({@code platform:a000000.virtio_mmio}, {@code pci:0000:03:00.0}) or a PCI
 * address alone; {@link DeviceInfo#busAddress()} gives it for a device listed.
 */
public final class VfiodClient implements AutoCloseable {
    private final DBusConnection connection;
    private final Manager manager;

    private VfiodClient(DBusConnection connection) throws DBusException {
        this.connection = connection;
        this.manager = connection.getRemoteObject(Manager.BUS_NAME, Manager.PATH, Manager.class);
    }

    /** The system bus, or the bus named by {@code DBUS_SYSTEM_BUS_ADDRESS}. */
    public static VfiodClient systemBus() throws DBusException {
        String address = System.getenv("DBUS_SYSTEM_BUS_ADDRESS");
        return connect(address == null || address.isBlank() ? "unix:path=/run/dbus/system_bus_socket" : address);
    }

    public static VfiodClient connect(String address) throws DBusException {
        return new VfiodClient(DBusConnectionBuilder.forAddress(address).withShared(false).build());
    }

    public List<String> listDevices() {
        return manager.ListDevices().stream().map(DBusPath::getPath).toList();
    }

    /** The object path of the device at {@code address}, as vfiod gives it (never built here). */
    public String devicePath(String address) {
        return manager.DeviceByAddress(address).getPath();
    }

    /** The object path of device {@code name} on {@code bus} ({@code "platform", "a000000.virtio_mmio"}). */
    public String devicePath(String bus, String name) {
        return devicePath(bus + ":" + name);
    }

    public DeviceInfo device(String path) throws DBusException {
        Properties p = connection.getRemoteObject(Manager.BUS_NAME, path, Properties.class);
        return DeviceInfo.from(path, p.GetAll(Device.INTERFACE));
    }

    /** Who uses the device at {@code path} and its group's other endpoints, one line each (Device.Users). */
    public List<String> users(String path) throws DBusException {
        return List.copyOf(connection.getRemoteObject(Manager.BUS_NAME, path, org.vfiod1.Device.class).Users());
    }

    /** Every device in one round trip, through the ObjectManager, in {@link DeviceInfo#ORDER}. */
    public List<DeviceInfo> devices() throws DBusException {
        var om = connection.getRemoteObject(Manager.BUS_NAME, Manager.PATH, org.freedesktop.dbus.interfaces.ObjectManager.class);
        return om.GetManagedObjects().entrySet().stream()
                .map(e -> DeviceInfo.from(e.getKey().getPath(), e.getValue().getOrDefault(Device.INTERFACE, Map.of())))
                .sorted(DeviceInfo.ORDER)
                .toList();
    }

    public String rebind(String address, RebindOptions options) {
        return manager.Rebind(address, options.toVariants());
    }

    public String restore(String address, RebindOptions options) {
        return manager.Restore(address, options.toVariants());
    }

    /** Rebind with the full answer: the nodes to open, who may open them, the steps, the users found. */
    public Assignment assign(String address, RebindOptions options) {
        return Assignment.from(manager.Assign(address, options.toVariants()));
    }

    /** Restore with the full answer. */
    public Assignment release(String address, RebindOptions options) {
        return Assignment.from(manager.Release(address, options.toVariants()));
    }

    public Resolution resolve(String modalias) {
        return Resolution.from(manager.Resolve(modalias));
    }

    public void reload() {
        manager.Reload();
    }

    /** Calls back with the object path of every device that appears or goes away, until the returned handle is closed. */
    public AutoCloseable onDevicesChanged(Consumer<String> added, Consumer<String> removed) throws DBusException {
        AutoCloseable a = connection.addSigHandler(Manager.DeviceAdded.class, s -> added.accept(s.getDevice().getPath()));
        AutoCloseable r = connection.addSigHandler(Manager.DeviceRemoved.class, s -> removed.accept(s.getDevice().getPath()));
        return () -> {
            a.close();
            r.close();
        };
    }

    /** Calls back on every PropertiesChanged of a device object, with its path and the changed properties. */
    public AutoCloseable onPropertiesChanged(java.util.function.BiConsumer<String, Map<String, Object>> handler) throws DBusException {
        return connection.addSigHandler(Properties.PropertiesChanged.class, s -> {
            if (!Device.INTERFACE.equals(s.getInterfaceName())) return;
            Map<String, Object> changed = new java.util.LinkedHashMap<>();
            s.getPropertiesChanged().forEach((k, v) -> changed.put(k, v.getValue()));
            handler.accept(s.getPath(), changed);
        });
    }

    /**
     * Calls back when vfiod takes its bus name (true) or loses it (false), e.g. when it stops or restarts, until the
     * returned handle is closed.
     */
    public AutoCloseable onServiceOwnerChanged(Consumer<Boolean> running) throws DBusException {
        return connection.addSigHandler(org.freedesktop.dbus.interfaces.DBus.NameOwnerChanged.class, s -> {
            if (Manager.BUS_NAME.equals(s.name)) running.accept(!s.newOwner.isEmpty());
        });
    }

    /** Whether the connection to the bus is still up. */
    public boolean isConnected() {
        return connection.isConnected();
    }

    @Override
    public void close() {
        connection.disconnect();
    }
}
