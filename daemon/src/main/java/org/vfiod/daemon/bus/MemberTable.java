package org.vfiod.daemon.bus;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.freedesktop.DBus.Error.AccessDenied;
import org.freedesktop.DBus.Error.InvalidArgs;
import org.freedesktop.DBus.Error.PropertyReadOnly;
import org.freedesktop.DBus.Error.UnknownInterface;
import org.freedesktop.DBus.Error.UnknownMethod;
import org.freedesktop.dbus.exceptions.DBusExecutionException;
import org.freedesktop.dbus.types.Variant;
import org.vfiod.daemon.model.DeviceState;
import org.vfiod.daemon.sysfs.CallerText;
import org.vfiod1.Device;
import org.vfiod1.Error;
import org.vfiod1.Manager;

/**
 * Every member vfiod answers, per kind of object: its interface, name, in- and out-signature, and what it may do.
 * A read is answered at once on the reader thread; a mutation runs on the slow pool under the polkit action its
 * entry names, and a mutation that names none is refused before it runs (deny by default, as bolt's bouncer).
 * ContractTest holds this table equal to the committed introspection XML, member by member, action by action.
 */
final class MemberTable {
    static final String PEER = "org.freedesktop.DBus.Peer", INTROSPECTABLE = "org.freedesktop.DBus.Introspectable",
            PROPERTIES = "org.freedesktop.DBus.Properties", OBJECT_MANAGER = "org.freedesktop.DBus.ObjectManager";

    /** A read: the target (the object, or the device its path names) and the arguments, already of the signature. */
    @FunctionalInterface
    interface ReadHandler {
        Object invoke(Object target, Object[] args);
    }

    @FunctionalInterface
    interface MutationHandler {
        Object invoke(Object target, Object[] args, Caller caller);
    }

    sealed interface Access {
        /** Runs the member; {@code caller} is null for a read, which needs none. */
        Object invoke(Object target, Object[] args, Caller caller);
    }

    /** Reads in-memory state only: answered on the reader thread, with no authorization. */
    record Reads(ReadHandler handler) implements Access {
        @Override
        public Object invoke(Object target, Object[] args, Caller caller) {
            return handler.invoke(target, args);
        }
    }

    /**
     * Reads the machine beyond vfiod's own state (all of /proc, say), which takes time: runs on the slow pool, so the
     * reader thread stays free for the cheap reads; needs no authorization.
     */
    record Examines(ReadHandler handler) implements Access {
        @Override
        public Object invoke(Object target, Object[] args, Caller caller) {
            return handler.invoke(target, args);
        }
    }

    /**
     * Refused from the header alone: the arguments are never unmarshalled, so whatever the body carries (a 31 MB
     * variant, say) costs nothing but the reading of it.
     */
    record Refuses(DBusExecutionException error) implements Access {
        @Override
        public Object invoke(Object target, Object[] args, Caller caller) {
            throw error;
        }
    }

    /** Changes the machine: runs on the slow pool, and only under {@code action}; none named, it is refused. */
    record Mutates(String action, MutationHandler handler) implements Access {
        boolean namesAction() {
            return action != null && !action.isBlank();
        }

        @Override
        public Object invoke(Object target, Object[] args, Caller caller) {
            return handler.invoke(target, args, caller);
        }
    }

    /** What {@link #route} finds: a member to run, or the error the caller gets instead. */
    sealed interface Route {
    }

    record Member(String iface, String name, String in, String out, Access access) implements Route {
    }

    record Refused(DBusExecutionException error) implements Route {
    }

    /** What one kind of object answers: its members, and the interface blocks its Introspect lists. */
    record Kind(List<Member> members, List<String> introspected) {
        @SafeVarargs
        static Kind of(List<String> introspected, List<Member>... groups) {
            return new Kind(Stream.of(groups).flatMap(List::stream).toList(), introspected);
        }
    }

    static Member reads(String iface, String name, String in, String out, ReadHandler handler) {
        return new Member(iface, name, in, out, new Reads(handler));
    }

    static Member examines(String iface, String name, String in, String out, ReadHandler handler) {
        return new Member(iface, name, in, out, new Examines(handler));
    }

    static Member mutates(String iface, String name, String in, String out, String action, MutationHandler handler) {
        return new Member(iface, name, in, out, new Mutates(action, handler));
    }

    /**
     * Every property of vfiod is read-only, so a Set is refused before its arguments are looked at, and the error
     * cannot name the interface or property: they are in the body.
     */
    static final Member SET = new Member(PROPERTIES, "Set", "ssv", "",
            new Refuses(new PropertyReadOnly("every property of vfiod is read-only")));

    static final List<Member> PEER_MEMBERS = List.of(
            reads(PEER, "Ping", "", "", (t, a) -> null),
            reads(PEER, "GetMachineId", "", "s", (t, a) -> machineId()));
    /** {@code /}, {@code /org}, {@code /org/vfiod/devices}: there only to be introspected on the way down. */
    static final Kind ANCESTOR = Kind.of(List.of(IntrospectionXml.PEER, IntrospectionXml.INTROSPECTABLE), PEER_MEMBERS);
    /** Any other path: only Peer, which answers on every path, as the specification has it. */
    static final Kind NO_OBJECT = Kind.of(List.of(), PEER_MEMBERS);

    private final Kind managerObject, deviceObject;

