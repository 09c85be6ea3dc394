package org.vfiod.daemon.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vfiod.daemon.sysfs.DriverName;
import org.vfiod.daemon.udev.DeviceEvent;
import org.vfiod.daemon.udev.DeviceEventSource;

/**
 * The simulated CDX, platform and fsl-mc buses, written to the way a tool would (override, unbind, probe) and read
 * back as files and links: the layout the daemon's generic Sysfs reads, and the kernel behaviour each bus's vfio
 * driver has.
 */
class SimulatedBusesTest {
    @TempDir
    Path dir;
    SimulatedSysfs sim;
    SimulatedKernel kernel;
    Path root;

    @BeforeEach
    void setUp() throws Exception {
        sim = SimulatedSysfs.allBuses(dir.resolve("sys"));
        root = sim.root().toRealPath();
        kernel = new SimulatedKernel(root);
    }

    private Path dev(String bus, String name) throws Exception {
        return root.resolve("bus").resolve(bus).resolve("devices").resolve(name).toRealPath();
    }

    private String read(Path p) throws Exception {
        return Files.readString(p, StandardCharsets.ISO_8859_1);
    }

    private String driver(String bus, String name) throws Exception {
        return SimTree.driverOf(dev(bus, name)).orElse("");
    }

    private String link(Path p) throws Exception {
        return root.relativize(p.getParent().resolve(Files.readSymbolicLink(p)).normalize()).toString();
    }

    /** What a tool does to move a device: override, unbind from its driver, probe. */
    private void move(String bus, String name, String to) throws Exception {
        Path d = dev(bus, name);
        kernel.write(d.resolve("driver_override"), to.isEmpty() ? "\n" : to);
        Optional<String> from = SimTree.driverOf(d);
        if (from.isPresent()) kernel.write(root.resolve("bus").resolve(bus).resolve("drivers").resolve(from.get()).resolve("unbind"), name);
        kernel.write(root.resolve("bus").resolve(bus).resolve("drivers_probe"), name);
    }

    @Test
    void cdxIsLaidOutAsTheKernelLaysItOut() throws Exception {
        Path d = dev("cdx", "cdx-00:00");
        assertEquals("devices/platform/cdx-controller/cdx-00/cdx-00:00", root.relativize(d).toString());
        assertEquals("cdx:v10EEd8084sv10EEsd0001c020000\n", read(d.resolve("modalias")));
        assertEquals("(null)\n", read(d.resolve("driver_override")));
        assertEquals("bus/cdx", link(d.resolve("subsystem")));
        assertEquals("kernel/iommu_groups/10", link(d.resolve("iommu_group")));
        assertEquals("bus/cdx/drivers/cdx-sim-net", link(d.resolve("driver")));
        assertEquals("devices/platform/cdx-controller/cdx-00/cdx-00:00", link(root.resolve("kernel/iommu_groups/10/devices/cdx-00:00")));
        assertEquals("devices/platform/cdx-controller/cdx-00/cdx-00:00", link(root.resolve("bus/cdx/drivers/cdx-sim-net/cdx-00:00")));
        assertEquals("bus/cdx/drivers/cdx-sim-net", link(root.resolve("module/cdx_sim_net/drivers/cdx:cdx-sim-net")));
        for (String f : List.of("drivers_probe", "drivers_autoprobe")) assertTrue(Files.exists(root.resolve("bus/cdx").resolve(f)), f);
        assertEquals("1\n", read(root.resolve("bus/cdx/drivers_autoprobe")));
        // the bus device: enable and reset only, no modalias, no driver_override; its devices' folders sit in it
        try (Stream<Path> s = Files.list(dev("cdx", "cdx-00"))) {
            assertEquals(List.of("enable", "reset", "subsystem"), s.filter(p -> !Files.isDirectory(p, java.nio.file.LinkOption.NOFOLLOW_LINKS))
                    .map(p -> p.getFileName().toString()).sorted().toList());
        }
    }

