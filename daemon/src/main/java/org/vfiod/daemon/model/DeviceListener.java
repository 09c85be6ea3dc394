package org.vfiod.daemon.model;

import java.util.Map;
import org.freedesktop.dbus.types.Variant;

/**
 * Hears what changes in the registry (the bus turns it into signals). Called in the order of the changes, with the
 * registry locked: a listener must not block, nor change the registry.
 */
public interface DeviceListener {
    void added(DeviceState device);

    /** {@code changed} holds only the properties whose value changed. */
    void changed(DeviceState device, Map<String, Variant<?>> changed);

    void removed(DeviceState device);
}
