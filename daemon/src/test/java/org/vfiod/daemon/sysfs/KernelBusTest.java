package org.vfiod.daemon.sysfs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The bus table, and the reads of sysfs that follow it, on small trees laid out as the kernel lays them out. */
class KernelBusTest {
    @TempDir
    Path dir;

    @Test
    void eachBusParsesItsOwnNames() {
        assertEquals(Optional.of(new DeviceName("cdx", "cdx-00:1f")), KernelBus.CDX.parse("cdx-00:1f"));
        // the CDX bus controllers have only enable and reset: no device to move
        assertEquals(Optional.empty(), KernelBus.CDX.parse("cdx-00"));
        assertEquals(Optional.empty(), KernelBus.CDX.parse("cdx-00:1F"));
        assertEquals(Optional.empty(), KernelBus.CDX.parse("cdx-000:01"));
        for (String object : List.of("dprc.1", "dpni.0", "dpio.12", "dpmcp.23")) {
            assertEquals(Optional.of(new DeviceName("fsl-mc", object)), KernelBus.FSL_MC.parse(object), object);
        }
        for (String not : List.of("dprc", "dprc.", ".1", "DPRC.1", "dprc.1a", "dp-ni.1", "dprc.1.2")) {
            assertEquals(Optional.empty(), KernelBus.FSL_MC.parse(not), not);
        }
        for (String platform : List.of("a000000.virtio_mmio", "serial8250", "efi-framebuffer.0", "alarmtimer.0.auto")) {
            assertEquals(Optional.of(new DeviceName("platform", platform)), KernelBus.PLATFORM.parse(platform), platform);
        }
        // a name vfiod cannot put in a path or a journal word is skipped
        assertEquals(Optional.empty(), KernelBus.PLATFORM.parse("Fixed MDIO bus.0"));
        assertEquals(Optional.empty(), KernelBus.PLATFORM.parse(".."));
        assertEquals(Optional.of(KernelBus.FSL_MC), KernelBus.named("fsl-mc"));
    }

    @Test
    void theFallbackVfioDriverIsTheBusTablesAndOnlyWhereNoAliasIsWritten() {
        assertEquals(Optional.empty(), KernelBus.PCI.fallback());
        assertEquals(Optional.empty(), KernelBus.CDX.fallback(), "vfio-cdx writes vfio_cdx aliases");
        assertEquals("vfio-platform", KernelBus.PLATFORM.fallback().orElseThrow().driver().value());
        assertEquals("vfio_platform", KernelBus.PLATFORM.fallback().orElseThrow().module().value());
        assertEquals("vfio-fsl-mc", KernelBus.FSL_MC.fallback().orElseThrow().driver().value());
        assertEquals("vfio_fsl_mc", KernelBus.FSL_MC.fallback().orElseThrow().module().value());
        assertTrue(KernelBus.isFallbackDriver("vfio-platform"));
        assertFalse(KernelBus.isFallbackDriver("vfio-pci"));
        assertTrue(KernelBus.FSL_MC.isContainer(new DeviceName("fsl-mc", "dprc.2")));
        assertFalse(KernelBus.FSL_MC.isContainer(new DeviceName("fsl-mc", "dpni.2")));
        assertFalse(KernelBus.PLATFORM.isContainer(new DeviceName("platform", "dprc.2")));
    }

    @Test
    void eachBusReadsItsModaliasWhereTheKernelPutsIt() throws Exception {
        Path cdx = device("cdx", "devices/cdx-00/cdx-00:01", "cdx-00:01");
        Files.writeString(cdx.resolve("modalias"), "cdx:v10EEd8001sv0000sd0000c000000\n");
        // AMBA has no modalias file: its uevent has the line
        Path amba = device("amba", "devices/platform/9000000.pl011", "9000000.pl011");
        Files.writeString(amba.resolve("uevent"), "DRIVER=uart-pl011\nOF_NAME=pl011\nMODALIAS=amba:d00041011\n");
        Sysfs sysfs = sysfs();
        assertEquals("cdx:v10EEd8001sv0000sd0000c000000", sysfs.read(new DeviceName("cdx", "cdx-00:01")).orElseThrow().modalias());
        assertEquals("amba:d00041011", sysfs.read(new DeviceName("amba", "9000000.pl011")).orElseThrow().modalias());
        assertEquals(List.of(new DeviceName("amba", "9000000.pl011"), new DeviceName("cdx", "cdx-00:01")), sysfs.devices());
    }

