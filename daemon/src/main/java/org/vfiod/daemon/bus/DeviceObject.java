package org.vfiod.daemon.bus;

import java.util.List;
import java.util.Map;
import org.freedesktop.dbus.types.Variant;
import org.vfiod.daemon.model.DeviceState;
import org.vfiod1.Device;

/**
 * What the object at each device's path answers, for the device the path names. One for all devices: the state is
 * the model's, so there is nothing to build or keep per device.
 */
final class DeviceObject {
    private final Mutations mutations;

    DeviceObject(Mutations mutations) {
        this.mutations = mutations;
    }

    Variant<?> get(DeviceState device, String iface, String property) {
        return ReadOnlyProperties.get(Device.INTERFACE, device.properties(), iface, property);
    }

    Map<String, Variant<?>> getAll(DeviceState device, String iface) {
        return ReadOnlyProperties.getAll(Device.INTERFACE, device.properties(), iface);
    }

    String rebind(DeviceState device, Caller caller, Map<String, Variant<?>> options) {
        return mutations.rebind(caller, device.name(), options);
    }

    String restore(DeviceState device, Caller caller, Map<String, Variant<?>> options) {
        return mutations.restore(caller, device.name(), options);
    }

    Map<String, Variant<?>> assign(DeviceState device, Caller caller, Map<String, Variant<?>> options) {
        return mutations.assign(caller, device.name(), options);
    }

    Map<String, Variant<?>> release(DeviceState device, Caller caller, Map<String, Variant<?>> options) {
        return mutations.release(caller, device.name(), options);
    }

    List<String> users(DeviceState device) {
        return mutations.users(device.name());
    }
}
