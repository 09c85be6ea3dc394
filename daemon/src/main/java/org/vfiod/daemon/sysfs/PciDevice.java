package org.vfiod.daemon.sysfs;

import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * What sysfs says of one PCI device at one moment. {@code driverOverride} is empty when the kernel shows
 * {@code (null)}.
 */
public record PciDevice(PciAddress address, String modalias, int vendorId, int deviceId, int classCode,
                        int subsystemVendorId, int subsystemDeviceId, Optional<String> driver,
                        Optional<String> driverOverride, OptionalInt iommuGroup, List<PciAddress> groupMembers,
                        boolean bootVga, Optional<PciAddress> physfn, List<PciAddress> virtfns, boolean vfioDev) {
    public PciDevice {
        groupMembers = List.copyOf(groupMembers);
        virtfns = List.copyOf(virtfns);
    }

    /** PCI-to-PCI and host bridges: group members that VFIO does not require on a vfio driver. */
    public boolean isBridge() {
        return (classCode >> 16) == 0x06 && (((classCode >> 8) & 0xff) == 0x04 || ((classCode >> 8) & 0xff) == 0x00);
    }

    public String bus() {
        return "pci";
    }
}
