package org.vfiod1;

import java.util.List;
import java.util.Map;
import org.freedesktop.dbus.annotations.DBusInterfaceName;
import org.freedesktop.dbus.annotations.DBusProperty;
import org.freedesktop.dbus.annotations.DBusProperty.Access;
import org.freedesktop.dbus.interfaces.DBusInterface;
import org.freedesktop.dbus.types.UInt16;
import org.freedesktop.dbus.types.UInt32;
import org.freedesktop.dbus.types.Variant;

/**
 * {@code org.vfiod1.Device} at {@code /org/vfiod/devices/pci_0000_3a01_3a00_2e0} (see {@link DevicePaths}; take paths
 * from DeviceByAddress or ListDevices rather than build them). Every property change is announced
 * with {@code org.freedesktop.DBus.Properties.PropertiesChanged}.
 */
@DBusInterfaceName(Device.INTERFACE)
@DBusProperty(name = "Address", type = String.class, access = Access.READ)
@DBusProperty(name = "Subsystem", type = String.class, access = Access.READ)
@DBusProperty(name = "Modalias", type = String.class, access = Access.READ)
@DBusProperty(name = "VendorId", type = UInt16.class, access = Access.READ)
@DBusProperty(name = "DeviceId", type = UInt16.class, access = Access.READ)
@DBusProperty(name = "Class", type = UInt32.class, access = Access.READ)
@DBusProperty(name = "Vendor", type = String.class, access = Access.READ)
@DBusProperty(name = "Product", type = String.class, access = Access.READ)
@DBusProperty(name = "Driver", type = String.class, access = Access.READ)
@DBusProperty(name = "DriverOverride", type = String.class, access = Access.READ)
@DBusProperty(name = "VfioDriver", type = String.class, access = Access.READ)
@DBusProperty(name = "IommuGroup", type = Integer.class, access = Access.READ)
@DBusProperty(name = "GroupDevices", type = Manager.PathList.class, access = Access.READ)
@DBusProperty(name = "BootVga", type = Boolean.class, access = Access.READ)
@DBusProperty(name = "Persistent", type = Boolean.class, access = Access.READ)
@DBusProperty(name = "State", type = String.class, access = Access.READ)
@DBusProperty(name = "Recovery", type = String.class, access = Access.READ)
@DBusProperty(name = "VfioGroupNode", type = String.class, access = Access.READ)
@DBusProperty(name = "VfioDeviceNode", type = String.class, access = Access.READ)
@DBusProperty(name = "AccessUids", type = Device.UidList.class, access = Access.READ)
public interface Device extends DBusInterface {
    String INTERFACE = "org.vfiod1.Device";

    String Rebind(Map<String, Variant<?>> options);

    String Restore(Map<String, Variant<?>> options);

    /** Rebind with the full answer (see {@link Manager#Assign}). */
    Map<String, Variant<?>> Assign(Map<String, Variant<?>> options);

    /** Restore with the full answer. */
    Map<String, Variant<?>> Release(Map<String, Variant<?>> options);

    /** For introspection: {@code au}. */
    interface UidList extends org.freedesktop.dbus.TypeRef<List<UInt32>> {
    }

    /** Who uses the device (and its group's other endpoints), one line each; empty when nothing does. */
    List<String> Users();
}
