package org.vfiod.daemon.sim;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;
import java.util.OptionalInt;
import org.vfiod.daemon.sysfs.PciAddress;

/**
 * Lays out a sysfs-shaped folder for tests, benchmarks and the demo: devices, IOMMU groups, a driver catalog
 * (loaded or not), and the faults {@link SimulatedKernel} should inject.
 */
public final class SimulatedSysfs {
    private final Path root;

    private SimulatedSysfs(Path root) {
        this.root = root;
    }

    public static SimulatedSysfs create(Path root) throws IOException {
        Files.createDirectories(root.resolve(SimulatedKernel.CONTROL_DIR));
        Files.createDirectories(SimTree.devicesDir(root));
        Files.createDirectories(root.resolve("bus/pci/devices"));
        Files.createDirectories(root.resolve("bus/pci/drivers"));
        Files.createDirectories(root.resolve("kernel/iommu_groups"));
        Files.createDirectories(root.resolve("module"));
        Path probe = root.resolve("bus/pci/drivers_probe");
        if (!Files.exists(probe)) Files.createFile(probe);
        return new SimulatedSysfs(root);
    }

    public Path root() {
        return root;
    }

    /** A device as the simulation should start with it. */
    public record Device(PciAddress address, int vendor, int device, int classCode, int subVendor, int subDevice,
                         OptionalInt iommuGroup, Optional<String> driver, boolean bootVga, Optional<PciAddress> physfn) {
        public static Device of(String address, int vendor, int device, int classCode, int group, String driver) {
            return new Device(PciAddress.require(address), vendor, device, classCode, vendor, 0x0001,
                    group < 0 ? OptionalInt.empty() : OptionalInt.of(group), Optional.ofNullable(driver), false,
                    Optional.empty());
        }

        public Device asBootVga() {
            return new Device(address, vendor, device, classCode, subVendor, subDevice, iommuGroup, driver, true, physfn);
        }

        public Device virtfnOf(String pf) {
            return new Device(address, vendor, device, classCode, subVendor, subDevice, iommuGroup, driver, bootVga,
                    Optional.of(PciAddress.require(pf)));
        }

        public String modalias() {
            return String.format("pci:v%08Xd%08Xsv%08Xsd%08Xbc%02Xsc%02Xi%02X", vendor, device, subVendor, subDevice,
                    (classCode >> 16) & 0xff, (classCode >> 8) & 0xff, classCode & 0xff);
        }
    }

