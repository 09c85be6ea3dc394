package org.vfiod.daemon.sysfs;

import java.util.Optional;

/**
 * A bus vfiod moves devices on, and how it names them. PCI is the only one; another (platform, CDX, fsl-mc) is a
 * constant here and its reads in {@link Sysfs}, and the layers above, which see only {@link DeviceName}, stay as
 * they are.
 */
public enum KernelBus {
    PCI("pci", "PCI") {
        @Override
        public Optional<DeviceName> parse(String name) {
            return PciAddress.parse(name).map(PciAddress::toDeviceName);
        }
    };

    private final String id;
    private final String title;

    KernelBus(String id, String title) {
        this.id = id;
        this.title = title;
    }

    /** The kernel's name of the bus: {@code /sys/bus/<id>}, a uevent's subsystem. */
    public String id() {
        return id;
    }

    /** How messages name the bus ("no PCI device ..."). */
    public String title() {
        return title;
    }

    /**
     * The device this bus calls {@code name}, in the kernel's spelling; empty for a name this bus never gives. The
     * gate for text from outside (events, the journal, directory entries) before it names a device.
     */
    public abstract Optional<DeviceName> parse(String name);

    /** The bus of that kernel name, if vfiod implements it. */
    public static Optional<KernelBus> named(String id) {
        for (KernelBus b : values()) if (b.id.equals(id)) return Optional.of(b);
        return Optional.empty();
    }

    /** The title of a device's bus for messages; a bus vfiod does not implement is named as the kernel names it. */
    public static String titleOf(DeviceName device) {
        return named(device.bus()).map(KernelBus::title).orElse(device.bus());
    }
}