    @Test
    void theCompatibleStringsAreReadFromTheDeviceTreeNode() throws Exception {
        Path eth = device("platform", "devices/platform/soc/fff51000.ethernet", "fff51000.ethernet");
        Path node = Files.createDirectories(dir.resolve("firmware/devicetree/base/soc/ethernet@fff51000"));
        Files.write(node.resolve("compatible"), "altr,socfpga-stmmac\0snps,dwmac-3.70a\0snps,dwmac\0".getBytes());
        Files.createSymbolicLink(eth.resolve("of_node"), eth.relativize(node));
        assertEquals(List.of("altr,socfpga-stmmac", "snps,dwmac-3.70a", "snps,dwmac"),
                sysfs().read(new DeviceName("platform", "fff51000.ethernet")).orElseThrow().compatible());
    }

    /**
     * A group lists names alone. A platform device may be named like a PCI address: its bus is read from its folder's
     * subsystem link, so it is the platform device, not a PCI device of that name (which guessing would say).
     */
    @Test
    void groupMembersTakeTheirBusFromTheirFolderNotTheirName() throws Exception {
        Path nic = device("pci", "devices/pci0000:00/0000:00:03.0", "0000:00:03.0");
        Path odd = device("platform", "devices/platform/0000:00:05.0", "0000:00:05.0");
        Path mmio = device("platform", "devices/platform/a000000.virtio_mmio", "a000000.virtio_mmio");
        group(7, nic, odd, mmio);
        Sysfs sysfs = sysfs();
        assertEquals(List.of(new DeviceName("pci", "0000:00:03.0"), new DeviceName("platform", "0000:00:05.0"),
                new DeviceName("platform", "a000000.virtio_mmio")), sysfs.groupMembers(7));
        Device d = sysfs.read(new DeviceName("platform", "a000000.virtio_mmio")).orElseThrow();
        assertEquals(OptionalInt.of(7), d.iommuGroup());
        assertEquals(3, d.groupMembers().size());
    }

    @Test
    void aDriverWithoutBindAttributesAndTheNoIommuModeAreRead() throws Exception {
        device("platform", "devices/platform/a000000.virtio_mmio", "a000000.virtio_mmio");
        Files.createDirectories(dir.resolve("bus/platform/drivers/virtio-mmio"));
        Files.createFile(dir.resolve("bus/platform/drivers/virtio-mmio/unbind"));
        Files.createFile(dir.resolve("bus/platform/drivers/virtio-mmio/bind"));
        Files.createDirectories(dir.resolve("bus/platform/drivers/gpio-keys"));
        Sysfs sysfs = sysfs();
        DeviceName mmio = new DeviceName("platform", "a000000.virtio_mmio");
        assertTrue(sysfs.driverHas(mmio, new DriverName("virtio-mmio"), "unbind"));
        assertFalse(sysfs.driverHas(mmio, new DriverName("gpio-keys"), "unbind"));
        assertFalse(sysfs.noIommuMode());
        Path params = Files.createDirectories(dir.resolve("module/vfio/parameters"));
        Files.writeString(params.resolve("enable_unsafe_noiommu_mode"), "N\n");
        assertFalse(sysfs.noIommuMode());
        Files.writeString(params.resolve("enable_unsafe_noiommu_mode"), "Y\n");
        assertTrue(sysfs.noIommuMode());
    }

