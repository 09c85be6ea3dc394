package org.vfiod.it;

import java.time.Duration;
import java.util.Map;
import org.freedesktop.dbus.messages.Error;
import org.freedesktop.dbus.messages.Message;
import org.freedesktop.dbus.types.Variant;
import org.vfiod.daemon.bus.BusLink;

/**
 * One call to org.vfiod written as a short line, made on a {@link BusLink} of whoever runs it (a {@link FloodClient}
 * as a test user, or the test JVM as root), and its outcome: {@code ok}, the error's name, or the exception's class.
 *
 * <ul>
 * <li>{@code Rebind ADDRESS}, {@code Restore ADDRESS}, either with {@code dry-run} after it: a Manager call;</li>
 * <li>{@code Users ADDRESS}: Device.Users();</li>
 * <li>{@code Get ADDRESS PROPERTY}, {@code GetAll ADDRESS}: Properties of the device's org.vfiod1.Device;</li>
 * <li>{@code GetManagedObjects}: the ObjectManager at /org/vfiod.</li>
 * </ul>
 */
public final class BusCall {
    static final String PROPERTIES = "org.freedesktop.DBus.Properties";
    static final String OBJECT_MANAGER = "org.freedesktop.DBus.ObjectManager";

    private BusCall() {
    }

    /** The kind of a call line, for figures per kind: its member, with " dry-run" if it is one. */
    public static String kind(String line) {
        String[] c = line.split(" ");
        return c[0] + (line.endsWith(" dry-run") ? " dry-run" : "");
    }

    public static String call(BusLink link, String line, Duration timeout) {
        String[] c = line.split(" ");
        try {
            Message reply = switch (c[0]) {
                case "Rebind", "Restore" -> {
                    Map<String, Variant<?>> options = c.length > 2 && c[2].equals("dry-run")
                            ? Map.of("dry-run", new Variant<>(true)) : Map.of();
                    yield link.call(Env.BUS_NAME, Env.MANAGER, Env.MANAGER_IFACE, c[0], timeout, "sa{sv}", c[1], options);
                }
                case "Users" -> link.call(Env.BUS_NAME, Env.devicePath(c[1]), Env.DEVICE_IFACE, "Users", timeout, null);
                case "Get" -> link.call(Env.BUS_NAME, Env.devicePath(c[1]), PROPERTIES, "Get", timeout, "ss", Env.DEVICE_IFACE, c[2]);
                case "GetAll" -> link.call(Env.BUS_NAME, Env.devicePath(c[1]), PROPERTIES, "GetAll", timeout, "s", Env.DEVICE_IFACE);
                case "GetManagedObjects" -> link.call(Env.BUS_NAME, Env.MANAGER, OBJECT_MANAGER, "GetManagedObjects", timeout, null);
                default -> throw new IllegalArgumentException("no such call: " + line);
            };
            return reply instanceof Error e ? e.getName() : "ok";
        } catch (IllegalArgumentException e) {
            throw e;
        } catch (Exception e) {
            return e.getClass().getSimpleName();
        }
    }

    /** A connection that reads its replies and ignores everything else. */
    public static BusLink connect(String address) throws Exception {
        BusLink link = BusLink.connect(address);
        link.start(new BusLink.Incoming() {
            @Override
            public void call(org.freedesktop.dbus.messages.MethodCall call) {
            }

            @Override
            public void signal(org.freedesktop.dbus.messages.DBusSignal signal) {
            }
        }, () -> { });
        return link;
    }
}
