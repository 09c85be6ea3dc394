package org.vfiod.daemon.sysfs;

import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * What sysfs says of one device at one moment, in the terms every bus shares; what only its bus knows is in its bus
 * part ({@link #pci()}). {@code driverOverride} is empty when the kernel shows {@code (null)}. {@code bridge}: a
 * device VFIO lets stay on its host driver while the rest of its IOMMU group is assigned (PCI bridges).
 * {@code bootVga}: the firmware console scans out of it. {@code vfioDev}: the kernel shows a {@code vfio-dev/}
 * folder (a vfio driver holds it); {@code vfioCdev}: the {@code vfioN} in it that has a device number, i.e. a
 * {@code /dev/vfio/devices/vfioN} node (6.2 and later with CONFIG_VFIO_DEVICE_CDEV; 6.1 shows {@code vfioN} with none).
 * {@code compatible}: the device-tree compatible strings of its {@code of_node}, most specific first (platform and
 * AMBA devices described by a device tree; empty otherwise).
 */
public record Device(DeviceName name, String modalias, Optional<String> driver, Optional<String> driverOverride,
                     OptionalInt iommuGroup, List<DeviceName> groupMembers, boolean bootVga, boolean vfioDev,
                     boolean bridge, Optional<PciInfo> pci, Optional<String> vfioCdev, List<String> compatible) {
    public Device {
        groupMembers = List.copyOf(groupMembers);
        compatible = List.copyOf(compatible);
    }

    /** A device without device-tree compatible strings. */
    public Device(DeviceName name, String modalias, Optional<String> driver, Optional<String> driverOverride,
                  OptionalInt iommuGroup, List<DeviceName> groupMembers, boolean bootVga, boolean vfioDev,
                  boolean bridge, Optional<PciInfo> pci, Optional<String> vfioCdev) {
        this(name, modalias, driver, driverOverride, iommuGroup, groupMembers, bootVga, vfioDev, bridge, pci, vfioCdev, List.of());
    }

    /** A device without a VFIO cdev. */
    public Device(DeviceName name, String modalias, Optional<String> driver, Optional<String> driverOverride,
                  OptionalInt iommuGroup, List<DeviceName> groupMembers, boolean bootVga, boolean vfioDev,
                  boolean bridge, Optional<PciInfo> pci) {
        this(name, modalias, driver, driverOverride, iommuGroup, groupMembers, bootVga, vfioDev, bridge, pci, Optional.empty());
    }

    /** The numbers that say what a device is, where its bus has them; all 0 where it has none. */
    public record Ids(int vendor, int device, int classCode) {
        public static final Ids NONE = new Ids(0, 0, 0);
    }

    public Ids ids() {
        return pci.map(p -> new Ids(p.vendorId(), p.deviceId(), p.classCode())).orElse(Ids.NONE);
    }
}
