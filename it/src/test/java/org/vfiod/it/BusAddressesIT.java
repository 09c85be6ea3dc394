package org.vfiod.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.vfiod1.DevicePaths;

/**
 * Issue 18 at the surface, over the real bus with busctl and gdbus: a device's object path is its bus and kernel name
 * escaped as systemd escapes labels (literal here, not built with the codec under test), the Manager takes
 * {@code bus:name} as well as a PCI address alone, and a bad {@code bus:name} is InvalidArgument with nothing changed.
 * Every device vfiod lists, of whatever bus the simulated machine has, is checked the same way.
 */
@ExtendWith(RealComponents.class)
class BusAddressesIT {
    static final String NIC = "0000:03:00.0";
    static final String NIC_PATH = "/org/vfiod/devices/pci_0000_3a03_3a00_2e0";
    private static final Pattern BUSCTL_PATH = Pattern.compile("o \"([^\"]*)\"");
    private static final Pattern BUSCTL_STRING = Pattern.compile("s \"([^\"]*)\"");

    @Test
    void theNicsPathIsEscapedAndEveryFormOfItsAddressFindsIt(Env env) {
        env.vfiod();
        List<String> paths = listDevices(env);
        assertTrue(paths.contains(NIC_PATH), paths.toString());
        assertFalse(paths.contains("/org/vfiod/devices/pci_0000_03_00_0"), "the form before issue 18 is gone: " + paths);
        for (String a : List.of(NIC, "03:00.0", "pci:" + NIC, "pci:03:00.0")) {
            assertEquals(NIC_PATH, deviceByAddress(env, a), a);
        }
        assertEquals(NIC, property(env, NIC_PATH, "Address"), "Address stays the kernel name");
        assertEquals("pci", property(env, NIC_PATH, "Subsystem"));
        // the children vfiod introspects are the same elements
        String xml = env.call(User.ROOT, "/org/vfiod/devices", "org.freedesktop.DBus.Introspectable.Introspect").assertOk().out();
        assertTrue(xml.contains("name=\"pci_0000_3a03_3a00_2e0\""), xml);
    }

    /**
     * The sample machine with the CDX, platform and fsl-mc devices too: each device's path is the literal escaped form,
     * decodes to its Subsystem and Address, and is what DeviceByAddress answers for Subsystem:Address.
     */
    @Test
    void everyListedDeviceOfEveryBusIsFoundByItsBusAndNameAtItsOwnPath(Env env) throws Exception {
        env.sim().withOtherBuses();
        env.vfiod();
        List<String> paths = listDevices(env);
        for (String literal : List.of(NIC_PATH, "/org/vfiod/devices/platform_a000000_2evirtio_5fmmio",
                "/org/vfiod/devices/platform_fff51000_2eethernet", "/org/vfiod/devices/fsl_2dmc_dprc_2e1",
                "/org/vfiod/devices/fsl_2dmc_dpni_2e1", "/org/vfiod/devices/cdx_cdx_2d00_3a00", "/org/vfiod/devices/cdx_cdx_2d00_3a01")) {
            assertTrue(paths.contains(literal), literal + " in " + paths);
        }
        assertFalse(paths.contains("/org/vfiod/devices/cdx_cdx_2d00"), "the CDX bus device is no device: " + paths);
        assertEquals("/org/vfiod/devices/fsl_2dmc_dprc_2e1", deviceByAddress(env, "fsl-mc:dprc.1"));
        assertEquals("/org/vfiod/devices/cdx_cdx_2d00_3a01", deviceByAddress(env, "cdx:cdx-00:01"));
        assertEquals("0", env.busctl(User.ROOT, "get-property", Env.BUS_NAME, "/org/vfiod/devices/platform_a000000_2evirtio_5fmmio",
                Env.DEVICE_IFACE, "VendorId").assertOk().out().strip().replace("q ", ""), "PCI's ids read 0 off PCI");
        env.manager(User.ROOT, "DeviceByAddress", "platform:ffff0000.absent").assertError(Env.NO_SUCH_DEVICE, "ffff0000.absent");
        env.manager(User.ROOT, "DeviceByAddress", "cdx:cdx-00").assertError(Env.INVALID_ARGUMENT, "the CDX bus gives no device that name");
        List<String> buses = new ArrayList<>();
        for (String path : paths) {
            String bus = property(env, path, "Subsystem");
            String name = property(env, path, "Address");
            buses.add(bus);
            assertEquals(path, DevicePaths.path(bus, name), "the path of " + bus + ":" + name);
            assertEquals(path, deviceByAddress(env, bus + ":" + name), bus + ":" + name);
            assertEquals(bus + ":" + name, DevicePaths.decode(path).map(Object::toString).orElse(null), path);
        }
        assertEquals(List.of("cdx", "fsl-mc", "pci", "platform"), buses.stream().distinct().sorted().toList());
        System.out.println("BusAddressesIT: " + paths.size() + " devices on " + buses.stream().distinct().toList());
    }