    @Test
    void vfioCdxBindsOnlyThroughDriverOverride() throws Exception {
        kernel.load(new DriverName("vfio_cdx"));
        assertTrue(Files.isSymbolicLink(root.resolve("module/vfio_cdx/drivers/cdx:vfio-cdx")));
        kernel.write(root.resolve("bus/cdx/drivers/cdx-sim-net/unbind"), "cdx-00:00");
        kernel.write(root.resolve("bus/cdx/drivers_probe"), "cdx-00:00");
        assertEquals("cdx-sim-net", driver("cdx", "cdx-00:00"), "an override-only driver is never matched by its ids");
        move("cdx", "cdx-00:00", "vfio-cdx");
        assertEquals("vfio-cdx", driver("cdx", "cdx-00:00"));
        assertTrue(Files.isDirectory(dev("cdx", "cdx-00:00").resolve("vfio-dev")));
        move("cdx", "cdx-00:00", "");
        assertEquals("cdx-sim-net", driver("cdx", "cdx-00:00"));
        assertEquals("(null)\n", read(dev("cdx", "cdx-00:00").resolve("driver_override")));
    }

    @Test
    void aPlatformDeviceHasItsDevicetreeNode() throws Exception {
        Path d = dev("platform", SimulatedSysfs.VIRTIO_MMIO);
        assertEquals("devices/platform/a000000.virtio_mmio", root.relativize(d).toString());
        assertEquals("of:Nvirtio_mmioT(null)Cvirtio,mmio\n", read(d.resolve("modalias")));
        assertEquals("virtio,mmio\0", read(d.resolve("of_node/compatible")));
        assertEquals("firmware/devicetree/base/virtio_mmio@a000000", link(d.resolve("of_node")));
        assertTrue(read(d.resolve("uevent")).contains("OF_COMPATIBLE_0=virtio,mmio\n"));
        assertEquals("virtio-mmio", driver("platform", SimulatedSysfs.VIRTIO_MMIO));
        assertFalse(Files.exists(dev("platform", SimulatedSysfs.VIRTIO_MMIO_NO_GROUP).resolve("iommu_group")));
    }

    @Test
    void vfioPlatformNeedsAResetUnlessTheModuleSaysOtherwise() throws Exception {
        kernel.load(new DriverName("vfio_platform"));
        assertEquals("Y\n", read(root.resolve("module/vfio_platform/parameters/reset_required")));
        move("platform", SimulatedSysfs.VIRTIO_MMIO, "vfio-platform");
        assertEquals("", driver("platform", SimulatedSysfs.VIRTIO_MMIO), "the probe failed: no driver");
        assertTrue(sim.kernelLog().contains("vfio-platform a000000.virtio_mmio: No reset function found for device a000000.virtio_mmio"),
                sim.kernelLog());
        // a device a reset exists for binds
        move("platform", SimulatedSysfs.XGMAC, "vfio-platform");
        assertEquals("vfio-platform", driver("platform", SimulatedSysfs.XGMAC));
        // loaded with reset_required=0, it binds without one
        sim.moduleParameter("vfio_platform", "reset_required", "N");
        kernel.write(root.resolve("bus/platform/drivers_probe"), SimulatedSysfs.VIRTIO_MMIO);
        assertEquals("vfio-platform", driver("platform", SimulatedSysfs.VIRTIO_MMIO));
        // and its host driver takes it back once the override is gone
        move("platform", SimulatedSysfs.VIRTIO_MMIO, "");
        assertEquals("virtio-mmio", driver("platform", SimulatedSysfs.VIRTIO_MMIO));
    }

    @Test
    void aVfioDriverRefusesADeviceWithoutAnIommuGroup() throws Exception {
        kernel.load(new DriverName("vfio_platform"));
        sim.moduleParameter("vfio_platform", "reset_required", "N");
        move("platform", SimulatedSysfs.VIRTIO_MMIO_NO_GROUP, "vfio-platform");
        assertEquals("", driver("platform", SimulatedSysfs.VIRTIO_MMIO_NO_GROUP));
        assertTrue(sim.kernelLog().contains("a000200.virtio_mmio: No IOMMU group"), sim.kernelLog());
    }

