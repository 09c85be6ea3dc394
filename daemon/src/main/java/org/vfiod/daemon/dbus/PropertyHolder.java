package org.vfiod.daemon.dbus;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import org.freedesktop.DBus.Error;
import org.freedesktop.dbus.types.Variant;
import org.vfiod.daemon.sysfs.CallerText;

/**
 * The exported-object base: read-only properties of one interface, served by our own
 * {@code org.freedesktop.DBus.Properties}, and the diff a change announces.
 */
abstract class PropertyHolder {
    private final String interfaceName;
    private volatile Map<String, Variant<?>> properties;

    PropertyHolder(String interfaceName, Map<String, Variant<?>> properties) {
        this.interfaceName = interfaceName;
        this.properties = Map.copyOf(properties);
    }

    Map<String, Variant<?>> properties() {
        return new LinkedHashMap<>(properties);
    }

    /** Replaces the properties; returns those whose value changed (empty when none did). */
    synchronized Map<String, Variant<?>> update(Map<String, Variant<?>> next) {
        Map<String, Variant<?>> changed = new LinkedHashMap<>();
        Map<String, Variant<?>> prev = properties;
        next.forEach((k, v) -> {
            Variant<?> old = prev.get(k);
            if (old == null || !Objects.equals(old.getValue(), v.getValue())) changed.put(k, v);
        });
        properties = Map.copyOf(next);
        return changed;
    }

    @SuppressWarnings("unchecked")
    public <A> A Get(String iface, String property) {
        checkInterface(iface);
        Variant<?> v = properties.get(property);
        if (v == null) throw new Error.UnknownProperty("no property " + CallerText.printable(property) + " on " + interfaceName);
        return (A) v;
    }

    public <A> void Set(String iface, String property, A value) {
        Get(iface, property);
        throw new Error.PropertyReadOnly(interfaceName + "." + property + " is read-only");
    }

    public Map<String, Variant<?>> GetAll(String iface) {
        if (iface == null || iface.isEmpty()) return properties();
        if (!interfaceName.equals(iface)) return Map.of();
        return properties();
    }

    private void checkInterface(String iface) {
        if (!interfaceName.equals(iface)) {
            throw new Error.UnknownInterface("no interface " + CallerText.printable(iface) + " here");
        }
    }
}
