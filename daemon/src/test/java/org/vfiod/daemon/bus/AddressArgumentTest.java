package org.vfiod.daemon.bus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.vfiod.daemon.sysfs.DeviceName;
import org.vfiod.daemon.sysfs.KernelBus;
import org.vfiod1.Error;

class AddressArgumentTest {
    @Test
    void takesAPciAddressAloneOrWithItsBus() {
        DeviceName nic = new DeviceName("pci", "0000:03:00.0");
        assertEquals(nic, AddressArgument.parse("0000:03:00.0"));
        assertEquals(nic, AddressArgument.parse("03:00.0"));
        assertEquals(nic, AddressArgument.parse("pci:0000:03:00.0"));
        assertEquals(nic, AddressArgument.parse("pci:03:00.0"), "the bus's own parser, with its short form");
        assertEquals(new DeviceName("pci", "abcd:ef:1f.7"), AddressArgument.parse("pci:ABCD:EF:1F.7"));
    }

    @Test
    void everyBusVfiodServesIsReachedByItsName() {
        for (KernelBus bus : KernelBus.values()) {
            String error = refused(bus.id() + ":../x");
            assertTrue(error.contains(bus.title() + " bus gives no device that name"), error);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"usb:1-1", "PCI:0000:03:00.0", ":0000:03:00.0", "0000:03:00.8", "pci_0000_3a03_3a00_2e0",
            "/org/vfiod/devices/pci_0000_3a03_3a00_2e0", "eth0", "", "pci:", "pci:0000:03:00.8", "pci:../0000:03:00.0",
            "pci:0000:03:00.0/..", "pci: 0000:03:00.0", "pci::0000:03:00.0", "pci:pci:0000:03:00.0",
            "platform:../x", "platform:a/b", "platform:", "fsl-mc:..", "cdx:.", "cdx:cdx-00:01/../..", "bus/../pci:0000:03:00.0"})
    void anythingElseIsInvalidArgumentNamingTheForms(String text) {
        String m = refused(text);
        assertTrue(m.contains(AddressArgument.NOT_AN_ADDRESS), m);
        assertTrue(m.contains("expected BUS:NAME, BUS one of pci"), m);
    }

    @Test
    void anUnknownBusIsSaidSo() {
        assertTrue(refused("usb:1-1").contains("its bus is not one vfiod serves"));
    }

    @Test
    void theRefusalIsShortAndPrintable() {
        for (String text : new String[] {"a".repeat(10_240), "pci:" + "\u001b".repeat(100), "x\ny:z"}) {
            String m = refused(text);
            assertTrue(m.length() < 300, m.length() + ": " + m);
            assertFalse(m.chars().anyMatch(c -> c < 0x20 || c == 0x7f), m);
        }
        assertThrows(Error.InvalidArgument.class, () -> AddressArgument.parse(null));
    }

    private static String refused(String text) {
        return assertThrows(Error.InvalidArgument.class, () -> AddressArgument.parse(text), text).getMessage();
    }
}
