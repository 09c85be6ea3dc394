package org.vfiod.daemon.sysfs;

import java.io.IOException;
import java.util.Optional;

/**
 * The bus table: the buses vfiod moves devices on, and what each one does its own way. This is the one place that
 * knows per-bus facts; the layers above see {@link DeviceName} and ask here. Per bus:
 * <ul>
 * <li>{@link #parse}: which kernel names are its devices (the gate for outside text);</li>
 * <li>{@link #modalias}: where its modalias is read (AMBA has no {@code modalias} file, only its uevent);</li>
 * <li>{@link #fallback}: the vfio driver that serves it when no {@code vfio_} alias matches (vfio-platform,
 * vfio-fsl-mc and vfio-amba have no id table, so they write no alias); the aliases' fewest-{@code *} rule always
 * comes first;</li>
 * <li>{@link #isContainer}: the container rule (fsl-mc's DPRC: the unit of assignment, its objects follow it).</li>
 * </ul>
 */
public enum KernelBus {
    PCI("pci", "PCI") {
        @Override
        public Optional<DeviceName> parse(String name) {
            return PciAddress.parse(name).map(PciAddress::toDeviceName);
        }
    },

    /**
     * AMD's CDX bus: devices {@code cdx-XX:YY} ({@code "cdx-%02x:%02x"}, bus and device number); the bus
     * controllers {@code cdx-XX} have only {@code enable} and {@code reset}, are no device to move, and are skipped.
     * The one other bus whose kernel writes {@code vfio_} aliases ({@code vfio_cdx:v*d*sv*sd*c* vfio_cdx}).
     */
    CDX("cdx", "CDX") {
        @Override
        public Optional<DeviceName> parse(String name) {
            if (name == null || name.length() != 9 || !name.startsWith("cdx-") || name.charAt(6) != ':'
                    || !lowerHex(name, 4, 6) || !lowerHex(name, 7, 9)) {
                return Optional.empty();
            }
            return Optional.of(new DeviceName(id(), name));
        }
    },

    /**
     * Platform devices (device-tree and ACPI enumerated): free-form kernel names ({@code a000000.virtio_mmio},
     * {@code serial8250}, {@code efi-framebuffer.0}); a name with a space ({@code Fixed MDIO bus.0}) is not one vfiod
     * can put in a path or the journal, and is skipped. vfio-platform has no id table: it binds through
     * driver_override alone.
     */
    PLATFORM("platform", "platform", new VfioFallback("vfio-platform", "vfio_platform")) {
        @Override
        public Optional<DeviceName> parse(String name) {
            return freeForm(name);
        }

        @Override
        public Optional<String> probeFailureHint(ModuleParameters parameters) throws IOException {
            // vfio-platform's probe fails with -EINVAL when no reset function is found and reset is required
            if (!parameters.read("vfio_platform", "reset_required").map("Y"::equals).orElse(false)) return Optional.empty();
            return Optional.of("vfio-platform requires a reset for the device (module/vfio_platform/parameters/reset_required "
                    + "is Y): it needs a reset module for its compatible string (vfio-platform-calxedaxgmac, "
                    + "vfio-platform-amdxgbe, ...) or an ACPI _RST method, or vfio_platform.reset_required=0 "
                    + "(the device is then not reset between users)");
        }
    },

    /**
     * NXP's DPAA2 management complex: objects {@code dprc.N}, {@code dpni.N}, {@code dpio.N}, ... The unit of
     * assignment is the container, {@code dprc.N}: vfio-fsl-mc scans it when it binds, and gives its objects (the
     * devices beneath its folder) driver_override vfio-fsl-mc; an object cannot go alone.
     */
    FSL_MC("fsl-mc", "fsl-mc", new VfioFallback("vfio-fsl-mc", "vfio_fsl_mc")) {
        @Override
        public Optional<DeviceName> parse(String name) {
            if (name == null || name.length() > 32) return Optional.empty();
            int dot = name.indexOf('.');
            if (dot < 1 || dot == name.length() - 1 || name.length() - dot - 1 > 10) return Optional.empty();
            for (int i = 0; i < name.length(); i++) {
                char c = name.charAt(i);
                boolean ok = i < dot ? c >= 'a' && c <= 'z' : i == dot || (c >= '0' && c <= '9');
                if (!ok) return Optional.empty();
            }
            return Optional.of(new DeviceName(id(), name));
        }

        @Override
        public boolean isContainer(DeviceName device) {
            return device.bus().equals(id()) && device.name().startsWith("dprc.");
        }
    },

