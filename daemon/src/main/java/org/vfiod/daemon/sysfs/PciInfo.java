package org.vfiod.daemon.sysfs;

import java.util.List;
import java.util.Optional;

/** What only a PCI device has: its ids and class, and its SR-IOV relations. */
public record PciInfo(int vendorId, int deviceId, int classCode, int subsystemVendorId, int subsystemDeviceId,
                      Optional<PciAddress> physfn, List<PciAddress> virtfns) {
    public PciInfo {
        virtfns = List.copyOf(virtfns);
    }

    /** PCI-to-PCI and host bridges: group members that VFIO does not require on a vfio driver. */
    public boolean isBridge() {
        return (classCode >> 16) == 0x06 && (((classCode >> 8) & 0xff) == 0x04 || ((classCode >> 8) & 0xff) == 0x00);
    }
}