    /** A platform device moves by bus:name to vfio-platform, the fallback driver, and back, as vfioctl would ask. */
    @Test
    void aPlatformDeviceMovesByBusColonNameAndBack(Env env) throws Exception {
        env.sim().withOtherBuses();
        env.vfiod();
        String xgmac = "platform:fff51000.ethernet";
        String path = "/org/vfiod/devices/platform_fff51000_2eethernet";
        assertEquals("calxedaxgmac", property(env, path, "Driver"));
        Reply r = env.busctl(User.ROOT, "call", Env.BUS_NAME, Env.MANAGER, Env.MANAGER_IFACE, "Rebind", "sa{sv}", xgmac, "0").assertOk();
        assertEquals("s \"vfio-platform\"", r.out().strip());
        assertEquals("vfio-platform", property(env, path, "Driver"));
        assertEquals("vfio", property(env, path, "State"));
        r = env.busctl(User.ROOT, "call", Env.BUS_NAME, Env.MANAGER, Env.MANAGER_IFACE, "Restore", "sa{sv}", xgmac, "0").assertOk();
        assertEquals("s \"calxedaxgmac\"", r.out().strip());
        assertEquals("calxedaxgmac", property(env, path, "Driver"));
        // the same device through its object, by the path ListDevices gave
        env.call(User.ROOT, path, Env.DEVICE_IFACE + ".Rebind", "{'dry-run': <true>}").assertOk();
    }

    @Test
    void rebindAndRestoreTakeBusColonName(Env env) {
        env.vfiod();
        String override = env.overrideOf(NIC);
        Reply r = env.busctl(User.ROOT, "call", Env.BUS_NAME, Env.MANAGER, Env.MANAGER_IFACE, "Rebind", "sa{sv}", "pci:" + NIC, "0").assertOk();
        assertEquals("s \"vfio-pci\"", r.out().strip());
        assertEquals("vfio-pci", env.driverOf(NIC));
        assertEquals("vfio-pci", property(env, NIC_PATH, "Driver"));
        r = env.busctl(User.ROOT, "call", Env.BUS_NAME, Env.MANAGER, Env.MANAGER_IFACE, "Restore", "sa{sv}", "pci:" + NIC, "0").assertOk();
        assertEquals("s \"e1000e\"", r.out().strip());
        assertEquals("e1000e", env.driverOf(NIC));
        assertEquals(override, env.overrideOf(NIC), "driver_override as it was");
    }

    @Test
    void aBadBusOrNameIsInvalidArgumentNamingTheFormsAndChangesNothing(Env env) {
        env.vfiod();
        SysfsSnapshot before = env.snapshot();
        for (String a : List.of("platform:../x", "platform:../../devices/pci0000:00/" + NIC, "usb:1-1", "pci:" + NIC + "/..",
                "fsl-mc:dprc.1/../..", "cdx:../cdx-00:01", "PCI:" + NIC)) {
            for (String method : List.of("Rebind", "Restore", "Assign", "Release")) {
                String m = env.manager(User.ROOT, method, a, "{}").assertError(Env.INVALID_ARGUMENT, "is not a device address",
                        "expected BUS:NAME, BUS one of pci");
                assertTrue(m.length() < 300, m);
            }
            env.manager(User.ROOT, "DeviceByAddress", a).assertError(Env.INVALID_ARGUMENT, "is not a device address");
        }
        env.manager(User.ROOT, "DeviceByAddress", "usb:1-1").assertError(Env.INVALID_ARGUMENT, "its bus is not one vfiod serves");
        env.manager(User.ROOT, "DeviceByAddress", "pci:0000:03:00.8").assertError(Env.INVALID_ARGUMENT, "the PCI bus gives no device that name");
        env.manager(User.ROOT, "DeviceByAddress", "pci:0000:09:00.0").assertError(Env.NO_SUCH_DEVICE, "0000:09:00.0");
        before.assertUnchanged("bad bus:name addresses");
        assertEquals("e1000e", env.driverOf(NIC));
    }

    private static List<String> listDevices(Env env) {
        String out = env.busctl(User.ROOT, "call", Env.BUS_NAME, Env.MANAGER, Env.MANAGER_IFACE, "ListDevices").assertOk().out();
        List<String> paths = new ArrayList<>();
        Matcher m = Pattern.compile("\"(/[^\"]*)\"").matcher(out);
        while (m.find()) paths.add(m.group(1));
        return paths;
    }

    private static String deviceByAddress(Env env, String address) {
        String out = env.busctl(User.ROOT, "call", Env.BUS_NAME, Env.MANAGER, Env.MANAGER_IFACE, "DeviceByAddress", "s", address)
                .assertOk().out().strip();
        Matcher m = BUSCTL_PATH.matcher(out);
        assertTrue(m.matches(), out);
        return m.group(1);
    }

    private static String property(Env env, String path, String name) {
        String out = env.busctl(User.ROOT, "get-property", Env.BUS_NAME, path, Env.DEVICE_IFACE, name).assertOk().out().strip();
        Matcher m = BUSCTL_STRING.matcher(out);
        assertTrue(m.matches(), out);
        return m.group(1);
    }
}