    /**
     * ARM's AMBA bus: free-form names ({@code 9000000.pl011}), and no {@code modalias} file: the modalias is the
     * {@code MODALIAS=amba:d...} line of its uevent. vfio-amba has no id table.
     */
    AMBA("amba", "AMBA", new VfioFallback("vfio-amba", "vfio_amba")) {
        @Override
        public Optional<DeviceName> parse(String name) {
            return freeForm(name);
        }

        @Override
        public Optional<String> modalias(Attributes device) throws IOException {
            Optional<String> uevent = device.read("uevent");
            if (uevent.isEmpty()) return Optional.empty();
            for (String line : uevent.get().split("\n")) {
                if (line.startsWith("MODALIAS=")) return Optional.of(line.substring("MODALIAS=".length()).strip());
            }
            return Optional.empty();
        }
    };

    /**
     * The vfio driver of a bus whose vfio driver writes no {@code vfio_} alias: {@code driver} as it registers with
     * the bus (what driver_override takes), {@code module} as modprobe and {@code /sys/module} name it.
     */
    public record VfioFallback(DriverName driver, DriverName module) {
        VfioFallback(String driver, String module) {
            this(new DriverName(driver), new DriverName(module));
        }
    }

    /** The attributes of one device folder, read by {@link Sysfs}'s checked reads; empty for an absent one. */
    @FunctionalInterface
    public interface Attributes {
        Optional<String> read(String name) throws IOException;
    }

    /** {@code module/<module>/parameters/<name>}, read by {@link Sysfs}. */
    @FunctionalInterface
    public interface ModuleParameters {
        Optional<String> read(String module, String name) throws IOException;
    }

    private final String id;
    private final String title;
    private final Optional<VfioFallback> fallback;

    KernelBus(String id, String title) {
        this.id = id;
        this.title = title;
        this.fallback = Optional.empty();
    }

    KernelBus(String id, String title, VfioFallback fallback) {
        this.id = id;
        this.title = title;
        this.fallback = Optional.of(fallback);
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

    /** The device's modalias, from its folder's attributes: the {@code modalias} file on every bus but AMBA. */
    public Optional<String> modalias(Attributes device) throws IOException {
        return device.read("modalias");
    }

    /** The vfio driver used when no {@code vfio_} alias matches a device of this bus, named so wherever it is used. */
    public Optional<VfioFallback> fallback() {
        return fallback;
    }

    /**
     * Whether the device is a container, the unit of assignment on its bus: the devices of the same bus beneath its
     * folder are its objects, move with it, and cannot move alone.
     */
    public boolean isContainer(DeviceName device) {
        return false;
    }

    /** Why the bus's vfio driver may have refused a device in its probe, from its module parameters; empty if nothing known. */
    public Optional<String> probeFailureHint(ModuleParameters parameters) throws IOException {
        return Optional.empty();
    }

    /** The bus of that kernel name, if vfiod implements it. */
    public static Optional<KernelBus> named(String id) {
        for (KernelBus b : values()) if (b.id.equals(id)) return Optional.of(b);
        return Optional.empty();
    }

    /** The bus of a device. */
    public static Optional<KernelBus> of(DeviceName device) {
        return named(device.bus());
    }

    /** The title of a device's bus for messages; a bus vfiod does not implement is named as the kernel names it. */
    public static String titleOf(DeviceName device) {
        return named(device.bus()).map(KernelBus::title).orElse(device.bus());
    }

    /** Whether the driver is the fallback vfio driver of some bus (it is then a vfio driver though no alias names it). */
    public static boolean isFallbackDriver(String driver) {
        for (KernelBus b : values()) {
            if (b.fallback.isPresent() && (b.fallback.get().driver().value().equals(driver) || b.fallback.get().module().value().equals(driver))) {
                return true;
            }
        }
        return false;
    }

    final Optional<DeviceName> freeForm(String name) {
        return DeviceName.isName(name) ? Optional.of(new DeviceName(id, name)) : Optional.empty();
    }

    private static boolean lowerHex(String s, int from, int to) {
        for (int i = from; i < to; i++) {
            char c = s.charAt(i);
            if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
        }
        return true;
    }
}
