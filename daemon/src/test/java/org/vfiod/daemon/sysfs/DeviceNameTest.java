package org.vfiod.daemon.sysfs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class DeviceNameTest {
    @Test
    void showsTheKernelNameAndItsObjectPath() {
        DeviceName d = new DeviceName("pci", "0000:03:00.0");
        assertEquals("0000:03:00.0", d.toString());
        assertEquals("pci_0000_3a03_3a00_2e0", d.objectPathElement());
        assertEquals(Optional.of(d), decode("pci_0000_3a03_3a00_2e0"));
        assertEquals(d, PciAddress.require("03:00.0").toDeviceName());
    }

    @Test
    void objectPathElementsOfOtherBusesAreReversibleDBusElements() {
        assertEquals("platform_fff51000_2eethernet", new DeviceName("platform", "fff51000.ethernet").objectPathElement());
        assertEquals("platform_a000000_2evirtio_5fmmio", new DeviceName("platform", "a000000.virtio_mmio").objectPathElement());
        assertEquals("fsl_2dmc_dpni_2e1", new DeviceName("fsl-mc", "dpni.1").objectPathElement());
        assertEquals("cdx_cdx_2d00_3a00", new DeviceName("cdx", "cdx-00:00").objectPathElement());
    }

    @ParameterizedTest
    @ValueSource(strings = {"pci_0000_03_00_0", "pci_0000_3a03_3a00_2e8", "pci_03_3a00_2e0", "pci_0000_3A03_3a00_2e0",
            "pci_0000_3a03_3a00_2e0_", "pci_", "pci", "", "_pci_0000_3a03_3a00_2e0", "usb_1_2d1", "pci_0000_3a03_3a00_2e0_2f_2e_2e"})
    void anElementNoDeviceOfAKnownBusHasNamesNothing(String element) {
        assertEquals(Optional.empty(), decode(element), element);
    }

    /**
     * Every name each bus vfiod implements gives (random candidates, kept when the bus's parse returns them as they
     * are): its element decodes back to the same device, and no two devices share one.
     */
    @Test
    void everyDeviceOfEveryBusRoundTripsThroughItsPath() {
        java.util.Random random = new java.util.Random(18);
        java.util.Map<String, DeviceName> seen = new java.util.HashMap<>();
        java.util.Map<KernelBus, Integer> perBus = new java.util.EnumMap<>(KernelBus.class);
        for (KernelBus bus : KernelBus.values()) {
            for (int i = 0; i < 5_000; i++) {
                String candidate = candidate(random);
                Optional<DeviceName> d = bus.parse(candidate).filter(n -> n.name().equals(candidate));
                if (d.isEmpty()) continue;
                String element = d.get().objectPathElement();
                assertTrue(element.matches("[A-Za-z0-9_]+"), element);
                assertEquals(d, decode(element), element);
                DeviceName before = seen.put(element, d.get());
                if (before != null) assertEquals(before, d.get(), "two devices at " + element);
                perBus.merge(bus, 1, Integer::sum);
            }
            assertTrue(perBus.getOrDefault(bus, 0) > 500, bus + ": too few names checked: " + perBus.get(bus));
        }
    }

    /**
     * The device an element names, decoded as a client does (the api's DevicePaths) with the buses vfiod implements
     * as the known ones, then through the bus's own parser, which must give the name back as it is.
     */
    private static Optional<DeviceName> decode(String element) {
        List<String> buses = java.util.Arrays.stream(KernelBus.values()).map(KernelBus::id).toList();
        return org.vfiod1.DevicePaths.decodeElement(element, buses)
                .flatMap(a -> KernelBus.named(a.bus()).flatMap(b -> b.parse(a.name())))
                .filter(d -> d.objectPathElement().equals(element));
    }

    @Test
    void clientsDecodeThePathsOfEveryBusVfiodServes() {
        for (KernelBus bus : KernelBus.values()) {
            assertTrue(org.vfiod1.DevicePaths.BUSES.contains(bus.id()), bus.id() + ": add it to the contract's DevicePaths.BUSES");
        }
    }

    /** A name in the spelling of one of the kernel's buses (PCI, CDX, fsl-mc, platform), or any valid name. */
    private static String candidate(java.util.Random r) {
        switch (r.nextInt(5)) {
            case 0: return String.format("%04x:%02x:%02x.%d", r.nextInt(3), r.nextInt(256), r.nextInt(32), r.nextInt(8));
            case 1: return String.format("cdx-%02x:%02x", r.nextInt(256), r.nextInt(256));
            case 2: return (r.nextBoolean() ? "dprc." : "dpni.") + r.nextInt(100_000);
            case 3: return Integer.toHexString(r.nextInt()) + "." + randomName(r).replace(':', '_');
            default: return randomName(r);
        }
    }

    /** 1 to 64 characters as DeviceName allows them: printable ASCII without space or /. */
    private static String randomName(java.util.Random r) {
        String punctuation = ".:-_+@!~";
        int n = 1 + r.nextInt(r.nextBoolean() ? 12 : 64);
        StringBuilder b = new StringBuilder(n);
        for (int i = 0; i < n; i++) {
            if (r.nextInt(3) == 0) b.append(punctuation.charAt(r.nextInt(punctuation.length())));
            else b.append((char) (0x21 + r.nextInt(0x7e - 0x21 + 1)));
        }
        String s = b.toString().replace('/', '.');
        return DeviceName.isName(s) ? s : "a" + s.substring(1);
    }

    @Test
    void aPciAddressNamesItsDevice() {
        assertEquals(new DeviceName("pci", "abcd:ef:1f.7"), PciAddress.require("ABCD:EF:1F.7").toDeviceName());
        assertEquals(Optional.of(new DeviceName("pci", "0000:01:00.0")), KernelBus.PCI.parse("01:00.0"));
        assertEquals(Optional.empty(), KernelBus.PCI.parse("../../x"));
        assertEquals(Optional.of(KernelBus.PCI), KernelBus.named("pci"));
        assertEquals(Optional.of(KernelBus.PLATFORM), KernelBus.named("platform"));
        assertEquals(Optional.empty(), KernelBus.named("ccw"), "s390's mdev-based buses are not in the table");
        assertEquals("PCI", KernelBus.titleOf(new DeviceName("pci", "0000:01:00.0")));
        assertEquals("platform", KernelBus.titleOf(new DeviceName("platform", "a.0")));
    }

    @Test
    void ordersByBusThenNameWhichIsAddressOrderForPci() {
        List<PciAddress> addresses = new ArrayList<>(List.of(PciAddress.require("0001:00:00.0"), PciAddress.require("0000:0a:00.0"),
                PciAddress.require("0000:01:1f.7"), PciAddress.require("0000:01:02.0")));
        List<DeviceName> names = new ArrayList<>(addresses.stream().map(PciAddress::toDeviceName).toList());
        Collections.sort(addresses);
        Collections.sort(names);
        assertEquals(addresses.stream().map(PciAddress::toDeviceName).toList(), names);
        assertTrue(new DeviceName("cdx", "z").compareTo(new DeviceName("pci", "0")) < 0);
    }

    @ParameterizedTest
    @ValueSource(strings = {"pci", "platform", "fsl-mc", "cdx", "a", "a0_-", "abcdefghijklmnopqrstuvwxyzabcdef"})
    void acceptsBuses(String bus) {
        assertTrue(DeviceName.isBus(bus));
        assertEquals(bus, new DeviceName(bus, "x").bus());
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "PCI", "0pci", "-pci", "_pci", "pc i", "pci/x", "..", ".", "pci.", "p\u00e9",
            "abcdefghijklmnopqrstuvwxyzabcdefg"})
    void refusesBuses(String bus) {
        assertFalse(DeviceName.isBus(bus));
        assertThrows(IllegalArgumentException.class, () -> new DeviceName(bus, "x"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"0000:03:00.0", "fff51000.ethernet", "dpni.1", "cdx-00:00", "...", ".a", "a",
            "~!@#$%^&*()_+={}[]|\\;'\"<>,?`", "1234567890123456789012345678901234567890123456789012345678901234"})
    void acceptsNames(String name) {
        assertTrue(DeviceName.isName(name));
        assertEquals(name, new DeviceName("pci", name).toString());
    }

    @ParameterizedTest
    @ValueSource(strings = {"", ".", "..", "a/b", "/", "../x", "a b", " a", "a\n", "a\t", "\u0000", "a\u007f", "\u00e9",
            "12345678901234567890123456789012345678901234567890123456789012345"})
    void refusesNames(String name) {
        assertFalse(DeviceName.isName(name));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new DeviceName("pci", name));
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
    }

    @Test
    void refusesNulls() {
        assertThrows(IllegalArgumentException.class, () -> new DeviceName(null, "x"));
        assertThrows(IllegalArgumentException.class, () -> new DeviceName("pci", null));
    }
}
