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
    void showsTheKernelNameAndTodaysObjectPath() {
        DeviceName d = new DeviceName("pci", "0000:03:00.0");
        assertEquals("0000:03:00.0", d.toString());
        assertEquals("pci_0000_03_00_0", d.objectPathElement());
        assertEquals(d, PciAddress.require("03:00.0").toDeviceName());
    }

    @Test
    void objectPathElementsOfOtherBusesAreValidDBusElements() {
        assertEquals("platform_fff51000_ethernet", new DeviceName("platform", "fff51000.ethernet").objectPathElement());
        assertEquals("fsl_mc_dpni_1", new DeviceName("fsl-mc", "dpni.1").objectPathElement());
        assertEquals("cdx_cdx_00_00", new DeviceName("cdx", "cdx-00:00").objectPathElement());
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
