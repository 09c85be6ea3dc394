package org.vfiod.daemon.bus;

import java.util.Map;
import org.freedesktop.DBus.Error;
import org.freedesktop.dbus.types.Variant;
import org.vfiod.daemon.sysfs.CallerText;

/**
 * What {@code org.freedesktop.DBus.Properties} answers on an object: the read-only properties of its one
 * interface. The properties themselves live with their object (a device's in the model).
 */
final class ReadOnlyProperties {
    private ReadOnlyProperties() {
    }

    static Variant<?> get(String ownInterface, Map<String, Variant<?>> properties, String iface, String property) {
        checkInterface(ownInterface, iface);
        Variant<?> v = properties.get(property);
        if (v == null) throw new Error.UnknownProperty("no property " + CallerText.printable(property) + " on " + ownInterface);
        return v;
    }

    static Map<String, Variant<?>> getAll(String ownInterface, Map<String, Variant<?>> properties, String iface) {
        // "" asks for every interface's (the specification); any other than ours is unknown, as Get says too
        if (iface == null || iface.isEmpty()) return properties;
        checkInterface(ownInterface, iface);
        return properties;
    }

    private static void checkInterface(String ownInterface, String iface) {
        if (!ownInterface.equals(iface)) {
            throw new Error.UnknownInterface("no interface " + CallerText.printable(iface) + " here");
        }
    }
}
