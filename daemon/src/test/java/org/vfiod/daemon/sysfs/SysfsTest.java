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
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.vfiod.daemon.sim.SimulatedKernel;
import org.vfiod.daemon.sim.SimulatedSysfs;

class SysfsTest {
    @TempDir
    Path dir;

    @Test
    void addressesParseStrictlyAndPrintCanonically() {
        assertEquals("0000:01:00.0", PciAddress.require("0000:01:00.0").toString());
        assertEquals("0000:01:00.0", PciAddress.require("01:00.0").toString());
        assertEquals("abcd:ef:1f.7", PciAddress.require("ABCD:EF:1F.7").toString());
        assertEquals("pci_0000_01_00_1", PciAddress.require("01:00.1").objectPathElement());
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "0000:01:00", "0000:01:00.8", "0000:01:20.0", "00000:01:00.0", "0000:001:00.0",
            "0000:01:00.0 ", " 0000:01:00.0", "0000:01:00.0/..", "../0000:01:00.0", "0000:01:00.0\0", "0000:g1:00.0",
            "0000-01-00.0", "0x00:01:00.0", "1:00.0", "+000:01:00.0", "0000:01:00.-1", "0000:01:00.0\n"})
    void anythingElseIsRejected(String text) {
        assertTrue(PciAddress.parse(text).isEmpty(), text);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PciAddress.require(text));
        assertTrue(e.getMessage().contains("is not a PCI address"), e.getMessage());
        assertFalse(e.getMessage().contains("\0"));
    }

    @Test
    void aTenKilobyteStringIsRejectedWithAShortMessage() {
        String huge = "0".repeat(10_000);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PciAddress.require(huge));
        assertTrue(e.getMessage().length() < 200);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", ".", "..", "../x", "a/b", "vfio pci", "-rf", "x\0", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"})
    void driverNamesThatCouldEscapeAreRejected(String name) {
        assertFalse(DriverName.isValid(name), name);
        assertThrows(IllegalArgumentException.class, () -> new DriverName(name));
    }

    @Test
    void theIdsComeFromTheModaliasAsFromTheirAttributes() throws Exception {
        assertEquals(List.of(0x8086, 0x10d3, 0x020000, 0x8086, 0xa01f),
                java.util.Arrays.stream(Sysfs.idsOf("pci:v00008086d000010D3sv00008086sd0000A01Fbc02sc00i00")).boxed().toList());
        assertEquals(List.of(0xffff, 0xffff, 0xffffff, 0xffff, 0xffff),
                java.util.Arrays.stream(Sysfs.idsOf("pci:v0000FFFFd0000FFFFsv0000FFFFsd0000FFFFbcFFscFFiFF")).boxed().toList());
        // anything but the kernel's exact format: the attributes are read instead
        for (String other : List.of("", "pci:v00008086d000010D3sv00008086sd0000A01Fbc02sc00i0",
                "pci:v00008086d000010d3sv00008086sd0000A01Fbc02sc00i00", "pci:v00018086d000010D3sv00008086sd0000A01Fbc02sc00i00",
                "pci:v00008086d000010D3sv00008086sd0000A01Fbc02sc00x00", "usb:v00008086d000010D3sv00008086sd0000A01Fbc02sc00i00",
                "pci:v-0008086d000010D3sv00008086sd0000A01Fbc02sc00i00")) {
            assertEquals(null, Sysfs.idsOf(other), other);
        }
        // on every device of the sample machine, the same figures as the five attributes
        SimulatedSysfs.sampleMachine(dir);
        Sysfs sysfs = new Sysfs(dir, new SimulatedKernel(dir));
        for (PciDevice d : sysfs.readAll()) {
            Path dev = dir.resolve("bus/pci/devices").resolve(d.address().toString());
            assertEquals(List.of(d.vendorId(), d.deviceId(), d.classCode(), d.subsystemVendorId(), d.subsystemDeviceId()),
                    java.util.stream.Stream.of("vendor", "device", "class", "subsystem_vendor", "subsystem_device")
                            .map(a -> Integer.parseInt(read(dev.resolve(a)).substring(2), 16)).toList(), d.address().toString());
        }
    }

    private static String read(Path p) {
        try {
            return Files.readString(p).strip();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void readsEveryAttributeOfADevice() throws Exception {
        SimulatedSysfs sim = SimulatedSysfs.sampleMachine(dir);
        Sysfs sysfs = new Sysfs(dir, new SimulatedKernel(dir));
        PciDevice gpu = sysfs.read(PciAddress.require("0000:01:00.0")).orElseThrow();
        assertEquals("pci:v00001002d000073BFsv00001002sd00000001bc03sc00i00", gpu.modalias());
        assertEquals(0x1002, gpu.vendorId());
        assertEquals(0x73bf, gpu.deviceId());
        assertEquals(0x030000, gpu.classCode());
        assertEquals(0x1002, gpu.subsystemVendorId());
        assertEquals(0x0001, gpu.subsystemDeviceId());
        assertEquals(Optional.of("amdgpu"), gpu.driver());
        assertEquals(Optional.empty(), gpu.driverOverride());
        assertEquals(OptionalInt.of(1), gpu.iommuGroup());
        assertEquals(List.of(PciAddress.require("0000:00:01.0"), PciAddress.require("0000:01:00.0"),
                PciAddress.require("0000:01:00.1")), gpu.groupMembers());
        assertFalse(gpu.bootVga());
        assertFalse(gpu.vfioDev());
        assertTrue(sysfs.read(PciAddress.require("0000:00:02.0")).orElseThrow().bootVga());
        assertTrue(sysfs.read(PciAddress.require("0000:00:01.0")).orElseThrow().isBridge());
        PciDevice pf = sysfs.read(PciAddress.require("0000:04:00.0")).orElseThrow();
        PciDevice vf = sysfs.read(PciAddress.require("0000:04:00.1")).orElseThrow();
        assertEquals(List.of(PciAddress.require("0000:04:00.1")), pf.virtfns());
        assertEquals(Optional.of(PciAddress.require("0000:04:00.0")), vf.physfn());
        assertEquals(Optional.empty(), sysfs.read(PciAddress.require("0000:09:00.0")));
        assertEquals(7, sysfs.pciDevices().size());
        assertEquals(sim.root().toRealPath(), sysfs.root());
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
        assertThrows(OutsideSysfsException.class, () -> sysfs.read(PciAddress.require("0000:05:00.0")));
        assertThrows(OutsideSysfsException.class,
                () -> sysfs.writeDriverOverride(PciAddress.require("0000:05:00.0"), Optional.of(new DriverName("vfio-pci"))));
        assertEquals("secret\n", Files.readString(fake.resolve("driver_override")));
        // a driver link pointing out is refused too
        Path nic = dir.resolve("devices/pci0000:00/0000:03:00.0");
        Files.delete(nic.resolve("driver"));
        Files.createSymbolicLink(nic.resolve("driver"), outside);
        assertThrows(OutsideSysfsException.class, () -> sysfs.read(PciAddress.require("0000:03:00.0")));
    }

    @Test
    void theRealKernelWriterNeverCreatesAnAttribute() throws Exception {
        Path missing = dir.resolve("driver_override");
        assertThrows(java.nio.file.NoSuchFileException.class, () -> new FileKernelWriter().write(missing, "x"));
        assertFalse(Files.exists(missing));
        Files.writeString(missing, "");
        new FileKernelWriter().write(missing, "vfio-pci");
        assertEquals("vfio-pci", Files.readString(missing));
    }
}
