package org.vfiod1;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class DevicePathsTest {
    @Test
    void escapesAsSystemdEscapesLabels() {
        assertEquals("/org/vfiod/devices/pci_0000_3a03_3a00_2e0", DevicePaths.path("pci", "0000:03:00.0"));
        assertEquals("platform_a000000_2evirtio_5fmmio", DevicePaths.element("platform", "a000000.virtio_mmio"));
        assertEquals("fsl_2dmc_dprc_2e1", DevicePaths.element("fsl-mc", "dprc.1"));
        assertEquals("cdx_cdx_2d00_3a01", DevicePaths.element("cdx", "cdx-00:01"));
        assertEquals("pci_ABC_7e_21", DevicePaths.element("pci", "ABC~!"), "letters keep their case; hex is lower case");
    }

    @Test
    void decodesEachExample() {
        assertEquals(Optional.of(new DevicePaths.Address("pci", "0000:03:00.0")), DevicePaths.decode("/org/vfiod/devices/pci_0000_3a03_3a00_2e0"));
        assertEquals("platform:a000000.virtio_mmio", DevicePaths.decode("/org/vfiod/devices/platform_a000000_2evirtio_5fmmio").get().toString());
        assertEquals("fsl-mc:dprc.1", DevicePaths.decode("/org/vfiod/devices/fsl_2dmc_dprc_2e1").get().toString());
        assertEquals("cdx:cdx-00:01", DevicePaths.decode("/org/vfiod/devices/cdx_cdx_2d00_3a01").get().toString());
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "/org/vfiod/devices/pci_0000_03_00_0", // the old irreversible form
        "/org/vfiod/devices/pci_0000_3A03_3a00_2e0", // upper-case hex
        "/org/vfiod/devices/pci_0000_3a03_3a00_2", // a cut escape
        "/org/vfiod/devices/pci_0000_3a03_3a00_2e0_", // a stray _
        "/org/vfiod/devices/pci_", // no name
        "/org/vfiod/devices/pci_0000_303", // a needless escape of a digit ('0')
        "/org/vfiod/devices/pci_a_80", // not ASCII
        "/org/vfiod/devices/PCI_0000_3a03_3a00_2e0", // a bus is lower case
        "/org/vfiod/devices/usb_1_2d1", // not a bus of the contract
        "/org/vfiod/devices/fsl_2dmc", // a bus alone
        "/org/vfiod/devices/pci_0000_3a03_3a00_2e0/x",
        "/org/vfiod/pci_0000_3a03_3a00_2e0",
        "/org/vfiod/devices/",
        "",
    })
    void refusesWhatNoDeviceIsNamed(String path) {
        assertEquals(Optional.empty(), DevicePaths.decode(path), path);
    }

    @Test
    void theContractsBusesNeverReadOneElementTwoWays() {
        // decode takes the bus whose escaped name and _ begin the element: no such prefix may begin another
        for (String a : DevicePaths.BUSES) {
            for (String b : DevicePaths.BUSES) {
                String pa = DevicePaths.element(a, "x");
                String pb = DevicePaths.element(b, "x");
                if (!a.equals(b)) assertFalse(pb.startsWith(pa.substring(0, pa.length() - 1)), a + " and " + b);
            }
        }
    }

    /**
     * Every valid name (printable ASCII without space or /, as the daemon's DeviceName allows) on every bus: the
     * path is a valid D-Bus object path, decodes back to the same device, and no two devices share one.
     */
    @Test
    void roundTripsAndStaysDistinctForRandomNames() {
        Random random = new Random(18);
        Map<String, DevicePaths.Address> seen = new HashMap<>();
        Set<DevicePaths.Address> devices = new HashSet<>();
        for (int i = 0; i < 20_000; i++) {
            String bus = DevicePaths.BUSES.get(random.nextInt(DevicePaths.BUSES.size()));
            String name = randomName(random);
            DevicePaths.Address device = new DevicePaths.Address(bus, name);
            String path = DevicePaths.path(bus, name);
            assertTrue(path.matches("/org/vfiod/devices/[A-Za-z0-9_]+"), path);
            assertEquals(Optional.of(device), DevicePaths.decode(path), path);
            DevicePaths.Address before = seen.put(path, device);
            if (before != null) assertEquals(before, device, "two devices at " + path);
            devices.add(device);
        }
        // the kernel's own spellings, whose punctuation meets the escapes
        for (String bus : DevicePaths.BUSES) {
            for (String name : List.of("_", "__", "_5f", "5f_", "-", "2d", "a_2d", "a-2d", "0000:03:00.0", "dprc.1", "x_3a")) {
                String path = DevicePaths.path(bus, name);
                assertEquals(Optional.of(new DevicePaths.Address(bus, name)), DevicePaths.decode(path), path);
                DevicePaths.Address before = seen.put(path, new DevicePaths.Address(bus, name));
                if (before != null) assertEquals(before, new DevicePaths.Address(bus, name), "two devices at " + path);
                devices.add(new DevicePaths.Address(bus, name));
            }
        }
        assertEquals(devices.size(), seen.size(), "one path per device");
        assertTrue(devices.size() > 15_000, "distinct devices checked: " + devices.size());
    }

    /** 1 to 64 characters of printable ASCII without space or /, punctuation often. */
    private static String randomName(Random random) {
        String punctuation = "!\"#$%&'()*+,-.:;<=>?@[\\]^_`{|}~";
        int n = 1 + random.nextInt(random.nextBoolean() ? 8 : 64);
        StringBuilder b = new StringBuilder(n);
        for (int i = 0; i < n; i++) {
            if (random.nextInt(3) == 0) b.append(punctuation.charAt(random.nextInt(punctuation.length())));
            else b.append((char) (0x21 + random.nextInt(0x7e - 0x21 + 1)));
        }
        String s = b.toString().replace('/', '_');
        return s.equals(".") || s.equals("..") ? s + "x" : s;
    }

    @Test
    void refusesWhatTheKernelNeverNames() {
        assertThrows(IllegalArgumentException.class, () -> DevicePaths.element("pci", ""));
        assertThrows(IllegalArgumentException.class, () -> DevicePaths.element("", "a"));
        assertThrows(IllegalArgumentException.class, () -> DevicePaths.element("pci", "caf\u00e9"));
    }
}
