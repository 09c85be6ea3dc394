package org.vfiod.daemon.sysfs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Addresses, driver names and the real kernel writer; reading and writing a tree is SysfsTreeTest (module sim). */
class SysfsTest {
    @TempDir
    Path dir;

    @Test
    void addressesParseStrictlyAndPrintCanonically() {
        assertEquals("0000:01:00.0", PciAddress.require("0000:01:00.0").toString());
        assertEquals("0000:01:00.0", PciAddress.require("01:00.0").toString());
        assertEquals("abcd:ef:1f.7", PciAddress.require("ABCD:EF:1F.7").toString());
        assertEquals("pci_0000_3a01_3a00_2e1", PciAddress.require("01:00.1").toDeviceName().objectPathElement());
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
