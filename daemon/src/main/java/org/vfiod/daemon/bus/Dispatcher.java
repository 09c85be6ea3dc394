package org.vfiod.daemon.bus;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.stream.Stream;
import org.freedesktop.DBus.Error.InvalidArgs;
import org.freedesktop.DBus.Error.UnknownInterface;
import org.freedesktop.DBus.Error.UnknownMethod;
import org.freedesktop.DBus.Error.UnknownObject;
import org.freedesktop.dbus.exceptions.DBusException;
import org.freedesktop.dbus.exceptions.DBusExecutionException;
import org.freedesktop.dbus.messages.DBusSignal;
import org.freedesktop.dbus.messages.Message;
import org.freedesktop.dbus.messages.MethodCall;
import org.freedesktop.dbus.types.Variant;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.vfiod.daemon.model.DeviceRegistry;
import org.vfiod.daemon.model.DeviceState;
import org.vfiod.daemon.sysfs.CallerText;
import org.vfiod.daemon.sysfs.PciAddress;
import org.vfiod1.Device;
import org.vfiod1.Error;
import org.vfiod1.Manager;

/**
 * Routes each incoming call to its object and member. Read-only members run on the reader thread and answer at once
 * (they only read in-memory state); members that may wait for polkit or the kernel run on the slow pool, so a read
 * never queues behind them. The signature is checked before anything runs.
 */
final class Dispatcher implements BusLink.Incoming {
    private static final Logger LOG = LoggerFactory.getLogger(Dispatcher.class);
    static final String PEER = "org.freedesktop.DBus.Peer", INTROSPECTABLE = "org.freedesktop.DBus.Introspectable",
            PROPERTIES = "org.freedesktop.DBus.Properties", OBJECT_MANAGER = "org.freedesktop.DBus.ObjectManager";
    private static final byte NO_REPLY_EXPECTED = 0x1;

    /** What a member does with its target (the object, or the device its path names), its arguments and its caller. */
    @FunctionalInterface
    private interface Handler {
        Object invoke(Object target, Object[] args, String caller);
    }

    private record Member(String iface, String name, String in, String out, boolean slow, Handler handler) {
    }

    /** What one kind of object answers: its members, and the interface blocks its Introspect lists. */
    private record Kind(List<Member> members, List<String> introspected) {
        @SafeVarargs
        static Kind of(List<String> introspected, List<Member>... groups) {
            return new Kind(Stream.of(groups).flatMap(List::stream).toList(), introspected);
        }
    }

    private static final List<Member> PEER_MEMBERS = List.of(
            new Member(PEER, "Ping", "", "", false, (t, a, c) -> null),
            new Member(PEER, "GetMachineId", "", "s", false, (t, a, c) -> machineId()));
    /** {@code /}, {@code /org}, {@code /org/vfiod/devices}: there only to be introspected on the way down. */
    private static final Kind ANCESTOR = Kind.of(List.of(IntrospectionXml.PEER, IntrospectionXml.INTROSPECTABLE), PEER_MEMBERS);
    /** Any other path: only Peer, which answers on every path, as the specification has it. */
    private static final Kind NO_OBJECT = Kind.of(List.of(), PEER_MEMBERS);

    private final Kind managerObject, deviceObject;
    private final BusLink link;
    private final ManagerObject manager;
    private final DeviceRegistry registry;
    private final DeviceObject devices;
    private final ExecutorService slowPool;
    private final BusName name;
    private final IntrospectionXml xml = new IntrospectionXml();

    /** {@code name} hears the signals the bus sends us (NameLost). */
    Dispatcher(BusLink link, ManagerObject manager, DeviceRegistry registry, DeviceObject devices, ExecutorService slowPool,
               BusName name) {
        this.link = link;
        this.manager = manager;
        this.registry = registry;
        this.devices = devices;
        this.slowPool = slowPool;
        this.name = name;
        ManagerObject m = manager;
        DeviceObject d = devices;
        this.managerObject = Kind.of(List.of(IntrospectionXml.PEER, IntrospectionXml.INTROSPECTABLE,
                IntrospectionXml.PROPERTIES, IntrospectionXml.OBJECT_MANAGER, Manager.INTERFACE), PEER_MEMBERS, List.of(
                new Member(Manager.INTERFACE, "ListDevices", "", "ao", false, (t, a, c) -> m.ListDevices()),
                new Member(Manager.INTERFACE, "DeviceByAddress", "s", "o", false, (t, a, c) -> m.DeviceByAddress((String) a[0])),
                new Member(Manager.INTERFACE, "Resolve", "s", "a{sv}", false, (t, a, c) -> m.Resolve((String) a[0])),
                new Member(Manager.INTERFACE, "Rebind", "sa{sv}", "s", true, (t, a, c) -> m.rebind(c, (String) a[0], options(a[1]))),
                new Member(Manager.INTERFACE, "Restore", "sa{sv}", "s", true, (t, a, c) -> m.restore(c, (String) a[0], options(a[1]))),
                new Member(Manager.INTERFACE, "Reload", "", "", true, (t, a, c) -> {
                    m.reload(c);
                    return null;
                }),
                new Member(OBJECT_MANAGER, "GetManagedObjects", "", "a{oa{sa{sv}}}", false, (t, a, c) -> m.GetManagedObjects()),
                new Member(PROPERTIES, "Get", "ss", "v", false, (t, a, c) -> m.get((String) a[0], (String) a[1])),
                new Member(PROPERTIES, "GetAll", "s", "a{sv}", false, (t, a, c) -> m.getAll((String) a[0])),
                new Member(PROPERTIES, "Set", "ssv", "", false, (t, a, c) -> {
                    m.set((String) a[0], (String) a[1]);
                    return null;
                })));
        this.deviceObject = Kind.of(List.of(IntrospectionXml.PEER, IntrospectionXml.INTROSPECTABLE,
                IntrospectionXml.PROPERTIES, Device.INTERFACE), PEER_MEMBERS, List.of(
                new Member(Device.INTERFACE, "Rebind", "a{sv}", "s", true, (t, a, c) -> d.rebind((DeviceState) t, c, options(a[0]))),
                new Member(Device.INTERFACE, "Restore", "a{sv}", "s", true, (t, a, c) -> d.restore((DeviceState) t, c, options(a[0]))),
                new Member(PROPERTIES, "Get", "ss", "v", false, (t, a, c) -> d.get((DeviceState) t, (String) a[0], (String) a[1])),
                new Member(PROPERTIES, "GetAll", "s", "a{sv}", false, (t, a, c) -> d.getAll((DeviceState) t, (String) a[0])),
                new Member(PROPERTIES, "Set", "ssv", "", false, (t, a, c) -> {
                    d.set((DeviceState) t, (String) a[0], (String) a[1]);
                    return null;
                })));
    }