    @Test
    void vfioPlatformsResetRequirementIsNamedWhenItsProbeFails() throws Exception {
        device("platform", "devices/platform/a000000.virtio_mmio", "a000000.virtio_mmio");
        DeviceName mmio = new DeviceName("platform", "a000000.virtio_mmio");
        Sysfs sysfs = sysfs();
        assertEquals(Optional.empty(), sysfs.probeFailureHint(mmio));
        Path params = Files.createDirectories(dir.resolve("module/vfio_platform/parameters"));
        Files.writeString(params.resolve("reset_required"), "Y\n");
        String hint = sysfs.probeFailureHint(mmio).orElseThrow();
        assertTrue(hint.contains("reset module") && hint.contains("_RST") && hint.contains("vfio_platform.reset_required=0"), hint);
        Files.writeString(params.resolve("reset_required"), "N\n");
        assertEquals(Optional.empty(), sysfs.probeFailureHint(mmio));
        assertEquals(Optional.empty(), sysfs.probeFailureHint(PciAddress.require("0000:00:03.0").toDeviceName()));
    }

    /** fsl-mc: the objects beneath a DPRC's folder are its own; a nested DPRC is a container of its own. */
    @Test
    void anFslMcObjectBelongsToTheNearestContainerAboveIt() throws Exception {
        String mc = "devices/platform/80c000000.fsl-mc/";
        device("fsl-mc", mc + "dprc.1", "dprc.1");
        device("fsl-mc", mc + "dprc.1/dpni.0", "dpni.0");
        device("fsl-mc", mc + "dprc.1/dprc.2", "dprc.2");
        device("fsl-mc", mc + "dprc.1/dprc.2/dpni.1", "dpni.1");
        device("fsl-mc", mc + "dprc.1/dprc.2/dpio.3", "dpio.3");
        Sysfs sysfs = sysfs();
        DeviceName dprc1 = new DeviceName("fsl-mc", "dprc.1"), dprc2 = new DeviceName("fsl-mc", "dprc.2");
        assertEquals(Optional.of(dprc2), sysfs.containerOf(new DeviceName("fsl-mc", "dpni.1")));
        assertEquals(Optional.of(dprc1), sysfs.containerOf(new DeviceName("fsl-mc", "dpni.0")));
        assertEquals(Optional.empty(), sysfs.containerOf(dprc2), "a container is a unit of its own");
        assertEquals(List.of(new DeviceName("fsl-mc", "dpio.3"), new DeviceName("fsl-mc", "dpni.1")), sysfs.containedIn(dprc2));
        assertEquals(List.of(new DeviceName("fsl-mc", "dpni.0")), sysfs.containedIn(dprc1));
    }

    // ---- a tree as the kernel lays it out --------------------------------------------------------------------

    /** A device folder with its subsystem link and its {@code bus/<bus>/devices} entry. */
    private Path device(String bus, String folder, String name) throws IOException {
        Path dev = Files.createDirectories(dir.resolve(folder));
        Path busDir = Files.createDirectories(dir.resolve("bus").resolve(bus).resolve("devices")).getParent();
        Files.writeString(dev.resolve("driver_override"), "(null)\n");
        if (!Files.exists(dev.resolve("modalias"))) Files.writeString(dev.resolve("modalias"), bus + ":x\n");
        Files.createSymbolicLink(dev.resolve("subsystem"), dev.relativize(busDir));
        Files.createSymbolicLink(busDir.resolve("devices").resolve(name), busDir.resolve("devices").relativize(dev));
        return dev;
    }

    private void group(int n, Path... members) throws IOException {
        Path g = Files.createDirectories(dir.resolve("kernel/iommu_groups").resolve(Integer.toString(n)).resolve("devices"));
        for (Path m : members) {
            Files.createSymbolicLink(g.resolve(m.getFileName()), g.relativize(m));
            Files.createSymbolicLink(m.resolve("iommu_group"), m.relativize(g.getParent()));
        }
    }

    private Sysfs sysfs() throws IOException {
        return new Sysfs(dir, (attr, value) -> {
            throw new IOException("no writes here");
        });
    }
}
