package org.vfiod.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class IntrospectionTest {
    @Test
    void theContractNamesEveryMemberOfBothInterfaces() throws Exception {
        List<String> manager = Introspection.canonical(Introspection.contract(), "org.vfiod1.Manager");
        assertEquals(List.of("method Assign [in:s, in:a{sv}, out:a{sv}]", "method DeviceByAddress [in:s, out:o]",
                "method ListDevices [out:ao]", "method Rebind [in:s, in:a{sv}, out:s]", "method Release [in:s, in:a{sv}, out:a{sv}]",
                "method Reload []", "method Resolve [in:s, out:a{sv}]", "method Restore [in:s, in:a{sv}, out:s]",
                "property AliasCount u read", "property KernelRelease s read", "property Version u read",
                "signal DeviceAdded [out:o]", "signal DeviceRemoved [out:o]"), manager);
        List<String> device = Introspection.canonical(Introspection.contract(), "org.vfiod1.Device");
        assertEquals(25, device.size(), device.toString());
        assertTrue(device.contains("property GroupDevices ao read"));
        assertTrue(device.contains("property AccessUids au read"));
        assertTrue(device.contains("method Assign [in:a{sv}, out:a{sv}]"));
        assertTrue(device.contains("property VendorId q read"));
    }

    @Test
    void theCanonicalFormIgnoresOrderAndArgumentNamesButNotTypes(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        String a = "<node><interface name='x'><method name='M'><arg name='a' type='s' direction='in'/></method><property name='P' type='u' access='read'/></interface></node>";
        String b = "<node><interface name='x'><property name='P' type='u' access='read'/><method name='M'><arg type='s' direction='in'/></method></interface></node>";
        String c = "<node><interface name='x'><property name='P' type='i' access='read'/><method name='M'><arg type='s' direction='in'/></method></interface></node>";
        assertEquals(Introspection.canonical(a, "x"), Introspection.canonical(b, "x"));
        assertNotEquals(Introspection.canonical(a, "x"), Introspection.canonical(c, "x"));
    }
}