    @Override
    public void signal(DBusSignal signal) {
        name.signal(signal);
    }

    @Override
    public void call(MethodCall call) {
        String path = call.getPath();
        String iface = call.getInterface();
        String name = call.getName();
        Object target;
        Kind kind;
        Optional<DeviceState> device;
        if (Manager.PATH.equals(path)) {
            target = manager;
            kind = managerObject;
        } else if (isAncestor(path)) {
            target = path;
            kind = ANCESTOR;
        } else if ((device = device(path)).isPresent()) {
            target = device.get();
            kind = deviceObject;
        } else {
            target = path;
            kind = NO_OBJECT;
        }
        if (kind == NO_OBJECT && !PEER.equals(iface)) {
            reply(call, new UnknownObject("no object at " + CallerText.printable(path)));
            return;
        }

        Member member = null;
        if (INTROSPECTABLE.equals(iface) || (iface == null && "Introspect".equals(name))) {
            if (!"Introspect".equals(name) || kind.introspected().isEmpty()) {
                reply(call, new UnknownMethod("no method " + CallerText.printable(name) + " in " + INTROSPECTABLE));
                return;
            }
            List<String> blocks = kind.introspected();
            String p = path;
            member = new Member(INTROSPECTABLE, "Introspect", "", "s", false, (t, a, c) -> xml.node(blocks, children(p)));
        } else {
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
                reply(call, ifaceKnown
                        ? new UnknownMethod("no method " + CallerText.printable(name) + (iface == null ? "" : " in " + iface) + " on " + path)
                        : new UnknownInterface("no interface " + CallerText.printable(iface) + " on " + path));
                return;
            }
        }
        String sig = call.getSig() == null ? "" : call.getSig();
        if (!sig.equals(member.in())) {
            reply(call, new InvalidArgs(member.iface() + "." + member.name() + " takes (" + member.in() + "), not ("
                    + CallerText.printable(sig) + ")"));
            return;
        }
        Member chosen = member;
        Object chosenTarget = target;
        String caller = call.getSource();
        if (!chosen.slow()) {
            invoke(call, chosen, chosenTarget, caller);
            return;
        }
        try {
            slowPool.execute(() -> invoke(call, chosen, chosenTarget, caller));
        } catch (RejectedExecutionException e) {
            reply(call, new Error.Busy("vfiod is stopping; nothing was changed"));
        }
    }

    private void invoke(MethodCall call, Member member, Object target, String caller) {
        Object result;
        try {
            Object[] args = call.getParameters();
            result = member.handler().invoke(target, args == null ? new Object[0] : args, caller);
        } catch (DBusExecutionException e) {
            reply(call, e);
            return;
        } catch (DBusException | RuntimeException e) {
            LOG.warn("{}.{} on {} failed unexpectedly", member.iface(), member.name(), call.getPath(), e);
            reply(call, new Error.Failed("internal error in vfiod (" + e.getClass().getSimpleName() + "); see its log"));
            return;
        }
        if ((call.getFlags() & NO_REPLY_EXPECTED) != 0) return;
        try {
            Message r = member.out().isEmpty()
                    ? link.factory().createMethodReturn(call, null)
                    : link.factory().createMethodReturn(call, member.out(), result);
            link.send(r);
        } catch (DBusException | IOException | RuntimeException e) {
            LOG.warn("cannot send the reply to {}.{}: {}", member.iface(), member.name(), e.toString());
        }
    }

    private void reply(MethodCall call, DBusExecutionException error) {
        if ((call.getFlags() & NO_REPLY_EXPECTED) != 0) return;
        try {
            link.send(link.factory().createError(call, error));
        } catch (DBusException | IOException | RuntimeException e) {
            LOG.warn("cannot send an error reply: {}", e.toString());
        }
    }

    /** The device at {@code path}, if the path is a device's and the device is there. */
    private Optional<DeviceState> device(String path) {
        if (path == null || !path.startsWith(Manager.DEVICES_PATH + "/")) return Optional.empty();
        return PciAddress.fromObjectPathElement(path.substring(Manager.DEVICES_PATH.length() + 1)).flatMap(registry::get);
    }

    private static boolean isAncestor(String path) {
        return "/".equals(path) || "/org".equals(path) || Manager.DEVICES_PATH.equals(path);
    }

    private List<String> children(String path) {
        return switch (path) {
            case "/" -> List.of("org");
            case "/org" -> List.of("vfiod");
            case Manager.PATH -> List.of("devices");
            case Manager.DEVICES_PATH -> registry.all().stream().map(d -> d.address().objectPathElement()).toList();
            default -> List.of();
        };
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
