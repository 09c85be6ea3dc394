package org.vfiod.daemon.dbus;

import java.util.Map;
import org.freedesktop.dbus.types.Variant;
import org.vfiod.daemon.sysfs.PciAddress;
import org.vfiod1.Device;

/** One exported device. Its properties are replaced whole by the registry, so a reader never sees half an update. */
final class DeviceObject extends PropertyHolder {
    private final PciAddress address;
    private final Operations operations;

    DeviceObject(PciAddress address, Operations operations, Map<String, Variant<?>> properties) {
        super(Device.INTERFACE, properties);
        this.address = address;
        this.operations = operations;
    }

    PciAddress address() {
        return address;
    }

    String getObjectPath() {
        return DeviceView.path(address);
    }

    String rebind(String caller, Map<String, Variant<?>> options) {
        return operations.rebind(caller, address.toString(), options);
    }

    String restore(String caller, Map<String, Variant<?>> options) {
        return operations.restore(caller, address.toString(), options);
    }
}
