package org.vfiod.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.extension.ExtendWith;
import org.vfiod.daemon.sim.SimulatedKernel;

/**
 * Issue 12, "Bad input": one table of bad inputs over the real bus, each row sent by root and by an unprivileged
 * user (OUTSIDER) to one vfiod. Each row names what is sent and the D-Bus error it must get (the contract's, from the
 * introspection XML's comment and vfiod(8); or the bus's, when the bus refuses a message before vfiod sees it). After
 * each row the simulated tree is byte for byte what it was, the simulated kernel's {@code .vfiod-sim/writes} has no
 * new line, and vfiod still answers a Ping from the same caller.
 *
 * <p>The results go to {@code it/target/security/bad-input.tsv} ({@code key<TAB>value}: kinds, calls, writes_seen,
 * wrong_errors, daemon_answering), which {@code scripts/security-report} reads.
 *
 * <p>Where the two callers get different errors, the row says so, and why: vfiod checks the address and the options'
 * keys and types before it asks polkit (so OUTSIDER gets InvalidArgument too), but whether a driver is a vfio driver
 * and whether a well-formed address is present only after polkit said yes (so OUTSIDER gets AccessDenied there,
 * unless the call is a dry run, which asks polkit nothing).
 */
@ExtendWith(RealComponents.class)
class BadInputTableIT {
    static final String NIC = "0000:03:00.0";
    static final String NIC_PATH = Env.devicePath(NIC);
    static final String ABSENT_PATH = Env.devicePath("0000:7f:00.0");

    static final String INVALID_ARGS = "org.freedesktop.DBus.Error.InvalidArgs";
    static final String UNKNOWN_OBJECT = "org.freedesktop.DBus.Error.UnknownObject";
    static final String UNKNOWN_INTERFACE = "org.freedesktop.DBus.Error.UnknownInterface";
    static final String UNKNOWN_METHOD = "org.freedesktop.DBus.Error.UnknownMethod";
    static final String UNKNOWN_PROPERTY = "org.freedesktop.DBus.Error.UnknownProperty";
    static final String PROPERTY_READ_ONLY = "org.freedesktop.DBus.Error.PropertyReadOnly";
    static final String LIMITS_EXCEEDED = "org.freedesktop.DBus.Error.LimitsExceeded";
    /**
     * Not an error name: dbus-daemon closes the connection of a client that sends a message the D-Bus specification
     * forbids (too deeply nested, say), and answers nothing; RawCall reports that as this.
     */
    static final String BUS_DISCONNECTS = "(the bus disconnects the sender)";

    static final String NOT_ADDRESS = "is not a device address";
    static final String NOT_VFIO = "is not a vfio driver";
    /** vfiod's messages quote what the caller sent, shortened (BadInputIT's limit). */
    static final int MAX_MESSAGE = 300;

    /** What a row's call came back with: the error name (null for success) and message, and the whole reply. */
    record Outcome(String name, String message, String describe) {
    }

    @FunctionalInterface
    interface Sender {
        Outcome send(Env env, User user);
    }

    /**
     * One kind of bad input: what is sent, the error it must get (from root, and from OUTSIDER when that differs:
     * {@code outsider} null means the same), a fragment the message must contain (null: any), and why.
     */
    record Row(String name, Sender sender, String expected, String fragment, String outsider, String why) {
        String expectedFor(User u) {
            return u == User.ROOT || outsider == null ? expected : outsider;
        }

        String fragmentFor(User u) {
            return expectedFor(u).equals(expected) ? fragment : null;
        }
    }

    // ---- senders ----------------------------------------------------------------------------------------------------

    private static final Pattern DBUS_SEND_ERROR = Pattern.compile("Error ([A-Za-z0-9_.]+): (.*)", Pattern.DOTALL);

    /** gdbus call; every string argument is given as GVariant text, so non-ASCII survives any locale of the JVM. */
    static Sender gdbus(String path, String method, String... args) {
        return (env, u) -> {
            Reply r = env.call(u, path, method, args);
            return new Outcome(r.ok() ? null : r.errorName() == null ? "(gdbus: " + r.err().strip() + ")" : r.errorName(),
                    r.errorMessage(), r.describe());
        };
    }

    static Sender rebind(String address, String options) {
        return gdbus(Env.MANAGER, Env.MANAGER_IFACE + ".Rebind", gv(address), options);
    }

    static Sender rebindNic(String options) {
        return rebind(NIC, options);
    }

    /** dbus-send: sends exactly the types it is given, where gdbus would check them against the introspection. */
    static Sender dbusSend(String path, String method, String... args) {
        return (env, u) -> {
            Reply r = env.dbusSend(u, path, method, args);
            if (r.ok()) return new Outcome(null, null, r.describe());
            Matcher m = DBUS_SEND_ERROR.matcher(r.err());
            return m.find() ? new Outcome(m.group(1), m.group(2).strip(), r.describe())
                    : new Outcome("(dbus-send: " + r.err().strip() + ")", null, r.describe());
        };
    }

