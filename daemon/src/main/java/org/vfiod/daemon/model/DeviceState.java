package org.vfiod.daemon.model;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import org.freedesktop.dbus.types.Variant;
import org.vfiod.daemon.sysfs.PciAddress;
import org.vfiod.daemon.sysfs.PciDevice;

/**
 * One device as vfiod knows it: its address, its object path, and its org.vfiod1.Device properties. The registry
 * replaces the properties whole, so a reader (on the bus reader thread, without a lock) never sees half an update.
 */
public final class DeviceState {
    private final PciAddress address;
    private final String path;
    private volatile Map<String, Variant<?>> properties;
    /** What sysfs said last, so that a change of vfiod's own (busy) needs no read of the device. */
    private volatile PciDevice device;

    DeviceState(PciDevice device, Map<String, Variant<?>> properties) {
        this.address = device.address();
        this.path = DeviceView.path(address);
        this.properties = Map.copyOf(properties);
        this.device = device;
    }

    PciDevice device() {
        return device;
    }

    public PciAddress address() {
        return address;
    }

    /** The object path, made once: every call on the device's object asks for it. */
    public String path() {
        return path;
    }

    /** The properties now, an unmodifiable map. */
    public Map<String, Variant<?>> properties() {
        return properties;
    }

    /** Replaces the properties; returns those whose value changed (empty when none did). */
    synchronized Map<String, Variant<?>> update(PciDevice read, Map<String, Variant<?>> next) {
        device = read;
        Map<String, Variant<?>> changed = changes(properties, next);
        properties = Map.copyOf(next);
        return changed;
    }

    /** The entries of {@code next} that {@code previous} lacks or holds with another value. */
    public static Map<String, Variant<?>> changes(Map<String, Variant<?>> previous, Map<String, Variant<?>> next) {
        Map<String, Variant<?>> changed = new LinkedHashMap<>();
        next.forEach((k, v) -> {
            Variant<?> old = previous.get(k);
            if (old == null || !Objects.equals(old.getValue(), v.getValue())) changed.put(k, v);
        });
        return changed;
    }
}
