package org.vfiod.daemon.udev;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The pure-Java hwdb reader against libudev's own answers, for real and synthetic modaliases of many buses. */
class HwdbFileTest {
    private static HwdbFile hwdb() throws IOException {
        UdevHardwareNamesTest.assumeHwdb();
        HardwareNames h = HwdbFile.open();
        assertTrue(h instanceof HwdbFile, "a hwdb.bin exists but HwdbFile.open() did not use it");
        return (HwdbFile) h;
    }

    /** Every modalias of this machine (read only), on every bus, and DMI's, which the keyboard entries glob over. */
    private static List<String> machineModaliases() throws IOException {
        TreeSet<String> out = new TreeSet<>();
        Path buses = Path.of("/sys/bus");
        if (Files.isDirectory(buses)) {
            try (DirectoryStream<Path> bs = Files.newDirectoryStream(buses)) {
                for (Path bus : bs) {
                    Path devices = bus.resolve("devices");
                    if (!Files.isDirectory(devices)) continue;
                    try (DirectoryStream<Path> ds = Files.newDirectoryStream(devices)) {
                        for (Path d : ds) {
                            Path m = d.resolve("modalias");
                            try {
                                String text = Files.readString(m, StandardCharsets.UTF_8).strip();
                                if (!text.isEmpty()) out.add(text);
                            } catch (IOException unreadable) {
                                // no modalias here
                            }
                        }
                    }
                }
            }
        }
        Path dmi = Path.of("/sys/class/dmi/id/modalias");
        if (Files.isReadable(dmi)) out.add(Files.readString(dmi).strip());
        return new ArrayList<>(out);
    }

    /** PCI devices the database knows and does not know, USB, evdev and a few odd strings. */
    private static List<String> syntheticModaliases() {
        List<String> out = new ArrayList<>();
        int[] vendors = {0x8086, 0x10de, 0x1002, 0x15b3, 0x1af4, 0x14e4, 0x10ec, 0x1b36, 0x1234, 0xffff};
        int[] devices = {0x0000, 0x10d3, 0x1021, 0x1041, 0x1c82, 0x2f00, 0x9a49, 0x1000, 0x0001, 0x101e};
        for (int v : vendors) {
            for (int d : devices) {
                out.add(String.format("pci:v%08Xd%08Xsv%08Xsd%08Xbc02sc00i00", v, d, v, d));
                out.add(String.format("pci:v%08Xd%08Xsv00001028sd00000000bc03sc00i00", v, d));
            }
        }
        out.addAll(List.of("usb:v046DpC52Bd1201dc00dsc00dp00ic03isc01ip01in00", "usb:v1D6Bp0002d0601dc09dsc00dp01ic09isc00ip00in00",
                "evdev:atkbd:dmi:bvnLENOVO:bvrN1EET:bd01/01/2020:svnLENOVO:pn20HRCTO1WW:pvrThinkPadX1Carbon5th:rvnLENOVO:rn20HRCTO1WW:",
                "acpi:PNP0C0A:", "pci:", "p", "", "usb:v*", "pci:v00008086*", "\u00e9t\u00e9"));
        return out;
    }

    @Test
    void everyAnswerEqualsLibudevs() throws Exception {
        HwdbFile ours = hwdb();
        UdevHardwareNames libudev = (UdevHardwareNames) UdevHardwareNames.open();
        try (libudev) {
            List<String> all = new ArrayList<>(machineModaliases());
            all.addAll(syntheticModaliases());
            int withProperties = 0;
            for (String m : all) {
                Map<String, String> expected = new TreeMap<>(libudev.properties(m));
                assertEquals(expected, new TreeMap<>(ours.properties(m)), "properties of " + m);
                if (!expected.isEmpty()) withProperties++;
            }
            // the comparison must have had something to compare
            assertTrue(withProperties >= 20, "only " + withProperties + " of " + all.size() + " modaliases had properties");
        }
    }

    @Test
    void namesComeFromTheDatabaseFields() throws Exception {
        HwdbFile ours = hwdb();
        HardwareNames.Names n = ours.lookup(UdevHardwareNamesTest.VIRTIO_NET);
        assertEquals(Optional.of("Red Hat, Inc."), n.vendor());
        assertTrue(n.model().isPresent());
        assertEquals(HardwareNames.Names.class, n.getClass());
        HardwareNames.Names unknown = ours.lookup("vfiodtest:no-such-bus");
        assertFalse(unknown.vendor().isPresent());
        assertFalse(ours.lookup("").vendor().isPresent());
    }

    @Test
    void aFileThatIsNotAHwdbIsRefused(@TempDir Path dir) throws IOException {
        Path junk = dir.resolve("hwdb.bin");
        Files.write(junk, new byte[200]);
        assertThrows(IOException.class, () -> HwdbFile.open(junk));
        Files.write(junk, "KSLPHHRH".getBytes(StandardCharsets.US_ASCII));
        assertThrows(IOException.class, () -> HwdbFile.open(junk));
        // the right signature but a size that disagrees with the file
        HwdbFile real = hwdb();
        byte[] head = new byte[4096];
        System.arraycopy(Files.readAllBytes(real.file()), 0, head, 0, head.length);
        Files.write(junk, head);
        assertThrows(IOException.class, () -> HwdbFile.open(junk));
    }
}
