package org.vfiod.it;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.function.Executable;
import org.vfiod.daemon.sim.SimulatedSysfs;

/**
 * Hostile or careless input through the real bus, sent as root so that only vfiod's own checks stand between it and
 * the tree: each gets a clear error, and the simulated sysfs stays byte-for-byte as it was (every file's content and
 * every link's target; the simulation's control folder aside). One vfiod serves all inputs of a test; the tree is
 * compared after each call.
 *
 * <p>A NUL inside an address is not tested: D-Bus forbids NUL in strings (the bus drops such a message as invalid),
 * and gdbus/busctl cannot even send one, so it never reaches vfiod.
 */
@ExtendWith(RealComponents.class)
class BadInputIT {
    static final String NIC = "0000:03:00.0";
    /** Error messages quote what the caller sent, but shortened: a 10 kB argument must not come back whole. */
    static final int MAX_MESSAGE = 300;

    static final List<String> MALFORMED_ADDRESSES = List.of(
            "0000:03:00.0/../0000:01:00.0", "../../../../etc/passwd", "..", ".", "/", "0000:03:00.0/driver",
            "/sys/bus/pci/devices/0000:03:00.0", "0000:03:00.0/", "devices/pci0000:00/0000:03:00.0",
            " 0000:03:00.0", "0000:03:00.0 ", "0000:03: 00.0", "0000 :03:00.0", "",
            "0000:03:00.0\n", "0000:03:00.0\t", "\u001b[31m0000:03:00.0", "0000:03:00.0\u00a0", "０000:03:00.0",
            "0000:03:00.8", "0000:03:20.0", "10000:03:00.0", "0000:003:00.0", "0x0000:03:00.0", "0000:03:00.00",
            "0000:03:00", "0000_03_00_0", "pci_0000_03_00_0", "*", "0000:03:00.?", "0000:03:0[0-9].0", "-1",
            "0000:03:00.0;rm -rf /", "$(id)", "0000:03:00.0".repeat(854) /* 10,248 characters */);

    /** Well-formed but absent: another PCI domain, or no device at that slot. */
    static final List<String> ABSENT_ADDRESSES = List.of("0001:03:00.0", "ffff:03:00.0", "0000:03:1f.7", "0000:ff:00.0");

    @Test
    void malformedAddressesAreInvalidArguments(Env env) {
        env.vfiod();
        SysfsSnapshot before = env.snapshot();
        List<Executable> checks = new ArrayList<>();
        for (String a : MALFORMED_ADDRESSES) {
            checks.add(() -> {
                String m = env.manager(User.ROOT, "Rebind", a, "{}").assertError(Env.INVALID_ARGUMENT, "is not a device address");
                assertClear(m, a);
                // Restore and DeviceByAddress parse addresses with the same code: the path-like inputs suffice there
                if (a.contains("/") || a.startsWith(".")) {
                    env.manager(User.ROOT, "Restore", a, "{}").assertError(Env.INVALID_ARGUMENT, "is not a device address");
                    env.manager(User.ROOT, "DeviceByAddress", a).assertError(Env.INVALID_ARGUMENT, "is not a device address");
                }
                before.assertUnchanged("address " + show(a));
            });
        }
        assertAll(checks);
        assertEquals("e1000e", env.driverOf(NIC));
    }

    @Test
    void tenKilobytesComeBackShort(Env env) {
        env.vfiod();
        String big = "a".repeat(10 * 1024);
        SysfsSnapshot before = env.snapshot();
        String m = env.manager(User.ROOT, "Rebind", big, "{}").assertError(Env.INVALID_ARGUMENT);
        assertClear(m, big);
        m = env.manager(User.ROOT, "Resolve", big).assertError(Env.INVALID_ARGUMENT);
        assertClear(m, big);
        // a 10 kB option name
        m = env.manager(User.ROOT, "Rebind", NIC, "{'" + big + "': <true>}").assertError(Env.INVALID_ARGUMENT, "unknown option");
        assertClear(m, big);
        before.assertUnchanged("10 kB arguments");
    }

    @Test
    void wellFormedAddressesOfAbsentDevicesAreNoSuchDevice(Env env) {
        env.vfiod();
        SysfsSnapshot before = env.snapshot();
        List<Executable> checks = new ArrayList<>();
        for (String a : ABSENT_ADDRESSES) {
            checks.add(() -> {
                env.manager(User.ROOT, "Rebind", a, "{}").assertError(Env.NO_SUCH_DEVICE, a);
                env.manager(User.ROOT, "DeviceByAddress", a).assertError(Env.NO_SUCH_DEVICE, a);
                before.assertUnchanged("address " + a);
            });
        }
        assertAll(checks);
    }