    /** The handlers call {@code m} and {@code d}; the table itself (for its tests) needs neither. */
    MemberTable(ManagerObject m, DeviceObject d) {
        managerObject = Kind.of(List.of(IntrospectionXml.PEER, IntrospectionXml.INTROSPECTABLE, IntrospectionXml.PROPERTIES,
                IntrospectionXml.OBJECT_MANAGER, Manager.INTERFACE), PEER_MEMBERS, List.of(
                reads(Manager.INTERFACE, "ListDevices", "", "ao", (t, a) -> m.ListDevices()),
                reads(Manager.INTERFACE, "DeviceByAddress", "s", "o", (t, a) -> m.DeviceByAddress((String) a[0])),
                reads(Manager.INTERFACE, "Resolve", "s", "a{sv}", (t, a) -> m.Resolve((String) a[0])),
                mutates(Manager.INTERFACE, "Rebind", "sa{sv}", "s", Actions.REBIND,
                        (t, a, c) -> m.rebind(c, (String) a[0], options(a[1]))),
                mutates(Manager.INTERFACE, "Restore", "sa{sv}", "s", Actions.REBIND,
                        (t, a, c) -> m.restore(c, (String) a[0], options(a[1]))),
                mutates(Manager.INTERFACE, "Assign", "sa{sv}", "a{sv}", Actions.REBIND,
                        (t, a, c) -> m.assign(c, (String) a[0], options(a[1]))),
                mutates(Manager.INTERFACE, "Release", "sa{sv}", "a{sv}", Actions.REBIND,
                        (t, a, c) -> m.release(c, (String) a[0], options(a[1]))),
                mutates(Manager.INTERFACE, "Reload", "", "", Actions.RELOAD, (t, a, c) -> {
                    m.reload(c);
                    return null;
                }),
                reads(OBJECT_MANAGER, "GetManagedObjects", "", "a{oa{sa{sv}}}", (t, a) -> m.GetManagedObjects()),
                reads(PROPERTIES, "Get", "ss", "v", (t, a) -> m.get((String) a[0], (String) a[1])),
                reads(PROPERTIES, "GetAll", "s", "a{sv}", (t, a) -> m.getAll((String) a[0])),
                SET));
        deviceObject = Kind.of(List.of(IntrospectionXml.PEER, IntrospectionXml.INTROSPECTABLE, IntrospectionXml.PROPERTIES,
                Device.INTERFACE), PEER_MEMBERS, List.of(
                mutates(Device.INTERFACE, "Rebind", "a{sv}", "s", Actions.REBIND,
                        (t, a, c) -> d.rebind((DeviceState) t, c, options(a[0]))),
                mutates(Device.INTERFACE, "Restore", "a{sv}", "s", Actions.REBIND,
                        (t, a, c) -> d.restore((DeviceState) t, c, options(a[0]))),
                mutates(Device.INTERFACE, "Assign", "a{sv}", "a{sv}", Actions.REBIND,
                        (t, a, c) -> d.assign((DeviceState) t, c, options(a[0]))),
                mutates(Device.INTERFACE, "Release", "a{sv}", "a{sv}", Actions.REBIND,
                        (t, a, c) -> d.release((DeviceState) t, c, options(a[0]))),
                examines(Device.INTERFACE, "Users", "", "as", (t, a) -> d.users((DeviceState) t)),
                reads(PROPERTIES, "Get", "ss", "v", (t, a) -> d.get((DeviceState) t, (String) a[0], (String) a[1])),
                reads(PROPERTIES, "GetAll", "s", "a{sv}", (t, a) -> d.getAll((DeviceState) t, (String) a[0])),
                SET));
    }

    Kind managerObject() {
        return managerObject;
    }

    Kind deviceObject() {
        return deviceObject;
    }

    /** The kinds of object that have properties. */
    List<Kind> kinds() {
        return List.of(managerObject, deviceObject);
    }

    /**
     * The member of {@code kind} a call names (no interface: the first of that name), if its signature is the
     * member's and, for a mutation, the member names its polkit action.
     */
    static Route route(Kind kind, String path, String iface, String name, String sig) {
        Member member = null;
        boolean ifaceKnown = iface == null;
        for (Member m : kind.members()) {
            if (iface != null && !m.iface().equals(iface)) continue;
            ifaceKnown = true;
            if (m.name().equals(name)) {
                member = m;
                break;
            }
        }
        if (member == null) {
            return new Refused(ifaceKnown
                    ? new UnknownMethod("no method " + CallerText.printable(name) + (iface == null ? "" : " in " + iface) + " on " + path)
                    : new UnknownInterface("no interface " + CallerText.printable(iface) + " on " + path));
        }
        if (!sig.equals(member.in())) {
            return new Refused(new InvalidArgs(member.iface() + "." + member.name() + " takes (" + member.in() + "), not ("
                    + CallerText.printable(sig) + ")"));
        }
        if (member.access() instanceof Mutates w && !w.namesAction()) {
            return new Refused(new AccessDenied(member.iface() + "." + member.name() + " names no polkit action; refusing it"));
        }
        return member;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Variant<?>> options(Object value) {
        if (!(value instanceof Map<?, ?> map)) throw new InvalidArgs("options must be a{sv}");
        Map<String, Variant<?>> out = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : map.entrySet()) {
            if (!(e.getKey() instanceof String k) || !(e.getValue() instanceof Variant<?> v)) throw new InvalidArgs("options must be a{sv}");
            out.put(k, v);
        }
        return out;
    }

    private static String machineId() {
        for (String f : List.of("/etc/machine-id", "/var/lib/dbus/machine-id")) {
            try {
                return Files.readString(Path.of(f)).trim();
            } catch (IOException e) {
                // try the next
            }
        }
        throw new Error.Failed("no machine id on this system");
    }
}
