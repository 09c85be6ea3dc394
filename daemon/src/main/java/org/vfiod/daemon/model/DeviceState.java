package org.vfiod.daemon.model;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.freedesktop.dbus.types.Variant;
import org.vfiod.daemon.sysfs.Device;
import org.vfiod.daemon.sysfs.DeviceName;

/**
 * One device as vfiod knows it: its name, its object path, its IOMMU group's members, and its org.vfiod1.Device
 * properties. The registry replaces the properties whole, so a reader (on the bus reader thread, without a lock)
 * never sees half an update.
 */
public final class DeviceState {
    private final DeviceName name;
    private final String path;
    private volatile Map<String, Variant<?>> properties;
    private volatile List<DeviceName> groupMembers;
    /** What sysfs said last, so that a change of vfiod's own (busy) needs no read of the device. */
    private volatile Device device;

    DeviceState(Device device, Map<String, Variant<?>> properties) {
        this.name = device.name();
        this.path = DeviceView.path(name);
        this.properties = Map.copyOf(properties);
        this.groupMembers = List.copyOf(device.groupMembers());
        this.device = device;
    }

    Device device() {
        return device;
    }

    public DeviceName name() {
        return name;
    }

    /** The devices of its IOMMU group as last read, itself included (alone without a group). */
    public List<DeviceName> groupMembers() {
        return groupMembers;
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
    synchronized Map<String, Variant<?>> update(Device read, Map<String, Variant<?>> next) {
        Map<String, Variant<?>> changed = changes(properties, next);
        device = read;
        properties = Map.copyOf(next);
        groupMembers = List.copyOf(read.groupMembers());
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