    @Test
    void upperAndLowerCaseHexAndAMissingDomainNameTheSameDevice(Env env) throws IOException {
        // the sample machine has no hex letters in its addresses: add a device that has some
        SimulatedSysfs.create(env.sysfsRoot()).device(SimulatedSysfs.Device.of("0000:0a:1b.2", 0x8086, 0x10d3, 0x020000, 12, "e1000e"));
        env.vfiod();
        String path = "(objectpath '" + Env.devicePath("0000:0a:1b.2") + "',)";
        for (String spelling : List.of("0000:0a:1b.2", "0000:0A:1B.2", "0000:0a:1B.2", "0a:1b.2", "0A:1B.2")) {
            assertEquals(path, env.manager(User.ROOT, "DeviceByAddress", spelling).assertOk().out().strip(), spelling);
        }
        assertEquals("(objectpath '" + Env.devicePath(NIC) + "',)", env.manager(User.ROOT, "DeviceByAddress", "03:00.0").assertOk().out().strip());
        assertEquals("0000:0a:1b.2", env.deviceProperty("0000:0a:1b.2", "Address"));

        assertEquals("vfio-pci", Env.string(env.manager(User.ROOT, "Rebind", "0000:0A:1B.2", "{}").assertOk()));
        assertEquals("vfio-pci", env.driverOf("0000:0a:1b.2"));
        assertEquals("e1000e", env.driverOf(NIC));
        // the kernel's names are lower-case: nothing upper-case was created anywhere in the tree
        assertFalse(env.snapshot().entries().keySet().stream().anyMatch(k -> k.contains("0A") || k.contains("1B")),
                "an upper-case path appeared in the tree");
        assertEquals("e1000e", Env.string(env.manager(User.ROOT, "Restore", "0A:1B.2", "{}").assertOk()));
        assertEquals("e1000e", env.driverOf("0000:0a:1b.2"));
    }

    /** gdbus text for the a{sv} argument, and a fragment the error message must contain. */
    static final Map<String, String> BAD_OPTIONS = Map.ofEntries(
            Map.entry("{'frobnicate': <true>}", "unknown option 'frobnicate'"),
            Map.entry("{'Group': <true>}", "unknown option 'Group'"),
            Map.entry("{'dry_run': <true>}", "unknown option 'dry_run'"),
            Map.entry("{'group': <'yes'>}", "option 'group' must be of type b, not s"),
            Map.entry("{'group': <<true>>}", "option 'group' must be of type b"),
            Map.entry("{'force': <1>}", "option 'force' must be of type b, not i"),
            Map.entry("{'dry-run': <'true'>}", "option 'dry-run' must be of type b, not s"),
            Map.entry("{'persist': <byte 1>}", "option 'persist' must be of type b, not y"),
            Map.entry("{'auth.no_user_interaction': <'yes'>}", "option 'auth.no_user_interaction' must be of type b"),
            Map.entry("{'timeout': <int32 300>}", "option 'timeout' must be of type u, not i"),
            Map.entry("{'timeout': <int64 300>}", "option 'timeout' must be of type u, not x"),
            Map.entry("{'timeout': <'300'>}", "option 'timeout' must be of type u, not s"),
            Map.entry("{'timeout': <uint32 0>}", "option 'timeout' must be between"),
            Map.entry("{'timeout': <uint32 4294967295>}", "option 'timeout' must be between"),
            Map.entry("{'driver': <42>}", "option 'driver' must be of type s, not i"),
            Map.entry("{'driver': <objectpath '/vfio_pci'>}", "option 'driver' must be of type s"),
            Map.entry("{'driver': <'e1000e'>}", "'e1000e' is not a vfio driver"),
            Map.entry("{'driver': <'amdgpu'>}", "'amdgpu' is not a vfio driver"),
            Map.entry("{'driver': <'../vfio-pci'>}", "is not a vfio driver"),
            Map.entry("{'driver': <'vfio-pci/../../e1000e'>}", "is not a vfio driver"),
            Map.entry("{'driver': <''>}", "is not a vfio driver"),
            Map.entry("{'driver': <'vfio-pci\\n'>}", "is not a vfio driver"));

    @Test
    void badOptionsAreInvalidArguments(Env env) {
        env.vfiod();
        SysfsSnapshot before = env.snapshot();
        List<Executable> checks = new ArrayList<>();
        BAD_OPTIONS.forEach((options, fragment) -> checks.add(() -> {
            String m = env.manager(User.ROOT, "Rebind", NIC, options).assertError(Env.INVALID_ARGUMENT, fragment);
            assertClear(m, options);
            before.assertUnchanged("options " + options);
        }));
        // the Device object's Rebind and both Restores parse options with the same code: a few samples suffice
        for (String options : List.of("{'frobnicate': <true>}", "{'group': <'yes'>}", "{'timeout': <int32 300>}")) {
            String fragment = BAD_OPTIONS.get(options);
            checks.add(() -> {
                env.device(User.ROOT, NIC, "Rebind", options).assertError(Env.INVALID_ARGUMENT, fragment);
                env.device(User.ROOT, NIC, "Restore", options).assertError(Env.INVALID_ARGUMENT, fragment);
                env.manager(User.ROOT, "Restore", NIC, options).assertError(Env.INVALID_ARGUMENT, fragment);
                before.assertUnchanged("Device.Rebind/Restore options " + options);
            });
        }
        checks.add(() -> {
            env.device(User.ROOT, NIC, "Rebind", "{'driver': <'e1000e'>}").assertError(Env.INVALID_ARGUMENT, "is not a vfio driver");
            before.assertUnchanged("Device.Rebind driver e1000e");
        });
        assertAll(checks);
    }

