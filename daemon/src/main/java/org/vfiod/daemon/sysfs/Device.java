package org.vfiod.daemon.sysfs;

import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * What sysfs says of one device at one moment, in the terms every bus shares; what only its bus knows is in its bus
 * part ({@link #pci()}). {@code driverOverride} is empty when the kernel shows {@code (null)}. {@code bridge}: a
 * device VFIO lets stay on its host driver while the rest of its IOMMU group is assigned (PCI bridges).
 * {@code bootVga}: the firmware console scans out of it.
 */
public record Device(DeviceName name, String modalias, Optional<String> driver, Optional<String> driverOverride,
                     OptionalInt iommuGroup, List<DeviceName> groupMembers, boolean bootVga, boolean vfioDev,
                     boolean bridge, Optional<PciInfo> pci) {
    public Device {
        groupMembers = List.copyOf(groupMembers);
    }

    /** The numbers that say what a device is, where its bus has them; all 0 where it has none. */
    public record Ids(int vendor, int device, int classCode) {
        public static final Ids NONE = new Ids(0, 0, 0);
    }

    public Ids ids() {
        return pci.map(p -> new Ids(p.vendorId(), p.deviceId(), p.classCode())).orElse(Ids.NONE);
    }
}
