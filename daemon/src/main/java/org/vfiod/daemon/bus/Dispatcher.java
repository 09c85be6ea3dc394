package org.vfiod.daemon.bus;

import java.io.IOException;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import org.freedesktop.DBus.Error.UnknownMethod;
import org.freedesktop.DBus.Error.UnknownObject;
import org.freedesktop.dbus.exceptions.DBusException;
import org.freedesktop.dbus.exceptions.DBusExecutionException;
import org.freedesktop.dbus.messages.DBusSignal;
import org.freedesktop.dbus.messages.Message;
import org.freedesktop.dbus.messages.MethodCall;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.vfiod.daemon.bus.MemberTable.Kind;
import org.vfiod.daemon.bus.MemberTable.Member;
import org.vfiod.daemon.bus.MemberTable.Mutates;
import org.vfiod.daemon.bus.MemberTable.Refused;
import org.vfiod.daemon.bus.MemberTable.Route;
import org.vfiod.daemon.model.DeviceRegistry;
import org.vfiod.daemon.model.DeviceState;
import org.vfiod.daemon.sysfs.CallerText;
import org.vfiod1.Error;
import org.vfiod1.Manager;

/**
 * Routes each incoming call to its object and member (see {@link MemberTable}). Reads run on the reader thread and
 * answer at once (they only read in-memory state); mutations, which may wait for polkit or the kernel, run on the
 * slow pool, so a read never queues behind them. The signature is checked before anything runs.
 */
final class Dispatcher implements BusLink.Incoming {
    private static final Logger LOG = LoggerFactory.getLogger(Dispatcher.class);
    private static final byte NO_REPLY_EXPECTED = 0x1;
    private static final Object[] NO_ARGS = new Object[0];

    private final BusLink link;
    private final ManagerObject manager;
    private final DeviceRegistry registry;
    private final MemberTable table;
    private final ExecutorService slowPool;
    private final BusName name;
    private final IntrospectionXml xml = new IntrospectionXml();

    /** {@code name} hears the signals the bus sends us (NameLost). */
    Dispatcher(BusLink link, ManagerObject manager, DeviceRegistry registry, DeviceObject devices, ExecutorService slowPool,
               BusName name) {
        this.link = link;
        this.manager = manager;
        this.registry = registry;
        this.table = new MemberTable(manager, devices);
        this.slowPool = slowPool;
        this.name = name;
    }

    @Override
    public void signal(DBusSignal signal) {
        name.signal(signal);
    }

    @Override
    public void call(MethodCall call) {
        String path = call.getPath();
        String iface = call.getInterface();
        String member = call.getName();
        Object target;
        Kind kind;
        Optional<DeviceState> device;
        if (Manager.PATH.equals(path)) {
            target = manager;
            kind = table.managerObject();
        } else if (isAncestor(path)) {
            target = path;
            kind = MemberTable.ANCESTOR;
        } else if ((device = device(path)).isPresent()) {
            target = device.get();
            kind = table.deviceObject();
        } else {
            target = path;
            kind = MemberTable.NO_OBJECT;
        }
        if (kind == MemberTable.NO_OBJECT && !MemberTable.PEER.equals(iface)) {
            reply(call, new UnknownObject("no object at " + CallerText.printable(path)));
            return;
        }
        String sig = call.getSig() == null ? "" : call.getSig();
        if (MemberTable.INTROSPECTABLE.equals(iface) || (iface == null && "Introspect".equals(member))) {
            introspect(call, kind, path, member, sig);
            return;
        }
        Route route = MemberTable.route(kind, path, iface, member, sig);
        if (route instanceof Refused refused) {
            reply(call, refused.error());
        } else if (route instanceof Member m) {
            run(call, m, target);
        }
    }

    /** Introspect, which every object but a nonexistent one answers: its interfaces, cut from the contract, and its children. */
    private void introspect(MethodCall call, Kind kind, String path, String member, String sig) {
        if (!"Introspect".equals(member) || kind.introspected().isEmpty()) {
            reply(call, new UnknownMethod("no method " + CallerText.printable(member) + " in " + MemberTable.INTROSPECTABLE));
            return;
        }
        Member introspect = MemberTable.reads(MemberTable.INTROSPECTABLE, "Introspect", "", "s",
                (t, a) -> xml.node(kind.introspected(), children(path)));
        Route route = MemberTable.route(new Kind(List.of(introspect), kind.introspected()), path, MemberTable.INTROSPECTABLE, member, sig);
        if (route instanceof Refused refused) reply(call, refused.error());
        else run(call, introspect, path);
    }

    /** A read at once, on this thread; an examination and a mutation on the slow pool, with its caller and the action it needs. */
    private void run(MethodCall call, Member member, Object target) {
        if (member.access() instanceof MemberTable.Refuses refuses) {
            reply(call, refuses.error());
        } else if (member.access() instanceof Mutates || member.access() instanceof MemberTable.Examines) {
            // an examination needs no caller: it asks nobody's permission
            Caller caller = member.access() instanceof Mutates w ? new Caller(call.getSource(), w.action()) : null;
            try {
                slowPool.execute(() -> invoke(call, member, target, caller));
            } catch (RejectedExecutionException e) {
                reply(call, new Error.Busy(caller == null ? "vfiod is stopping" : "vfiod is stopping; nothing was changed"));
            }
        } else {
            invoke(call, member, target, null);
        }
    }

    private void invoke(MethodCall call, Member member, Object target, Caller caller) {
        Object result;
        try {
            Object[] args = call.getParameters();
            result = member.access().invoke(target, args == null ? NO_ARGS : args, caller);
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
        return registry.atPath(path);
    }

    private static boolean isAncestor(String path) {
        return "/".equals(path) || "/org".equals(path) || Manager.DEVICES_PATH.equals(path);
    }

    private List<String> children(String path) {
        return switch (path) {
            case "/" -> List.of("org");
            case "/org" -> List.of("vfiod");
            case Manager.PATH -> List.of("devices");
            case Manager.DEVICES_PATH -> registry.all().stream().map(d -> d.name().objectPathElement()).toList();
            default -> List.of();
        };
    }
}
