package org.vfiod.daemon.sim;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
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
        SimTree.addBus(root, "pci");
        Files.createDirectories(root.resolve("kernel/iommu_groups"));
        Files.createDirectories(root.resolve("module"));
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
     * is loaded. Flags and ids are the catalog's (see {@link SimulatedKernel}): {@code bus:BUS} (PCI without it),
     * {@code vfio}, {@code override-only}, {@code no-bind-attrs}, {@code needs-reset}, {@code param:NAME=VALUE}, and
     * ids {@code VVVV:DDDD} or {@code class:CC} (PCI) or {@code alias:GLOB} (a module alias, any bus).
     */
    public SimulatedSysfs driver(String name, String module, boolean loaded, String... flagsAndIds) throws IOException {
        Files.writeString(control("drivers"), name + " " + module + " " + String.join(" ", flagsAndIds) + "\n",
                StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        if (loaded) {
            SimulatedKernel.CatalogDriver d = new SimulatedKernel(root).catalogDriver(name).orElseThrow();
            SimTree.loadDriver(root, d.bus(), d.name(), d.module(), d.bindAttrs(), d.params());
        }
        return this;
    }

    /** A bus with no device yet: {@code bus/<b>/devices}, {@code drivers}, {@code drivers_probe}, {@code drivers_autoprobe}. */
    public SimulatedSysfs bus(String bus) throws IOException {
        SimTree.addBus(root, bus);
        return this;
    }

    /**
     * A device of a bus other than PCI as the simulation should start with it: its bus, kernel name, the folder it
     * sits in (relative to the root), modalias (none for a device without the attribute), IOMMU group, driver, its
     * devicetree {@code compatible} (then it has an {@code of_node}), and its other attributes.
     */
    public record BusDevice(String bus, String name, String parent, Optional<String> modalias, OptionalInt iommuGroup,
                            Optional<String> driver, Optional<String> compatible, Map<String, String> attrs) {
        private static OptionalInt group(int g) {
            return g < 0 ? OptionalInt.empty() : OptionalInt.of(g);
        }

        /** A CDX bus controller's bus device {@code cdx-XX}: only {@code enable} and {@code reset}, no driver. */
        public static BusDevice cdxBus(int bus) {
            return new BusDevice("cdx", String.format("cdx-%02x", bus), "devices/platform/cdx-controller", Optional.empty(),
                    OptionalInt.empty(), Optional.empty(), Optional.empty(), Map.of("enable", "1\n", "reset", ""));
        }

        /** A CDX device {@code cdx-XX:YY} beneath its bus device; a group below 0 is none. */
        public static BusDevice cdx(int bus, int dev, int vendor, int device, int subVendor, int subDevice, int classCode,
                                    int group, String driver) {
            String modalias = String.format("cdx:v%04Xd%04Xsv%04Xsd%04Xc%06X", vendor, device, subVendor, subDevice, classCode);
            Map<String, String> attrs = new TreeMap<>(Map.of("vendor", String.format("0x%04x\n", vendor),
                    "device", String.format("0x%04x\n", device), "subsystem_vendor", String.format("0x%04x\n", subVendor),
                    "subsystem_device", String.format("0x%04x\n", subDevice), "class", String.format("0x%06x\n", classCode),
                    "revision", "0x00\n", "enable", "1\n", "reset", "", "remove", ""));
            return new BusDevice("cdx", String.format("cdx-%02x:%02x", bus, dev), String.format("devices/platform/cdx-controller/cdx-%02x", bus),
                    Optional.of(modalias), group(group), Optional.ofNullable(driver), Optional.empty(), attrs);
        }

        /**
         * A devicetree platform device {@code ADDR.NODE} ({@code a000000.virtio_mmio}), its node {@code NODE@ADDR}
         * with one compatible string; modalias {@code of:N<node>T(null)C<compatible>} as the kernel prints a node
         * without device_type.
         */
        public static BusDevice platform(String name, String compatible, int group, String driver) {
            String node = name.substring(name.indexOf('.') + 1);
            String modalias = "of:N" + node + "T(null)C" + compatible;
            String uevent = "OF_NAME=" + node + "\nOF_FULLNAME=/" + node + "@" + name.substring(0, name.indexOf('.'))
                    + "\nOF_COMPATIBLE_0=" + compatible + "\nOF_COMPATIBLE_N=1\nMODALIAS=" + modalias + "\n";
            return new BusDevice("platform", name, "devices/platform", Optional.of(modalias), group(group),
                    Optional.ofNullable(driver), Optional.of(compatible), Map.of("uevent", uevent));
        }

        /**
         * An fsl-mc object {@code TYPE.ID} (dprc, dpni, dpio, dpmcp, ...) of vendor Freescale (0x1957), modalias
         * {@code fsl-mc:v%08Xd%s}; a container's children sit in its folder, the root container beneath the bus's
         * platform device.
         */
        public static BusDevice fslMc(String type, int id, String container, int group, String driver) {
            String parent = container == null ? "devices/platform/80c000000.fsl-mc" : "devices/platform/80c000000.fsl-mc/" + container;
            return new BusDevice("fsl-mc", type + "." + id, parent, Optional.of(String.format("fsl-mc:v%08Xd%s", 0x1957, type)),
                    group(group), Optional.ofNullable(driver), Optional.empty(), Map.of());
        }

        SimTree.Spec spec() {
            return new SimTree.Spec(bus, name, parent, modalias, iommuGroup, attrs);
        }
    }

    /** Adds a device of any bus, bound to its driver if it has one. */
    public SimulatedSysfs device(BusDevice d) throws IOException {
        Path dev = SimTree.addDevice(root, d.spec());
        if (d.compatible().isPresent()) {
            String node = d.name().substring(d.name().indexOf('.') + 1) + "@" + d.name().substring(0, d.name().indexOf('.'));
            Path of = Files.createDirectories(root.resolve("firmware/devicetree/base").resolve(node));
            // devicetree properties are raw: strings end in NUL
            Files.writeString(of.resolve("compatible"), d.compatible().get() + "\0", StandardCharsets.US_ASCII);
            Files.writeString(of.resolve("name"), node.substring(0, node.indexOf('@')) + "\0", StandardCharsets.US_ASCII);
            SimTree.relink(dev.resolve("of_node"), dev.relativize(of));
        }
        if (d.driver().isPresent()) {
            String drv = d.driver().get();
            if (!Files.isDirectory(SimTree.driverDir(root, d.bus(), drv))) throw new IllegalStateException("driver " + drv + " not loaded");
            boolean vfio = new SimulatedKernel(root).catalogDriver(drv).map(SimulatedKernel.CatalogDriver::vfio).orElse(false);
            SimTree.linkDriver(root, dev, drv, vfio);
        }
        return this;
    }

    /**
     * A container (an fsl-mc DPRC) and the children its driver's scan adds: they exist while a driver holds it, are
     * removed when it is unbound, and come back, fresh, when a driver binds it again. Each child is probed as the
     * kernel would (its driver from the catalog), not given one here.
     */
    public SimulatedSysfs container(BusDevice dprc, List<BusDevice> children) throws IOException {
        Path spec = control("containers/" + dprc.name());
        Files.createDirectories(spec.getParent());
        StringBuilder lines = new StringBuilder();
        for (BusDevice c : children) lines.append(c.spec().line()).append('\n');
        Files.writeString(spec, lines.toString(), StandardCharsets.UTF_8);
        device(dprc);
        if (dprc.driver().isPresent()) new SimulatedKernel(root).scanContainer(dprc.name());
        return this;
    }

    /**
     * vfio's unsafe no-IOMMU mode on or off ({@code vfio.enable_unsafe_noiommu_mode}): with it, a vfio driver binds a
     * device without an IOMMU group and gives it a fake group, vfio-noiommu, with the node {@code vfio/noiommu-N}.
     */
    public SimulatedSysfs noIommuMode(boolean on) throws IOException {
        Path p = Files.createDirectories(root.resolve("module/vfio/parameters"));
        Files.writeString(p.resolve("enable_unsafe_noiommu_mode"), on ? "Y\n" : "N\n", StandardCharsets.US_ASCII);
        return this;
    }

    /** A reset exists for this platform device (a vfio-platform reset module for its compatible, or ACPI _RST). */
    public SimulatedSysfs platformReset(String name) throws IOException {
        Files.writeString(control("resets"), name + "\n", StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                StandardOpenOption.APPEND);
        return this;
    }

    /**
     * Sets a module parameter as {@code modprobe MODULE NAME=VALUE} would have: in the catalog for a module not
     * loaded yet, and in {@code module/M/parameters} for one that is.
     */
    public SimulatedSysfs moduleParameter(String module, String name, String value) throws IOException {
        Path p = root.resolve("module").resolve(module).resolve("parameters").resolve(name);
        if (Files.exists(p)) Files.writeString(p, value + "\n", StandardCharsets.US_ASCII);
        Path catalog = control("drivers");
        String text = Files.readString(catalog, StandardCharsets.UTF_8);
        StringBuilder out = new StringBuilder();
        for (String line : text.split("\n", -1)) {
            String[] t = line.split(" ");
            if (t.length >= 2 && t[1].equals(module)) line = line.replaceAll(" param:" + java.util.regex.Pattern.quote(name) + "=\\S*", "")
                    + " param:" + name + "=" + value;
            out.append(line).append('\n');
        }
        Files.writeString(catalog, out.toString().replaceAll("\n+$", "\n"), StandardCharsets.UTF_8);
        return this;
    }

    /** The CDX devices of {@link #withOtherBuses}. */
    public static final String CDX_NIC = "cdx-00:00", CDX_DMA = "cdx-00:01";
    /** The platform devices of {@link #withOtherBuses}. */
    public static final String VIRTIO_MMIO = "a000000.virtio_mmio", VIRTIO_MMIO_NO_GROUP = "a000200.virtio_mmio",
            XGMAC = "fff51000.ethernet", PINCTRL = "c000000.pinctrl";
    /** The fsl-mc container of {@link #withOtherBuses} and its children. */
    public static final String DPRC = "dprc.1";
    public static final List<String> DPRC_CHILDREN = List.of("dpio.1", "dpmcp.1", "dpni.1");

    /**
     * The other buses vfiod moves devices on, beside the sample machine's PCI devices, each laid out as the kernel
     * lays it out:
     * <ul>
     * <li>CDX: the bus device {@code cdx-00} and two devices (AMD/Xilinx 10ee:8084 and 10ee:8085, IOMMU groups 10
     *     and 11) on a host driver; vfio_cdx (driver vfio-cdx) not loaded, and two variant modules a test's
     *     modules.alias can name, vfio_cdx_variant and vfio_cdx_other.
     * <li>platform: {@code a000000.virtio_mmio} on virtio-mmio (group 20, no reset), {@code a000200.virtio_mmio}
     *     with no IOMMU group, {@code fff51000.ethernet} (calxeda,hb-xgmac, group 21) for which a reset exists,
     *     {@code c000000.pinctrl} (group 22) on a driver with suppress_bind_attrs; vfio_platform not loaded, with
     *     reset_required Y.
     * <li>fsl-mc: the container {@code dprc.1} (group 30) on fsl_mc_dprc, with dpni.1, dpio.1 and dpmcp.1 in it, on
     *     their host drivers; vfio_fsl_mc not loaded. On hardware the root container stays the host's and a child
     *     container (made with restool) is the one given away; {@code dprc.1} stands for that one.
     * </ul>
     */
    public SimulatedSysfs withOtherBuses() throws IOException {
        driver("vfio-cdx", "vfio_cdx", false, "bus:cdx", "vfio", "override-only");
        driver("vfio-cdx-variant", "vfio_cdx_variant", false, "bus:cdx", "vfio", "override-only");
        driver("vfio-cdx-other", "vfio_cdx_other", false, "bus:cdx", "vfio", "override-only");
        driver("cdx-sim-net", "cdx_sim_net", true, "bus:cdx", "alias:cdx:v10EEd808*");
        device(BusDevice.cdxBus(0));
        device(BusDevice.cdx(0, 0, 0x10ee, 0x8084, 0x10ee, 0x0001, 0x020000, 10, "cdx-sim-net"));
        device(BusDevice.cdx(0, 1, 0x10ee, 0x8085, 0x10ee, 0x0002, 0x088000, 11, "cdx-sim-net"));

        driver("vfio-platform", "vfio_platform", false, "bus:platform", "vfio", "override-only", "needs-reset",
                "param:reset_required=Y");
        driver("virtio-mmio", "virtio_mmio", true, "bus:platform", "alias:of:N*T*Cvirtio,mmio");
        driver("calxedaxgmac", "calxedaxgmac", true, "bus:platform", "alias:of:N*T*Ccalxeda,hb-xgmac");
        driver("pinctrl-sim", "pinctrl_sim", true, "bus:platform", "no-bind-attrs", "alias:of:N*T*Csim,pinctrl");
        device(BusDevice.platform(VIRTIO_MMIO, "virtio,mmio", 20, "virtio-mmio"));
        device(BusDevice.platform(VIRTIO_MMIO_NO_GROUP, "virtio,mmio", -1, "virtio-mmio"));
        device(BusDevice.platform(XGMAC, "calxeda,hb-xgmac", 21, "calxedaxgmac"));
        platformReset(XGMAC);
        device(BusDevice.platform(PINCTRL, "sim,pinctrl", 22, "pinctrl-sim"));

        driver("vfio-fsl-mc", "vfio_fsl_mc", false, "bus:fsl-mc", "vfio", "override-only");
        driver("fsl_mc_dprc", "fsl_mc_dprc", true, "bus:fsl-mc", "alias:fsl-mc:v00001957ddprc");
        driver("fsl_dpaa2_eth", "fsl_dpaa2_eth", true, "bus:fsl-mc", "alias:fsl-mc:v00001957ddpni");
        driver("fsl_mc_dpio", "fsl_mc_dpio", true, "bus:fsl-mc", "alias:fsl-mc:v00001957ddpio");
        driver("fsl_mc_allocator", "fsl_mc_allocator", true, "bus:fsl-mc", "alias:fsl-mc:v00001957ddpmcp",
                "alias:fsl-mc:v00001957ddpbp");
        Files.createDirectories(root.resolve("devices/platform/80c000000.fsl-mc"));
        container(BusDevice.fslMc("dprc", 1, null, 30, "fsl_mc_dprc"), List.of(BusDevice.fslMc("dpni", 1, DPRC, 30, null),
                BusDevice.fslMc("dpio", 1, DPRC, 30, null), BusDevice.fslMc("dpmcp", 1, DPRC, 30, null)));
        return this;
    }

    /** The sample machine with the other buses of {@link #withOtherBuses}. */
    public static SimulatedSysfs allBuses(Path root) throws IOException {
        return sampleMachine(root).withOtherBuses();
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
        SimTree.relink(dev.resolve("subsystem"), Path.of("../../../bus/pci"));
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
        String name = PciAddress.parse(address).map(PciAddress::toString).orElse(address);
        SimTree.removeDevice(root, name);
        SimTree.forget(root, name);
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