    /**
     * Adds a driver to the catalog; {@code loaded} makes it present now, otherwise it appears when its module
     * is loaded. {@code ids} are {@code VVVV:DDDD} or {@code class:CC}.
     */
    public SimulatedSysfs driver(String name, String module, boolean loaded, String... flagsAndIds) throws IOException {
        Files.writeString(control("drivers"), name + " " + module + " " + String.join(" ", flagsAndIds) + "\n",
                StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        if (loaded) SimTree.loadDriver(root, name, module);
        return this;
    }

    public SimulatedSysfs device(Device d) throws IOException {
        String addr = d.address().toString();
        Path dev = SimTree.devicesDir(root).resolve(addr);
        Files.createDirectories(dev);
        write(dev.resolve("vendor"), String.format("0x%04x\n", d.vendor()));
        write(dev.resolve("device"), String.format("0x%04x\n", d.device()));
        write(dev.resolve("subsystem_vendor"), String.format("0x%04x\n", d.subVendor()));
        write(dev.resolve("subsystem_device"), String.format("0x%04x\n", d.subDevice()));
        write(dev.resolve("class"), String.format("0x%06x\n", d.classCode()));
        write(dev.resolve("modalias"), d.modalias() + "\n");
        write(dev.resolve("driver_override"), "(null)\n");
        write(dev.resolve("uevent"), "PCI_SLOT_NAME=" + addr + "\nMODALIAS=" + d.modalias() + "\n");
        if ((d.classCode() >> 8) == 0x0300) write(dev.resolve("boot_vga"), d.bootVga() ? "1\n" : "0\n");
        SimTree.relink(root.resolve("bus/pci/devices").resolve(addr), Path.of("../../../devices/pci0000:00").resolve(addr));
        if (d.iommuGroup().isPresent()) {
            String g = Integer.toString(d.iommuGroup().getAsInt());
            Path gdir = root.resolve("kernel/iommu_groups").resolve(g).resolve("devices");
            Files.createDirectories(gdir);
            SimTree.relink(gdir.resolve(addr), Path.of("../../../../devices/pci0000:00").resolve(addr));
            SimTree.relink(dev.resolve("iommu_group"), Path.of("../../../kernel/iommu_groups").resolve(g));
        }
        if (d.physfn().isPresent()) {
            String pf = d.physfn().get().toString();
            SimTree.relink(dev.resolve("physfn"), Path.of("..").resolve(pf));
            Path pfDir = SimTree.devicesDir(root).resolve(pf);
            int n = 0;
            while (Files.exists(pfDir.resolve("virtfn" + n), java.nio.file.LinkOption.NOFOLLOW_LINKS)) n++;
            SimTree.relink(pfDir.resolve("virtfn" + n), Path.of("..").resolve(addr));
        }
        if (d.driver().isPresent()) {
            String drv = d.driver().get();
            if (!Files.isDirectory(SimTree.driverDir(root, drv))) throw new IllegalStateException("driver " + drv + " not loaded");
            boolean vfio = new SimulatedKernel(root).catalogDriver(drv).map(SimulatedKernel.CatalogDriver::vfio).orElse(false);
            SimTree.linkDriver(root, dev, drv, vfio);
        }
        return this;
    }

    /**
     * Where the simulated kernel makes its VFIO device nodes ({@code vfio/<group>}, {@code vfio/devices/vfioN}) as
     * devices bind to and leave vfio drivers: the daemon's {@code --dev-root}.
     */
    public SimulatedSysfs devRoot(Path dev) throws IOException {
        Files.createDirectories(dev);
        Files.writeString(control("dev-root"), dev.toAbsolutePath() + "\n", StandardCharsets.UTF_8);
        return this;
    }

    public SimulatedSysfs fault(String line) throws IOException {
        Files.writeString(control("faults"), line + "\n", StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                StandardOpenOption.APPEND);
        return this;
    }

    /** Ends one fault and keeps the others, in one step: a writer never sees the faults file without them. */
    public SimulatedSysfs clearFault(String line) throws IOException {
        java.nio.file.Path faults = control("faults");
        if (!Files.exists(faults)) return this;
        String rest = Files.readAllLines(faults, StandardCharsets.UTF_8).stream().filter(l -> !l.equals(line))
                .map(l -> l + "\n").collect(java.util.stream.Collectors.joining());
        java.nio.file.Path tmp = faults.resolveSibling("faults.tmp");
        Files.writeString(tmp, rest, StandardCharsets.UTF_8);
        Files.move(tmp, faults, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        return this;
    }

    public SimulatedSysfs clearFaults() throws IOException {
        Files.deleteIfExists(control("faults"));
        return this;
    }

    public String kernelLog() throws IOException {
        Path log = control("kernel.log");
        return Files.exists(log) ? Files.readString(log) : "";
    }

    /** Removes a device as a hot-unplug would. */
    public void unplug(String address) throws IOException {
        SimTree.removeDevice(root, PciAddress.require(address).toString());
    }

    /** The boot framebuffers of a PC: fbcon on vtcon1 and the EFI framebuffer device, both holding the boot GPU. */
    public SimulatedSysfs bootFramebuffer() throws IOException {
        Path vt = root.resolve("class/vtconsole");
        Files.createDirectories(vt.resolve("vtcon0"));
        write(vt.resolve("vtcon0/name"), "(S) dummy device\n");
        write(vt.resolve("vtcon0/bind"), "0\n");
        Files.createDirectories(vt.resolve("vtcon1"));
        write(vt.resolve("vtcon1/name"), "(M) frame buffer device\n");
        write(vt.resolve("vtcon1/bind"), "1\n");
        Files.createDirectories(root.resolve("devices/platform/efi-framebuffer.0"));
        Path drv = root.resolve("bus/platform/drivers/efi-framebuffer");
        Files.createDirectories(drv);
        for (String a : new String[] {"bind", "unbind"}) if (!Files.exists(drv.resolve(a))) Files.createFile(drv.resolve(a));
        SimTree.relink(drv.resolve("efi-framebuffer.0"), Path.of("../../../../devices/platform/efi-framebuffer.0"));
        return this;
    }

    /** The sample machine of the demo and the D-Bus tests: a GPU and its audio function, a NIC, a boot VGA, an SR-IOV VF. */
    public static SimulatedSysfs sampleMachine(Path root) throws IOException {
        return create(root)
                .driver("vfio-pci", "vfio_pci", false, "vfio", "override-only")
                .driver("amdgpu", "amdgpu", true, "1002:73bf")
                .driver("snd_hda_intel", "snd_hda_intel", true, "1002:ab28", "8086:a0c8")
                .driver("e1000e", "e1000e", true, "8086:10d3")
                .driver("i915", "i915", true, "8086:9a49")
                .driver("mlx5_core", "mlx5_core", true, "15b3:101d", "15b3:101e")
                .driver("pcieport", "pcieportdrv", true, "class:06")
                .device(Device.of("0000:00:01.0", 0x8086, 0x9a09, 0x060400, 1, "pcieport"))
                .device(Device.of("0000:01:00.0", 0x1002, 0x73bf, 0x030000, 1, "amdgpu"))
                .device(Device.of("0000:01:00.1", 0x1002, 0xab28, 0x040300, 1, "snd_hda_intel"))
                .device(Device.of("0000:00:02.0", 0x8086, 0x9a49, 0x030000, 2, "i915").asBootVga())
                .device(Device.of("0000:03:00.0", 0x8086, 0x10d3, 0x020000, 3, "e1000e"))
                .device(Device.of("0000:04:00.0", 0x15b3, 0x101d, 0x020000, 4, "mlx5_core"))
                .device(Device.of("0000:04:00.1", 0x15b3, 0x101e, 0x020000, 5, "mlx5_core").virtfnOf("0000:04:00.0"))
                .bootFramebuffer();
    }

    private Path control(String name) {
        return root.resolve(SimulatedKernel.CONTROL_DIR).resolve(name);
    }

    private static void write(Path p, String s) throws IOException {
        Files.writeString(p, s, StandardCharsets.US_ASCII);
    }
}
