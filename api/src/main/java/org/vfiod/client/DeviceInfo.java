package org.vfiod.client;

import java.util.Comparator;
import java.util.List;
import java.util.Map;
import org.freedesktop.dbus.DBusPath;
import org.freedesktop.dbus.types.Variant;

/**
 * A device object's properties at one moment. {@code address} is the kernel name, {@code subsystem} the bus
 * ({@link #busAddress()} joins them). {@code vfioGroupNode}, {@code vfioDeviceNode}: its VFIO nodes ("" when
 * none); {@code accessUids}: who was given them.
 */
public record DeviceInfo(String path, String address, String subsystem, String modalias, int vendorId, int deviceId,
                         long classCode, String vendor, String product, String driver, String driverOverride,
                         String vfioDriver, int iommuGroup, List<String> groupDevices, boolean bootVga,
                         boolean persistent, String state, String vfioGroupNode, String vfioDeviceNode,
                         List<Long> accessUids) {
    public DeviceInfo {
        groupDevices = List.copyOf(groupDevices);
        accessUids = List.copyOf(accessUids);
    }

    /** A device without VFIO nodes. */
    public DeviceInfo(String path, String address, String subsystem, String modalias, int vendorId, int deviceId,
                      long classCode, String vendor, String product, String driver, String driverOverride,
                      String vfioDriver, int iommuGroup, List<String> groupDevices, boolean bootVga,
                      boolean persistent, String state) {
        this(path, address, subsystem, modalias, vendorId, deviceId, classCode, vendor, product, driver, driverOverride,
                vfioDriver, iommuGroup, groupDevices, bootVga, persistent, state, "", "", List.of());
    }

    /** PCI's devices first (the machine's main bus), then the other buses by name; by kernel name within a bus. */
    public static final Comparator<DeviceInfo> ORDER = Comparator.comparing((DeviceInfo d) -> !d.subsystem().equals("pci"))
            .thenComparing(DeviceInfo::subsystem).thenComparing(DeviceInfo::address);

    /** {@code bus:name} ({@code pci:0000:03:00.0}): what the Manager's methods take for this device. */
    public String busAddress() {
        return subsystem + ":" + address;
    }

    static DeviceInfo from(String path, Map<String, Variant<?>> p) {
        return new DeviceInfo(path, str(p, "Address"), str(p, "Subsystem"), str(p, "Modalias"), num(p, "VendorId"),
                num(p, "DeviceId"), ((Number) value(p, "Class", 0L)).longValue(), str(p, "Vendor"), str(p, "Product"),
                str(p, "Driver"), str(p, "DriverOverride"), str(p, "VfioDriver"), num(p, "IommuGroup"), paths(p),
                (Boolean) value(p, "BootVga", false), (Boolean) value(p, "Persistent", false), str(p, "State"),
                str(p, "VfioGroupNode"), str(p, "VfioDeviceNode"), uids(p));
    }

    private static List<Long> uids(Map<String, Variant<?>> p) {
        Object v = value(p, "AccessUids", List.of());
        if (!(v instanceof List<?> list)) return List.of();
        return list.stream().map(o -> ((Number) o).longValue()).toList();
    }

    private static Object value(Map<String, Variant<?>> p, String key, Object fallback) {
        Variant<?> v = p.get(key);
        return v == null ? fallback : v.getValue();
    }

    private static String str(Map<String, Variant<?>> p, String key) {
        return String.valueOf(value(p, key, ""));
    }

    private static int num(Map<String, Variant<?>> p, String key) {
        return ((Number) value(p, key, -1)).intValue();
    }

    private static List<String> paths(Map<String, Variant<?>> p) {
        Object v = value(p, "GroupDevices", List.of());
        if (!(v instanceof List<?> list)) return List.of();
        return list.stream().map(o -> o instanceof DBusPath d ? d.getPath() : String.valueOf(o)).toList();
    }
}
