package org.vfiod1;

import java.util.List;
import java.util.Map;
import org.freedesktop.dbus.DBusPath;
import org.freedesktop.dbus.TypeRef;
import org.freedesktop.dbus.annotations.DBusInterfaceName;
import org.freedesktop.dbus.annotations.DBusProperty;
import org.freedesktop.dbus.annotations.DBusProperty.Access;
import org.freedesktop.dbus.exceptions.DBusException;
import org.freedesktop.dbus.interfaces.DBusInterface;
import org.freedesktop.dbus.messages.DBusSignal;
import org.freedesktop.dbus.types.UInt32;
import org.freedesktop.dbus.types.Variant;

/**
 * {@code org.vfiod1.Manager} at {@code /org/vfiod}. Mutating calls take {@code a{sv} options}: {@code group} b,
 * {@code force} b, {@code dry-run} b, {@code persist} b, {@code driver} s, {@code timeout} u (ms),
 * {@code auth.no_user_interaction} b, and on Rebind and Assign {@code owner} u.
 */
@DBusInterfaceName(Manager.INTERFACE)
@DBusProperty(name = "Version", type = UInt32.class, access = Access.READ)
@DBusProperty(name = "KernelRelease", type = String.class, access = Access.READ)
@DBusProperty(name = "AliasCount", type = UInt32.class, access = Access.READ)
public interface Manager extends DBusInterface {
    String INTERFACE = "org.vfiod1.Manager";
    String BUS_NAME = "org.vfiod";
    String PATH = "/org/vfiod";
    String DEVICES_PATH = "/org/vfiod/devices";

    List<DBusPath> ListDevices();

    DBusPath DeviceByAddress(String address);

    /** Keys: module, driver (when known), pattern, wildcards (u), builtin (b), tie (as). */
    Map<String, Variant<?>> Resolve(String modalias);

    String Rebind(String address, Map<String, Variant<?>> options);

    String Restore(String address, Map<String, Variant<?>> options);

    /** Rebind with the full answer: devices, drivers, group, group-node, device-nodes, nodes, access, steps, users, dry-run. */
    Map<String, Variant<?>> Assign(String address, Map<String, Variant<?>> options);

    /** Restore with the full answer (the keys of {@link #Assign}). */
    Map<String, Variant<?>> Release(String address, Map<String, Variant<?>> options);

    void Reload();

    /** For introspection: {@code ao}. */
    interface PathList extends TypeRef<List<DBusPath>> {
    }

    class DeviceAdded extends DBusSignal {
        private final DBusPath device;

        public DeviceAdded(String path, DBusPath device) throws DBusException {
            super(path, device);
            this.device = device;
        }

        public DBusPath getDevice() {
            return device;
        }
    }

    class DeviceRemoved extends DBusSignal {
        private final DBusPath device;

        public DeviceRemoved(String path, DBusPath device) throws DBusException {
            super(path, device);
            this.device = device;
        }

        public DBusPath getDevice() {
            return device;
        }
    }
}