    @Test
    void wrongSignaturesNeverReachTheCode(Env env) {
        env.vfiod();
        SysfsSnapshot before = env.snapshot();
        // gdbus checks arguments against the introspection data, so busctl sends these; vfiod checks every call's
        // signature against the member's before anything runs
        List<List<String>> calls = List.of(
                List.of("Rebind", "ss", NIC, "group"),
                List.of("Rebind", "s", NIC),
                List.of("Rebind", "sa{ss}", NIC, "1", "group", "true"),
                List.of("Rebind", "a{sv}", "0"),
                List.of("Rebind", "isa{sv}", "1", NIC, "0"),
                List.of("DeviceByAddress", "u", "3"));
        List<Executable> checks = new ArrayList<>();
        for (List<String> c : calls) {
            checks.add(() -> {
                List<String> args = new ArrayList<>(List.of("call", Env.BUS_NAME, Env.MANAGER, Env.MANAGER_IFACE));
                args.addAll(c);
                Reply r = env.busctl(User.ROOT, args.toArray(String[]::new));
                assertNotEquals(0, r.exit(), r::describe);
                String expected = c.get(0).equals("Rebind") ? "takes (sa{sv}), not (" : "takes (s), not (";
                assertTrue(r.err().contains(expected + c.get(1) + ")"), r::describe);
                before.assertUnchanged("busctl " + String.join(" ", c));
            });
        }
        assertAll(checks);
        // the standard error names: a wrong signature, a member, an interface or an object that is not there
        env.dbusSend(User.ROOT, Env.MANAGER, Env.MANAGER_IFACE + ".DeviceByAddress", "uint32:3")
                .assertErrorName("org.freedesktop.DBus.Error.InvalidArgs");
        env.dbusSend(User.ROOT, Env.MANAGER, Env.MANAGER_IFACE + ".Explode")
                .assertErrorName("org.freedesktop.DBus.Error.UnknownMethod");
        env.dbusSend(User.ROOT, Env.MANAGER, "org.freedesktop.DBus.Properties.Get", "string:org.vfiod1.Nothing", "string:Version")
                .assertErrorName("org.freedesktop.DBus.Error.UnknownInterface");
        // GetAll answers an unknown interface as Get does, on the Manager and on a device
        env.dbusSend(User.ROOT, Env.MANAGER, "org.freedesktop.DBus.Properties.GetAll", "string:org.vfiod1.Nothing")
                .assertErrorName("org.freedesktop.DBus.Error.UnknownInterface");
        env.dbusSend(User.ROOT, Env.devicePath(NIC), "org.freedesktop.DBus.Properties.GetAll", "string:org.vfiod1.Manager")
                .assertErrorName("org.freedesktop.DBus.Error.UnknownInterface");
        env.dbusSend(User.ROOT, Env.devicePath("0000:7f:00.0"), "org.freedesktop.DBus.Introspectable.Introspect")
                .assertErrorName("org.freedesktop.DBus.Error.UnknownObject");
        env.dbusSend(User.ROOT, Env.devicePath("0000:7f:00.0"), "org.freedesktop.DBus.Peer.Ping").assertOk();
        before.assertUnchanged("the calls of unknown members");
        // the service is still there
        env.manager(User.ROOT, "ListDevices").assertOk();
    }

    /** The error message is one short line of printable text. */
    private static void assertClear(String message, String input) {
        assertTrue(message.length() < MAX_MESSAGE, () -> "message of " + message.length() + " chars for " + show(input));
        assertFalse(message.chars().anyMatch(c -> c < 0x20 || c == 0x7f), () -> "control character in the message for "
                + show(input) + ": " + show(message));
    }

    private static String show(String s) {
        String t = s.length() > 60 ? s.substring(0, 60) + "...(" + s.length() + " chars)" : s;
        StringBuilder b = new StringBuilder("'");
        for (char ch : t.toCharArray()) b.append(ch < 0x20 || ch == 0x7f ? String.format("\\x%02x", (int) ch) : String.valueOf(ch));
        return b.append('\'').toString();
    }
}