    @Test
    void inNoIommuModeAVfioDriverGivesTheDeviceAFakeGroupForAsLongAsItHoldsIt() throws Exception {
        Path devRoot = dir.resolve("dev");
        sim.devRoot(devRoot).noIommuMode(true);
        kernel.load(new DriverName("vfio_platform"));
        sim.moduleParameter("vfio_platform", "reset_required", "N");
        move("platform", SimulatedSysfs.VIRTIO_MMIO_NO_GROUP, "vfio-platform");
        assertEquals("vfio-platform", driver("platform", SimulatedSysfs.VIRTIO_MMIO_NO_GROUP));
        Path d = dev("platform", SimulatedSysfs.VIRTIO_MMIO_NO_GROUP);
        // the lowest free group number: the sample machine's groups are 1-5, 10, 11, 20-22, 30
        assertEquals("kernel/iommu_groups/0", link(d.resolve("iommu_group")));
        assertEquals("vfio-noiommu\n", read(root.resolve("kernel/iommu_groups/0/name")));
        assertTrue(Files.exists(devRoot.resolve("vfio/noiommu-0")));
        assertFalse(Files.exists(devRoot.resolve("vfio/0")));
        move("platform", SimulatedSysfs.VIRTIO_MMIO_NO_GROUP, "");
        assertEquals("virtio-mmio", driver("platform", SimulatedSysfs.VIRTIO_MMIO_NO_GROUP));
        assertFalse(Files.exists(d.resolve("iommu_group"), java.nio.file.LinkOption.NOFOLLOW_LINKS), "the fake group goes with vfio");
        assertFalse(Files.exists(root.resolve("kernel/iommu_groups/0")));
        assertFalse(Files.exists(devRoot.resolve("vfio/noiommu-0")));
    }

    @Test
    void aDriverWithSuppressedBindAttributesHasNoUnbind() throws Exception {
        Path drv = root.resolve("bus/platform/drivers/pinctrl-sim");
        assertTrue(Files.isDirectory(drv));
        assertFalse(Files.exists(drv.resolve("unbind")));
        assertFalse(Files.exists(drv.resolve("bind")));
        assertThrows(NoSuchFileException.class, () -> kernel.write(drv.resolve("unbind"), SimulatedSysfs.PINCTRL));
        assertEquals("pinctrl-sim", driver("platform", SimulatedSysfs.PINCTRL));
        assertTrue(Files.exists(root.resolve("bus/platform/drivers/virtio-mmio/unbind")));
    }