    /** {@link RawCall} in a JVM of its own, as the user. */
    static Sender raw(String kind, int n) {
        return (env, u) -> {
            String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
            // once per test class, in its folder: the checkout may be where the test users cannot read
            String classes = ReadableClasspath.copy(Path.of(RawCall.class.getProtectionDomain().getCodeSource().getLocation().getPath())
                    .toString(), env.dir().getParent().resolve("raw-classpath"));
            Reply r = Cmd.run(u, Duration.ofSeconds(40), List.of(java, "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                    "-Xshare:auto", "-Xmx256m", "-cp", classes, RawCall.class.getName(), env.address(), kind, Integer.toString(n)));
            String[] f = r.out().strip().split("\t", 3);
            if (r.exit() != 0 || f.length == 0) return new Outcome("(RawCall failed)", null, r.describe());
            return switch (f[0]) {
                case "ok" -> new Outcome(null, null, r.describe());
                case "error" -> new Outcome(f[1], f.length > 2 ? f[2] : "", r.describe());
                case "disconnected" -> new Outcome(BUS_DISCONNECTS, f.length > 1 ? f[1] : "", r.describe());
                default -> new Outcome("(RawCall: " + r.out().strip() + ")", null, r.describe());
            };
        };
    }

    /** A GVariant text string literal: ASCII only, anything else as \\uXXXX. */
    static String gv(String s) {
        StringBuilder b = new StringBuilder("'");
        for (char c : s.toCharArray()) {
            if (c == '\'' || c == '\\') b.append('\\').append(c);
            else if (c < 0x20 || c >= 0x7f) b.append(String.format("\\u%04x", (int) c));
            else b.append(c);
        }
        return b.append('\'').toString();
    }

    // ---- the table --------------------------------------------------------------------------------------------------

    /** GVariant text of a value of each D-Bus type (h, a Unix fd's index, aside: no client here sends one without its fd). */
    static final Map<String, String> VALUES = valuesOfEachType();

    private static Map<String, String> valuesOfEachType() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("y", "byte 1");
        m.put("b", "true");
        m.put("n", "int16 1");
        m.put("q", "uint16 1");
        m.put("i", "int32 1");
        m.put("u", "uint32 1000");
        m.put("x", "int64 1000");
        m.put("t", "uint64 1000");
        m.put("d", "1.5");
        m.put("s", "'vfio-pci'");
        m.put("o", "objectpath '/vfio_pci'");
        m.put("g", "signature 'b'");
        m.put("v", "<true>");
        m.put("ay", "b'vfio-pci'");
        m.put("ab", "[true]");
        m.put("as", "['vfio-pci']");
        m.put("(b)", "(true,)");
        m.put("a{sv}", "{'group': <true>}");
        return m;
    }

    /** The options of the contract and their types. */
    static final Map<String, String> OPTIONS = new LinkedHashMap<>();

    static {
        for (String b : List.of("group", "force", "dry-run", "persist", "auth.no_user_interaction")) OPTIONS.put(b, "b");
        OPTIONS.put("driver", "s");
        OPTIONS.put("timeout", "u");
        OPTIONS.put("owner", "u");
    }

    static List<Row> table() {
        List<Row> rows = new ArrayList<>();
        String polkitFirst = "after polkit: OUTSIDER is refused before the check";

        // -- addresses: parsed before polkit, so both callers get InvalidArgument ---------------------------------
        List<String> addresses = new ArrayList<>(BadInputIT.MALFORMED_ADDRESSES);
        addresses.addAll(List.of(
                "\uff10\uff10\uff10\uff10:\uff10\uff13:\uff10\uff10.\uff10", // fullwidth digits throughout
                "0000\uff1a03\uff1a00.0", // fullwidth colons
                "0000:03:00\uff0e0", // fullwidth full stop
                "\u0660\u0660\u0660\u0660:\u0660\u0663:\u0660\u0660.\u0660", // Arabic-Indic digits
                "\u00a00000:03:00.0", // a leading NBSP
                "0000:03:00.0\u200b", // a zero-width space
                "0000:03:00.0\u202e", // right-to-left override
                "0000:03:00.0\u0085", // NEL
                "\u007f0000:03:00.0", // DEL
                "0000:03:00.0\r", "0000:03:00.0\u0001", "\u0008\u0008\u00080000:03:00.0", // backspaces
                "0000:03:00.0\u001f", // unit separator
                "ffffffff:03:00.0", "100000000:03:00.0", "18446744073709551616:03:00.0", // domain overflow, 32/33/65 bits
                "00000:03:00.0", "0000:100:00.0", "0000:03:32.0", "0000:03:00.-1", "0000:03:00.0.0",
                "0".repeat(255), "0000:03:00.0" + "/..".repeat(100),
                // bus:name (issue 18): an unknown bus, names the bus never gives, paths through the name
                "usb:1-1", "PCI:0000:03:00.0", "Pci:0000:03:00.0", ":0000:03:00.0", "pci:", "pci:0000:03:00.8",
                "pci:0000:03:00.0/..", "pci:../0000:03:00.0", "pci::0000:03:00.0", "pci:pci:0000:03:00.0", "pci: 0000:03:00.0",
                "pci:0000:03:00.0\n", "platform:../x", "platform:../../../../etc/passwd",
                "platform:a/b", "platform:", "platform:.", "platform:..", "platform:a b", "platform:a\u001b[2J",
                "platform:\uff41000000.virtio_mmio", "fsl-mc:..", "fsl-mc:dprc.1/..", "cdx:../cdx-00:01", "cdx:cdx-00:01/driver",
                "platform:" + "a".repeat(65), "sys/bus/pci:0000:03:00.0", "../pci:0000:03:00.0", "pci_0000_3a03_3a00_2e0",
                "/org/vfiod/devices/pci_0000_3a03_3a00_2e0"));
        for (String a : addresses) {
            rows.add(new Row("address " + show(a), rebind(a, "{}"), Env.INVALID_ARGUMENT, NOT_ADDRESS, null,
                    "the contract: address is BUS:NAME or a PCI address, parsed by the bus's own parser; vfiod(8): InvalidArgument"));
        }
        for (String a : List.of("../../../../etc/passwd", "0000:03:00.0/driver", "\uff10000:03:00.0", "", "platform:../x",
                "usb:1-1", "pci:0000:03:00.0/..")) {
            rows.add(new Row("Restore address " + show(a), gdbus(Env.MANAGER, Env.MANAGER_IFACE + ".Restore", gv(a), "{}"),
                    Env.INVALID_ARGUMENT, NOT_ADDRESS, null, "Restore parses the address as Rebind does"));
            rows.add(new Row("DeviceByAddress " + show(a), gdbus(Env.MANAGER, Env.MANAGER_IFACE + ".DeviceByAddress", gv(a)),
                    Env.INVALID_ARGUMENT, NOT_ADDRESS, null, "a read: no polkit"));
        }
        rows.add(new Row("Rebind dry-run with address '..'", rebind("..", "{'dry-run': <true>}"), Env.INVALID_ARGUMENT, NOT_ADDRESS,
                null, "a dry run parses the address too"));
        rows.add(new Row("Resolve a 10 kB modalias", gdbus(Env.MANAGER, Env.MANAGER_IFACE + ".Resolve", gv("pci:v".repeat(2048))),
                Env.INVALID_ARGUMENT, "is not a modalias", null, "at most 512 characters"));
        rows.add(new Row("Resolve a modalias with a newline", gdbus(Env.MANAGER, Env.MANAGER_IFACE + ".Resolve", gv("pci:v00008086\nd*")),
                Env.INVALID_ARGUMENT, "is not a modalias", null, "printable ASCII only"));
        rows.add(new Row("Resolve ''", gdbus(Env.MANAGER, Env.MANAGER_IFACE + ".Resolve", gv("")),
                Env.INVALID_ARGUMENT, "is not a modalias", null, "not empty"));

        // -- well-formed addresses of absent devices --------------------------------------------------------------
        for (String a : List.of("0001:03:00.0", "ffff:ff:1f.7", "pci:0001:03:00.0")) {
            rows.add(new Row("DeviceByAddress absent " + a, gdbus(Env.MANAGER, Env.MANAGER_IFACE + ".DeviceByAddress", gv(a)),
                    Env.NO_SUCH_DEVICE, a.replaceFirst("^pci:", ""), null, "vfiod(8): NoSuchDevice; a read, no polkit"));
            rows.add(new Row("Rebind absent " + a, rebind(a, "{}"), Env.NO_SUCH_DEVICE, a.replaceFirst("^pci:", ""), Env.ACCESS_DENIED,
                    "NoSuchDevice " + polkitFirst));
        }

        // -- options: unknown keys ----------------------------------------------------------------------------------
        for (String k : List.of("frobnicate", "Group", "GROUP", "dry_run", "dryrun", "group ", " group", "", "timeout\n",
                "\u0261roup" /* LATIN SMALL LETTER SCRIPT G */, "dry\u2010run" /* HYPHEN */, "auth.no_user_interaction\u001b", "auth", "auth.", "org.vfiod.force", "persist.path", "x".repeat(10_000))) {
            rows.add(new Row("unknown option " + show(k), rebindNic("{" + gv(k) + ": <true>}"), Env.INVALID_ARGUMENT,
                    "unknown option", null, "the contract's comment: an unknown key is InvalidArgument"));
        }
        rows.add(new Row("2,000 unknown options (48 kB, under the 64 KiB cap)", rebindNic(manyOptions(2_000)), Env.INVALID_ARGUMENT,
                "unknown option 'k", null, "the first unknown key is refused"));
        rows.add(new Row("Device.Rebind unknown option", gdbus(NIC_PATH, Env.DEVICE_IFACE + ".Rebind", "{'frobnicate': <true>}"),
                Env.INVALID_ARGUMENT, "unknown option 'frobnicate'", null, "the Device object parses options as the Manager"));
        rows.add(new Row("Device.Restore unknown option", gdbus(NIC_PATH, Env.DEVICE_IFACE + ".Restore", "{'frobnicate': <true>}"),
                Env.INVALID_ARGUMENT, "unknown option 'frobnicate'", null, "the Device object parses options as the Manager"));
        rows.add(new Row("Manager.Restore unknown option", gdbus(Env.MANAGER, Env.MANAGER_IFACE + ".Restore", gv(NIC), "{'frobnicate': <true>}"),
                Env.INVALID_ARGUMENT, "unknown option 'frobnicate'", null, "Restore parses options as Rebind"));

        // -- options: every wrong type of every known option -------------------------------------------------------
        for (Map.Entry<String, String> o : OPTIONS.entrySet()) {
            for (Map.Entry<String, String> t : VALUES.entrySet()) {
                if (t.getKey().equals(o.getValue())) continue;
                rows.add(new Row("option " + o.getKey() + " of type " + t.getKey(), rebindNic("{'" + o.getKey() + "': <" + t.getValue() + ">}"),
                        Env.INVALID_ARGUMENT, "option '" + o.getKey() + "' must be of type " + o.getValue() + ", not " + t.getKey(), null,
                        "the contract's comment: a wrong type is InvalidArgument"));
            }
        }

        // -- options: values out of range ----------------------------------------------------------------------------
        for (String ms : List.of("0", "4294967295", "600001")) {
            rows.add(new Row("timeout " + ms, rebindNic("{'timeout': <uint32 " + ms + ">}"), Env.INVALID_ARGUMENT,
                    "option 'timeout' must be between 1 and 600000 ms", null, "vfiod(8): at most 600000"));
        }
        // an owner no user has is refused before polkit is asked (it says nothing of the devices); (uid_t) -1 is no uid
        for (String uid : List.of("3999999999", "4294967295")) {
            rows.add(new Row("owner " + uid, rebindNic("{'owner': <uint32 " + uid + ">}"), Env.INVALID_ARGUMENT,
                    uid.equals("4294967295") ? "is no uid" : "no user has uid " + uid, null, "vfiod(8): an owner no user has is InvalidArgument"));
        }
        rows.add(new Row("Restore with owner", gdbus(Env.MANAGER, Env.MANAGER_IFACE + ".Restore", gv(NIC), "{'owner': <uint32 0>}"),
                Env.INVALID_ARGUMENT, "option 'owner' is for Rebind and Assign", null, "owner is for the way in only"));
        List<String> drivers = List.of("", "/", "..", "../vfio-pci", "vfio-pci/../../e1000e", "/sys/bus/pci/drivers/vfio-pci",
                "vfio-pci\n", "vfio-pci\t", "\u001b[31mvfio-pci", "vfio-pci\u007f", "vfio-pci\u00a0", "\uff56fio-pci", "e1000e",
                "v".repeat(10_000));
        for (String d : drivers) {
            rows.add(new Row("driver " + show(d), rebindNic("{'driver': <" + gv(d) + ">}"), Env.INVALID_ARGUMENT, NOT_VFIO,
                    Env.ACCESS_DENIED, "InvalidArgument " + polkitFirst));
        }
        for (String d : List.of("../vfio-pci", "v".repeat(10_000))) {
            rows.add(new Row("dry-run driver " + show(d), rebindNic("{'dry-run': <true>, 'driver': <" + gv(d) + ">}"),
                    Env.INVALID_ARGUMENT, NOT_VFIO, null, "a dry run asks no polkit: OUTSIDER reaches the check too"));
        }

        // -- nesting ---------------------------------------------------------------------------------------------------
        rows.add(new Row("group: 30 variants deep", rebindNic("{'group': " + "<".repeat(30) + "true" + ">".repeat(30) + "}"),
                Env.INVALID_ARGUMENT, "option 'group' must be of type b, not v", null, "within the spec's limits: vfiod refuses it"));
        rows.add(new Row("group: 64 variants deep (raw)", raw("nested", 64), BUS_DISCONNECTS, null, null,
                "over the spec's nesting limit: dbus-daemon drops the sender; vfiod never sees it"));
        rows.add(new Row("group: an array 30 deep (raw)", raw("arrays", 30), Env.INVALID_ARGUMENT,
                "option 'group' must be of type b, not aaa", null, "32 arrays in all: within the spec's limits"));
        rows.add(new Row("group: an array 33 deep (raw)", raw("arrays", 33), BUS_DISCONNECTS, null, null,
                "over the spec's 32 arrays: dbus-daemon drops the sender"));

        // -- messages over vfiod's 64 KiB body cap -------------------------------------------------------------------
        rows.add(new Row("10,000 options (240 kB, raw)", raw("options", 10_000), LIMITS_EXCEEDED, null, null,
                "over vfiod's 64 KiB body cap: refused before it is unmarshalled"));
        rows.add(new Row("3,000 options (72 kB, raw)", raw("options", 3_000), LIMITS_EXCEEDED, null, null, "over the 64 KiB cap"));
        rows.add(new Row("a 70,000-character address (raw)", raw("address", 70_000), LIMITS_EXCEEDED, null, null, "over the 64 KiB cap"));
        rows.add(new Row("Set with a 72 kB value (raw)", raw("set", 3_000), LIMITS_EXCEEDED, null, null, "over the 64 KiB cap"));

        // -- wrong signatures: InvalidArgs, before anything runs ------------------------------------------------------
        String m = Env.MANAGER_IFACE + ".", d = Env.DEVICE_IFACE + ".", p = "org.freedesktop.DBus.Properties.";
        List<List<String>> sigs = List.of(
                List.of(Env.MANAGER, m + "Rebind"),
                List.of(Env.MANAGER, m + "Rebind", "string:" + NIC),
                List.of(Env.MANAGER, m + "Rebind", "string:" + NIC, "string:group"),
                List.of(Env.MANAGER, m + "Rebind", "string:" + NIC, "dict:string:string:group,true"),
                List.of(Env.MANAGER, m + "Rebind", "int32:1", "string:" + NIC),
                List.of(Env.MANAGER, m + "Rebind", "string:" + NIC, "array:string:group", "string:x"),
                List.of(Env.MANAGER, m + "Restore", "uint32:3"),
                List.of(Env.MANAGER, m + "DeviceByAddress", "uint32:3"),
                List.of(Env.MANAGER, m + "DeviceByAddress"),
                List.of(Env.MANAGER, m + "DeviceByAddress", "objpath:" + NIC_PATH),
                List.of(Env.MANAGER, m + "Resolve", "int32:1"),
                List.of(Env.MANAGER, m + "Reload", "boolean:true"),
                List.of(Env.MANAGER, m + "ListDevices", "string:x"),
                List.of(NIC_PATH, d + "Rebind", "string:group"),
                List.of(NIC_PATH, d + "Restore", "boolean:true"),
                List.of(NIC_PATH, d + "Users", "string:x"),
                List.of(Env.MANAGER, p + "Get", "string:" + Env.MANAGER_IFACE),
                List.of(Env.MANAGER, p + "GetAll"),
                List.of(Env.MANAGER, p + "Set", "string:" + Env.MANAGER_IFACE, "string:Version"),
                List.of(Env.MANAGER, "org.freedesktop.DBus.Peer.Ping", "string:x"),
                List.of(Env.MANAGER, "org.freedesktop.DBus.Introspectable.Introspect", "string:x"));
        for (List<String> c : sigs) {
            rows.add(new Row("signature: " + String.join(" ", c.subList(1, c.size())).replace(NIC_PATH, "NIC").replace("org.vfiod1.", "")
                    + " on " + (c.get(0).equals(NIC_PATH) ? "NIC" : c.get(0)),
                    dbusSend(c.get(0), c.get(1), c.subList(2, c.size()).toArray(String[]::new)),
                    INVALID_ARGS, "takes (", null, "the member's signature is checked before anything runs"));
        }

        // -- absent objects ---------------------------------------------------------------------------------------------
        for (List<String> c : List.of(
                List.of(ABSENT_PATH, "org.freedesktop.DBus.Introspectable.Introspect"),
                List.of(ABSENT_PATH, d + "Rebind"),
                List.of(ABSENT_PATH, p + "Get", "string:" + Env.DEVICE_IFACE, "string:Driver"),
                List.of(NIC_PATH + "/driver", "org.freedesktop.DBus.Introspectable.Introspect"),
                List.of(Env.devicePath(NIC) + "0", p + "GetAll", "string:" + Env.DEVICE_IFACE),
                List.of("/org/vfiod/devices/PCI_0000_03_00_0", p + "GetAll", "string:" + Env.DEVICE_IFACE),
                List.of("/org/vfiod/devices/pci_0000_3a03_3a00_2e0_", p + "GetAll", "string:" + Env.DEVICE_IFACE),
                // the form before issue 18, an upper-case escape, a needless escape: each device has one path
                List.of("/org/vfiod/devices/pci_0000_03_00_0", p + "GetAll", "string:" + Env.DEVICE_IFACE),
                List.of("/org/vfiod/devices/pci_0000_3A03_3A00_2E0", p + "GetAll", "string:" + Env.DEVICE_IFACE),
                List.of("/org/vfiod/devices/pci_0000_3a03_3a00_2e_30", p + "GetAll", "string:" + Env.DEVICE_IFACE),
                List.of("/org/vfiod/devices/platform_ffff0000_2eabsent", d + "Users"),
                List.of("/org/vfiod2", m + "ListDevices"),
                List.of("/org/vfiod/Manager", m + "ListDevices"),
                List.of("/org/vfiod/devices/pci_0000_03_00_8", d + "Users"))) {
            rows.add(new Row("object " + c.get(0) + " " + c.get(1).replaceAll(".*\\.", ""), dbusSend(c.get(0), c.get(1),
                    c.subList(2, c.size()).toArray(String[]::new)), UNKNOWN_OBJECT, "no object at", null, "no such object"));
        }

        // -- wrong interfaces ------------------------------------------------------------------------------------------
        for (List<String> c : List.of(
                List.of(Env.MANAGER, d + "Rebind"),
                List.of(NIC_PATH, m + "Rebind", "string:" + NIC),
                List.of(NIC_PATH, "org.freedesktop.DBus.ObjectManager.GetManagedObjects"),
                List.of("/", m + "ListDevices"),
                List.of("/org/vfiod/devices", d + "Users"))) {
            rows.add(new Row("interface " + c.get(1).replaceAll("\\.[A-Za-z]+$", "") + " on " + c.get(0).replace(NIC_PATH, "NIC"),
                    dbusSend(c.get(0), c.get(1), c.subList(2, c.size()).toArray(String[]::new)), UNKNOWN_INTERFACE, "no interface", null,
                    "the object has no such interface"));
        }

        // the bus policy (packaging/dbus/org.vfiod.conf) lets through only the six interfaces vfiod has: any other is
        // refused by dbus-daemon itself, for root too, and never reaches vfiod
        for (List<String> c : List.of(
                List.of(Env.MANAGER, "org.vfiod1.manager.ListDevices"),
                List.of(Env.MANAGER, "org.vfiod2.Manager.ListDevices"),
                List.of(Env.MANAGER, "org.vfiod.Manager.ListDevices"),
                List.of(NIC_PATH, "org.vfiod1.device.Rebind"),
                List.of(Env.MANAGER, "org.freedesktop.DBus.Properties2.Get", "string:" + Env.MANAGER_IFACE, "string:Version"),
                List.of(Env.MANAGER, "org.freedesktop.systemd1.Manager.Reboot"))) {
            rows.add(new Row("interface " + c.get(1).replaceAll("\\.[A-Za-z]+$", "") + " on " + c.get(0).replace(NIC_PATH, "NIC")
                    + " (bus policy)", dbusSend(c.get(0), c.get(1), c.subList(2, c.size()).toArray(String[]::new)), Env.ACCESS_DENIED,
                    "Rejected send message", null, "dbus-daemon's policy refuses an interface vfiod does not have"));
        }

        // -- unknown members -------------------------------------------------------------------------------------------
        for (List<String> c : List.of(
                List.of(Env.MANAGER, m + "Explode"),
                List.of(Env.MANAGER, m + "rebind", "string:" + NIC),
                List.of(Env.MANAGER, m + "RebindAll"),
                List.of(Env.MANAGER, m + "Unbind", "string:" + NIC),
                List.of(NIC_PATH, d + "Unbind"),
                List.of(NIC_PATH, d + "Remove"),
                List.of(Env.MANAGER, p + "Delete", "string:" + Env.MANAGER_IFACE, "string:Version"),
                List.of(Env.MANAGER, "org.freedesktop.DBus.Introspectable.Introspect2"),
                List.of(Env.MANAGER, "org.freedesktop.DBus.Peer.Pong"))) {
            rows.add(new Row("member " + c.get(1).replaceAll(".*\\.", "") + " on " + c.get(0).replace(NIC_PATH, "NIC"),
                    dbusSend(c.get(0), c.get(1), c.subList(2, c.size()).toArray(String[]::new)), UNKNOWN_METHOD, "no method", null,
                    "no such member"));
        }

        // -- Set: every property is read-only ----------------------------------------------------------------------------
        for (List<String> c : List.of(
                List.of(Env.MANAGER, Env.MANAGER_IFACE, "Version", "variant:uint32:2"),
                List.of(Env.MANAGER, Env.MANAGER_IFACE, "AliasCount", "variant:uint32:0"),
                List.of(Env.MANAGER, Env.MANAGER_IFACE, "Nothing", "variant:string:x"),
                List.of(NIC_PATH, Env.DEVICE_IFACE, "Driver", "variant:string:vfio-pci"),
                List.of(NIC_PATH, Env.DEVICE_IFACE, "DriverOverride", "variant:string:vfio-pci"),
                List.of(NIC_PATH, Env.DEVICE_IFACE, "State", "variant:string:vfio"),
                List.of(NIC_PATH, Env.DEVICE_IFACE, "Persistent", "variant:boolean:true"),
                List.of(NIC_PATH, Env.DEVICE_IFACE, "DriverOverride", "variant:int32:1"))) {
            rows.add(new Row("Set " + c.get(2) + " " + c.get(3).replaceAll("variant:([a-z0-9]+):.*", "$1") + " on "
                    + c.get(0).replace(NIC_PATH, "NIC"), dbusSend(c.get(0), p + "Set", "string:" + c.get(1), "string:" + c.get(2), c.get(3)),
                    PROPERTY_READ_ONLY, "read-only", null, "the contract: every property is access=\"read\""));
        }

        // -- Get and GetAll of interfaces that are not there ------------------------------------------------------------
        for (List<String> c : List.of(
                List.of(Env.MANAGER, "Get", "string:org.vfiod1.Nothing", "string:Version"),
                List.of(Env.MANAGER, "Get", "string:" + Env.DEVICE_IFACE, "string:Driver"),
                List.of(Env.MANAGER, "Get", "string:", "string:Version"),
                List.of(Env.MANAGER, "GetAll", "string:org.vfiod1.Nothing"),
                List.of(Env.MANAGER, "GetAll", "string:org.vfiod1.manager"),
                List.of(NIC_PATH, "GetAll", "string:" + Env.MANAGER_IFACE),
                List.of(NIC_PATH, "Get", "string:" + Env.MANAGER_IFACE, "string:Version"),
                List.of(NIC_PATH, "Get", "string:org.freedesktop.DBus.Properties", "string:Driver"))) {
            rows.add(new Row(c.get(1) + " " + c.get(2).substring("string:".length()) + " on " + c.get(0).replace(NIC_PATH, "NIC"),
                    dbusSend(c.get(0), p + c.get(1), c.subList(2, c.size()).toArray(String[]::new)), UNKNOWN_INTERFACE, "no interface", null,
                    "Get/GetAll name an interface the object does not have"));
        }
        for (String prop : List.of("Nothing", "version", "Address")) {
            rows.add(new Row("Get unknown property " + prop + " of the Manager",
                    dbusSend(Env.MANAGER, p + "Get", "string:" + Env.MANAGER_IFACE, "string:" + prop), UNKNOWN_PROPERTY, "no property", null,
                    "Get of a property the interface does not have"));
        }
        return rows;
    }

    /** GVariant text of an a{sv} of {@code n} unknown keys. */
    static String manyOptions(int n) {
        StringBuilder b = new StringBuilder("{");
        for (int i = 0; i < n; i++) b.append(i == 0 ? "" : ", ").append(String.format("'k%07d': <true>", i));
        return b.append('}').toString();
    }

    // ---- the run -------------------------------------------------------------------------------------------------------

    private final AtomicInteger calls = new AtomicInteger(), writesSeen = new AtomicInteger(), wrongErrors = new AtomicInteger();
    private final AtomicBoolean answering = new AtomicBoolean(true);
    /** One line per call, for a person reading the results: row, caller, expected, got, message. */
    private final List<String> lines = java.util.Collections.synchronizedList(new ArrayList<>());

    @TestFactory
    Stream<DynamicNode> everyRowAsRootAndAsOutsider(Env env) {
        VfiodProcess vfiod = env.vfiod();
        List<Row> rows = table();
        Set<String> names = new HashSet<>();
        for (Row r : rows) assertTrue(names.add(r.name()), "two rows named " + r.name());
        List<DynamicNode> nodes = new ArrayList<>();
        for (User u : List.of(User.ROOT, User.OUTSIDER)) {
            nodes.add(DynamicContainer.dynamicContainer("as " + u, rows.stream().map(r ->
                    DynamicTest.dynamicTest(r.name(), () -> check(env, vfiod, u, r)))));
        }
        nodes.add(DynamicTest.dynamicTest("results", () -> results(env, vfiod, rows.size())));
        return nodes.stream();
    }

    private void check(Env env, VfiodProcess vfiod, User u, Row row) {
        SysfsSnapshot before = env.snapshot();
        int writesBefore = writes(env);
        calls.incrementAndGet();
        Outcome o = row.sender().send(env, u);
        String expected = row.expectedFor(u);
        String fragment = row.fragmentFor(u);
        boolean rightName = expected.equals(o.name());
        boolean rightMessage = fragment == null || (o.message() != null && o.message().contains(fragment));
        boolean clear = !expected.startsWith("org.vfiod1.") || o.message() == null
                || (o.message().length() < MAX_MESSAGE && o.message().chars().noneMatch(c -> c < 0x20 || c == 0x7f));
        if (!rightName || !rightMessage || !clear) wrongErrors.incrementAndGet();
        lines.add(String.join("\t", row.name(), u.toString(), expected, String.valueOf(o.name()),
                o.message() == null ? "" : escape(o.message().length() > 200 ? o.message().substring(0, 200) : o.message())));
        int newWrites = writes(env) - writesBefore;
        writesSeen.addAndGet(Math.max(newWrites, 0));
        boolean alive = vfiod.alive() && env.call(u, Env.MANAGER, "org.freedesktop.DBus.Peer.Ping").ok();
        if (!alive) answering.set(false);

        assertEquals(expected, o.name(), () -> row.name() + " (" + row.why() + ") as " + u + ": " + o.describe());
        assertTrue(rightMessage, () -> "the message should contain '" + fragment + "': " + o.describe());
        assertTrue(clear, () -> "vfiod's message should be one short printable line: " + o.describe());
        assertEquals(0, newWrites, () -> "kernel writes after " + row.name() + ": " + tail(env));
        before.assertUnchanged(row.name() + " as " + u);
        assertTrue(alive, () -> "vfiod did not answer a Ping after " + row.name());
    }

    private void results(Env env, VfiodProcess vfiod, int kinds) throws IOException {
        if (!(vfiod.alive() && env.manager(User.ROOT, "ListDevices").ok() && env.manager(User.OUTSIDER, "ListDevices").ok())) {
            answering.set(false);
        }
        Path out = Harness.projectRoot().resolve("it/target/security/bad-input.tsv");
        Files.createDirectories(out.getParent());
        Files.writeString(out, "kinds\t" + kinds + "\ncalls\t" + calls.get() + "\nwrites_seen\t" + writesSeen.get()
                + "\nwrong_errors\t" + wrongErrors.get() + "\ndaemon_answering\t" + (answering.get() ? "yes" : "no") + "\n",
                StandardCharsets.UTF_8);
        Files.write(out.resolveSibling("bad-input-rows.tsv"), lines, StandardCharsets.UTF_8);
        System.out.println("vfiod-it: bad input: " + kinds + " kinds, " + calls.get() + " calls, " + writesSeen.get()
                + " writes, " + wrongErrors.get() + " wrong errors, answering " + answering.get() + " (" + out + ")");
        assertTrue(kinds >= 80, "at least 80 kinds of bad input");
        assertEquals(2 * kinds, calls.get(), "every row as both callers");
        assertEquals(0, wrongErrors.get(), "rows with the wrong error");
        assertEquals(0, writesSeen.get(), "kernel writes");
        assertTrue(answering.get(), "vfiod answered after every row");
        assertEquals("e1000e", env.driverOf(NIC), "the NIC every option row aimed at is where it was");
    }

    /** Lines of the simulated kernel's write log so far. */
    private static int writes(Env env) {
        Path log = env.sysfsRoot().resolve(SimulatedKernel.CONTROL_DIR).resolve("writes");
        try {
            return Files.exists(log) ? (int) Files.readAllLines(log, StandardCharsets.UTF_8).size() : 0;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String tail(Env env) {
        try {
            return Files.readString(env.sysfsRoot().resolve(SimulatedKernel.CONTROL_DIR).resolve("writes"));
        } catch (IOException e) {
            return e.toString();
        }
    }

    /** A row's name for an input: quoted, shortened, escaped. */
    static String show(String s) {
        return "'" + escape(s.length() > 40 ? s.substring(0, 30) + "...(" + s.length() + " chars)" : s) + "'";
    }

    /** ASCII only: control characters as \\xNN, anything beyond ASCII as \\uNNNN. */
    static String escape(String s) {
        StringBuilder b = new StringBuilder();
        for (char ch : s.toCharArray()) {
            b.append(ch < 0x20 || ch == 0x7f ? String.format("\\x%02x", (int) ch) : ch > 0x7e ? String.format("\\u%04x", (int) ch) : String.valueOf(ch));
        }
        return b.toString();
    }
}
