package org.vfiod.daemon.sysfs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vfiod.daemon.sim.SimulatedKernel;
import org.vfiod.daemon.sim.SimulatedSysfs;

/** Sysfs over the simulated sample machine: what it reads, how it finds drivers, and the links it refuses. */
class SysfsTreeTest {
    @TempDir
    Path dir;

    @Test
    void readsEveryAttributeOfADevice() throws Exception {
        SimulatedSysfs sim = SimulatedSysfs.sampleMachine(dir);
        Sysfs sysfs = new Sysfs(dir, new SimulatedKernel(dir));
        Device gpu = sysfs.read(PciAddress.require("0000:01:00.0").toDeviceName()).orElseThrow();
        assertEquals("pci:v00001002d000073BFsv00001002sd00000001bc03sc00i00", gpu.modalias());
        assertEquals(0x1002, gpu.pci().orElseThrow().vendorId());
        assertEquals(0x73bf, gpu.pci().orElseThrow().deviceId());
        assertEquals(0x030000, gpu.pci().orElseThrow().classCode());
        assertEquals(0x1002, gpu.pci().orElseThrow().subsystemVendorId());
        assertEquals(0x0001, gpu.pci().orElseThrow().subsystemDeviceId());
        assertEquals(Optional.of("amdgpu"), gpu.driver());
        assertEquals(Optional.empty(), gpu.driverOverride());
        assertEquals(OptionalInt.of(1), gpu.iommuGroup());
        assertEquals(List.of(PciAddress.require("0000:00:01.0").toDeviceName(), PciAddress.require("0000:01:00.0").toDeviceName(),
                PciAddress.require("0000:01:00.1").toDeviceName()), gpu.groupMembers());
        assertFalse(gpu.bootVga());
        assertFalse(gpu.vfioDev());
        assertTrue(sysfs.read(PciAddress.require("0000:00:02.0").toDeviceName()).orElseThrow().bootVga());
        assertTrue(sysfs.read(PciAddress.require("0000:00:01.0").toDeviceName()).orElseThrow().bridge());
        Device pf = sysfs.read(PciAddress.require("0000:04:00.0").toDeviceName()).orElseThrow();
        Device vf = sysfs.read(PciAddress.require("0000:04:00.1").toDeviceName()).orElseThrow();
        assertEquals(List.of(PciAddress.require("0000:04:00.1")), pf.pci().orElseThrow().virtfns());
        assertEquals(Optional.of(PciAddress.require("0000:04:00.0")), vf.pci().orElseThrow().physfn());
        assertEquals(new Device.Ids(0x1002, 0x73bf, 0x030000), gpu.ids());
        assertEquals(Optional.empty(), sysfs.read(PciAddress.require("0000:09:00.0").toDeviceName()));
        assertEquals(7, sysfs.devices().size());
        assertEquals(sim.root().toRealPath(), sysfs.root());
    }

    @Test
    void theIdsFromTheModaliasAreThoseOfTheFiveAttributesOnEveryDevice() throws Exception {
        SimulatedSysfs.sampleMachine(dir);
        Sysfs sysfs = new Sysfs(dir, new SimulatedKernel(dir));
        for (Device d : sysfs.readAll()) {
            PciInfo p = d.pci().orElseThrow();
            Path dev = dir.resolve("bus/pci/devices").resolve(d.name().name());
            List<Integer> files = new java.util.ArrayList<>();
            for (String a : List.of("vendor", "device", "class", "subsystem_vendor", "subsystem_device")) {
                files.add(Integer.parseInt(Files.readString(dev.resolve(a)).strip().substring(2), 16));
            }
            assertEquals(files, List.of(p.vendorId(), p.deviceId(), p.classCode(), p.subsystemVendorId(), p.subsystemDeviceId()),
                    d.name().toString());
        }
    }

    @Test
    void theModuleNameLeadsToTheDriverName() throws Exception {
        SimulatedSysfs.sampleMachine(dir);
        SimulatedKernel kernel = new SimulatedKernel(dir);
        Sysfs sysfs = new Sysfs(dir, kernel);
        assertEquals(Optional.empty(), sysfs.driverOfModule(new DriverName("vfio_pci")));
        kernel.load(new DriverName("vfio_pci"));
        assertEquals(Optional.of(new DriverName("vfio-pci")), sysfs.driverOfModule(new DriverName("vfio_pci")));
        // without a module/ entry (some built-in drivers), the - and _ spellings under bus/pci/drivers are tried
        Files.delete(dir.resolve("module/vfio_pci/drivers/pci:vfio-pci"));
        assertEquals(Optional.of(new DriverName("vfio-pci")), sysfs.driverOfModule(new DriverName("vfio_pci")));
        assertEquals(Optional.of(new DriverName("snd_hda_intel")), sysfs.driverOfModule(new DriverName("snd-hda-intel")));
        assertEquals(Optional.empty(), sysfs.driverOfModule(new DriverName("nothing_here")));
    }