    @Test
    void theDprcsChildrenFollowItToVfioAndBack() throws Exception {
        Path dprc = dev("fsl-mc", "dprc.1");
        assertEquals("devices/platform/80c000000.fsl-mc/dprc.1", root.relativize(dprc).toString());
        assertEquals("fsl-mc:v00001957ddprc\n", read(dprc.resolve("modalias")));
        for (String c : SimulatedSysfs.DPRC_CHILDREN) {
            assertEquals("devices/platform/80c000000.fsl-mc/dprc.1/" + c, root.relativize(dev("fsl-mc", c)).toString());
            assertEquals("kernel/iommu_groups/30", link(dev("fsl-mc", c).resolve("iommu_group")), "one group per container");
        }
        assertEquals("fsl_dpaa2_eth", driver("fsl-mc", "dpni.1"));
        assertEquals("fsl_mc_dpio", driver("fsl-mc", "dpio.1"));
        assertEquals("fsl_mc_allocator", driver("fsl-mc", "dpmcp.1"));

        kernel.load(new DriverName("vfio_fsl_mc"));
        kernel.write(dprc.resolve("driver_override"), "vfio-fsl-mc");
        kernel.write(root.resolve("bus/fsl-mc/drivers/fsl_mc_dprc/unbind"), "dprc.1");
        for (String c : SimulatedSysfs.DPRC_CHILDREN) {
            assertFalse(Files.exists(root.resolve("bus/fsl-mc/devices").resolve(c)), c + " goes with its container's driver");
            assertFalse(Files.exists(root.resolve("kernel/iommu_groups/30/devices").resolve(c)));
        }
        kernel.write(root.resolve("bus/fsl-mc/drivers_probe"), "dprc.1");
        assertEquals("vfio-fsl-mc", driver("fsl-mc", "dprc.1"));
        for (String c : SimulatedSysfs.DPRC_CHILDREN) {
            assertEquals("vfio-fsl-mc", driver("fsl-mc", c), c + " follows its container");
            assertEquals("vfio-fsl-mc\n", read(dev("fsl-mc", c).resolve("driver_override")));
        }

        kernel.write(dprc.resolve("driver_override"), "\n");
        kernel.write(root.resolve("bus/fsl-mc/drivers/vfio-fsl-mc/unbind"), "dprc.1");
        kernel.write(root.resolve("bus/fsl-mc/drivers_probe"), "dprc.1");
        assertEquals("fsl_mc_dprc", driver("fsl-mc", "dprc.1"));
        assertEquals("fsl_dpaa2_eth", driver("fsl-mc", "dpni.1"));
        for (String c : SimulatedSysfs.DPRC_CHILDREN) assertEquals("(null)\n", read(dev("fsl-mc", c).resolve("driver_override")));
    }

    @Test
    void aContainerLeftWithoutADriverHasNoChildren() throws Exception {
        kernel.write(root.resolve("bus/fsl-mc/drivers/fsl_mc_dprc/unbind"), "dprc.1");
        assertEquals("", driver("fsl-mc", "dprc.1"));
        try (Stream<Path> s = Files.list(root.resolve("bus/fsl-mc/devices"))) {
            assertEquals(List.of("dprc.1"), s.map(p -> p.getFileName().toString()).toList());
        }
        // a child bound alone is accepted by the kernel (vfiod is the one that refuses it)
        kernel.write(root.resolve("bus/fsl-mc/drivers/fsl_mc_dprc/bind"), "dprc.1");
        kernel.load(new DriverName("vfio_fsl_mc"));
        move("fsl-mc", "dpni.1", "vfio-fsl-mc");
        assertEquals("vfio-fsl-mc", driver("fsl-mc", "dpni.1"));
        assertEquals("fsl_mc_dprc", driver("fsl-mc", "dprc.1"));
    }

    @Test
    void eventsNameEachBusAndOnlyTheBusesAskedFor() throws Exception {
        List<DeviceEvent> seen = new ArrayList<>();
        try (SimulatedEventSource source = new SimulatedEventSource(root, false)) {
            source.start(Set.of("pci", "cdx", "fsl-mc"), new DeviceEventSource.Listener() {
                @Override
                public void onEnumerated(List<DeviceEvent> present) {
                    seen.addAll(present);
                }

                @Override
                public void onEvent(DeviceEvent event) {
                    seen.add(event);
                }

                @Override
                public void onOverflow() {
                }
            });
        }
        assertTrue(seen.stream().anyMatch(e -> e.subsystem().equals("cdx") && e.sysname().equals("cdx-00:00")
                && e.driver().equals(Optional.of("cdx-sim-net"))), seen.toString());
        assertTrue(seen.stream().anyMatch(e -> e.subsystem().equals("fsl-mc") && e.sysname().equals("dpni.1")), seen.toString());
        assertTrue(seen.stream().anyMatch(e -> e.subsystem().equals("pci") && e.sysname().equals("0000:03:00.0")
                && e.properties().get("PCI_SLOT_NAME").equals("0000:03:00.0")));
        assertFalse(seen.stream().anyMatch(e -> e.subsystem().equals("platform")), "platform was not asked for");
    }
}
