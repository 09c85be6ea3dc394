package org.vfiod.daemon.model;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.freedesktop.dbus.DBusPath;
import org.freedesktop.dbus.types.UInt16;
import org.freedesktop.dbus.types.UInt32;
import org.freedesktop.dbus.types.Variant;
import org.vfiod.daemon.sysfs.Device;
import org.vfiod.daemon.sysfs.DeviceName;
import org.vfiod1.Manager;

/** The org.vfiod1.Device properties of one device, as values with their exact D-Bus types. */
public final class DeviceView {
    private DeviceView() {
    }

    public static String path(DeviceName device) {
        return Manager.DEVICES_PATH + "/" + device.objectPathElement();
    }

    /**
     * A device's VFIO nodes as a VM opens them ("" when it has none: not on a vfio driver, or no cdev on this
     * kernel) and the uids given access to them.
     */
    public record Nodes(String group, String device, List<Long> access) {
        public static final Nodes NONE = new Nodes("", "", List.of());

        public Nodes {
            access = List.copyOf(access);
        }
    }

    /** What a device's nodes are, given whether it is on a vfio driver. */
    @FunctionalInterface
    public interface NodeReader {
        Nodes of(Device device, boolean onVfio);
    }

    public static Map<String, Variant<?>> properties(Device d, String vendor, String product, String vfioDriver,
                                              boolean onVfio, boolean persistent, boolean busy, String recovery) {
        return properties(d, vendor, product, vfioDriver, onVfio, persistent, busy, recovery, Nodes.NONE);
    }

    public static Map<String, Variant<?>> properties(Device d, String vendor, String product, String vfioDriver,
                                              boolean onVfio, boolean persistent, boolean busy, String recovery,
                                              Nodes nodes) {
        Map<String, Variant<?>> p = new LinkedHashMap<>();
        p.put("Address", new Variant<>(d.name().name()));
        p.put("Subsystem", new Variant<>(d.name().bus()));
        p.put("Modalias", new Variant<>(d.modalias()));
        Device.Ids ids = d.ids();
        p.put("VendorId", new Variant<>(new UInt16(ids.vendor() & 0xffff)));
        p.put("DeviceId", new Variant<>(new UInt16(ids.device() & 0xffff)));
        p.put("Class", new Variant<>(new UInt32(ids.classCode())));
        p.put("Vendor", new Variant<>(vendor));
        p.put("Product", new Variant<>(product));
        p.put("Driver", new Variant<>(d.driver().orElse("")));
        p.put("DriverOverride", new Variant<>(d.driverOverride().orElse("")));
        p.put("VfioDriver", new Variant<>(vfioDriver));
        p.put("IommuGroup", new Variant<>(d.iommuGroup().orElse(-1)));
        List<DBusPath> group = d.groupMembers().stream().map(a -> new DBusPath(path(a))).toList();
        p.put("GroupDevices", new Variant<>(group, "ao"));
        p.put("BootVga", new Variant<>(d.bootVga()));
        p.put("Persistent", new Variant<>(persistent));
        p.put("State", new Variant<>(busy ? "busy" : onVfio ? "vfio" : d.driver().isEmpty() ? "unbound" : "host"));
        p.put("Recovery", new Variant<>(recovery));
        p.put("VfioGroupNode", new Variant<>(nodes.group()));
        p.put("VfioDeviceNode", new Variant<>(nodes.device()));
        p.put("AccessUids", new Variant<>(nodes.access().stream().map(UInt32::new).toList(), "au"));
        return p;
    }
}