    @Test
    void aLinkOutOfTheRootIsNeitherReadNorWritten(@TempDir Path outside) throws Exception {
        SimulatedSysfs.sampleMachine(dir);
        Path fake = Files.createDirectories(outside.resolve("0000:05:00.0"));
        Files.writeString(fake.resolve("driver_override"), "secret\n");
        Files.createSymbolicLink(dir.resolve("bus/pci/devices/0000:05:00.0"), fake);
        Sysfs sysfs = new Sysfs(dir, (attr, value) -> {
            throw new AssertionError("no write may happen: " + attr);
        });
        assertThrows(OutsideSysfsException.class, () -> sysfs.read(PciAddress.require("0000:05:00.0").toDeviceName()));
        assertThrows(OutsideSysfsException.class,
                () -> sysfs.writeDriverOverride(PciAddress.require("0000:05:00.0").toDeviceName(), Optional.of(new DriverName("vfio-pci"))));
        assertEquals("secret\n", Files.readString(fake.resolve("driver_override")));
        // a driver link pointing out is refused too
        Path nic = dir.resolve("devices/pci0000:00/0000:03:00.0");
        Files.delete(nic.resolve("driver"));
        Files.createSymbolicLink(nic.resolve("driver"), outside);
        assertThrows(OutsideSysfsException.class, () -> sysfs.read(PciAddress.require("0000:03:00.0").toDeviceName()));
    }

    /**
     * The generic reads and writes follow the device's own bus: a platform device is read without a PCI part and
     * written under bus/platform, never under bus/pci, and listed with the PCI devices.
     */
    @Test
    void aDeviceIsReadAndWrittenOnItsOwnBus() throws Exception {
        SimulatedSysfs.sampleMachine(dir);
        Path folder = Files.createDirectories(dir.resolve("devices/platform/fff51000.ethernet"));
        Files.writeString(folder.resolve("modalias"), "of:NethernetT(null)Csnps,dwmac\n");
        Files.writeString(folder.resolve("driver_override"), "(null)\n");
        Path driver = Files.createDirectories(dir.resolve("bus/platform/drivers/stmmaceth"));
        Files.createSymbolicLink(folder.resolve("driver"), folder.relativize(driver));
        Files.writeString(driver.resolve("unbind"), "");
        Files.writeString(dir.resolve("bus/platform/drivers_probe"), "");
        Files.createDirectories(dir.resolve("bus/platform/devices"));
        Files.createSymbolicLink(dir.resolve("bus/platform/devices/fff51000.ethernet"),
                dir.resolve("bus/platform/devices").relativize(folder));
        List<String> writes = new java.util.ArrayList<>();
        Sysfs sysfs = new Sysfs(dir, (attr, value) -> writes.add(dir.toRealPath().relativize(attr) + " " + value.strip()));
        DeviceName eth = new DeviceName("platform", "fff51000.ethernet");

        Device d = sysfs.read(eth).orElseThrow();
        assertEquals(new Device(eth, "of:NethernetT(null)Csnps,dwmac", Optional.of("stmmaceth"), Optional.empty(),
                OptionalInt.empty(), List.of(eth), false, false, false, Optional.empty()), d);
        assertEquals(Device.Ids.NONE, d.ids());
        assertEquals(Optional.of("stmmaceth"), sysfs.currentDriver(eth));
        sysfs.writeDriverOverride(eth, Optional.of(new DriverName("vfio-platform")));
        sysfs.unbind(eth, new DriverName("stmmaceth"));
        sysfs.probe(eth);
        assertEquals(List.of("devices/platform/fff51000.ethernet/driver_override vfio-platform",
                "bus/platform/drivers/stmmaceth/unbind fff51000.ethernet", "bus/platform/drivers_probe fff51000.ethernet"), writes);
        assertTrue(sysfs.devices().contains(eth), "platform is a bus vfiod implements: its devices are listed");
        assertEquals(Optional.empty(), sysfs.read(new DeviceName("platform", "absent.0")));
    }
}
