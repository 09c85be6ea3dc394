package org.vfiod.daemon.bus;

import java.util.List;
import java.util.Map;
import org.freedesktop.dbus.DBusPath;
import org.freedesktop.dbus.interfaces.ObjectManager;
import org.freedesktop.dbus.interfaces.Properties;
import org.freedesktop.dbus.types.Variant;
import org.vfiod.daemon.model.DeviceListener;
import org.vfiod.daemon.model.DeviceState;
import org.vfiod1.Device;
import org.vfiod1.Manager;

/**
 * The registry's changes as signals: an object appears with InterfacesAdded and DeviceAdded, vanishes with
 * InterfacesRemoved and DeviceRemoved, and every property change is a PropertiesChanged.
 */
public final class DeviceSignals implements DeviceListener {
    private final ObjectPublisher publisher;

    public DeviceSignals(ObjectPublisher publisher) {
        this.publisher = publisher;
    }

    @Override
    public void added(DeviceState device) {
        DBusPath path = new DBusPath(device.path());
        Map<String, Map<String, Variant<?>>> ifaces = Map.of(Device.INTERFACE, device.properties());
        publisher.signal(() -> new ObjectManager.InterfacesAdded(Manager.PATH, path, ifaces));
        publisher.signal(() -> new Manager.DeviceAdded(Manager.PATH, path));
    }

    @Override
    public void changed(DeviceState device, Map<String, Variant<?>> changed) {
        publisher.signal(() -> new Properties.PropertiesChanged(device.path(), Device.INTERFACE, changed, List.of()));
    }

    @Override
    public void removed(DeviceState device) {
        DBusPath path = new DBusPath(device.path());
        publisher.signal(() -> new ObjectManager.InterfacesRemoved(Manager.PATH, path, List.of(Device.INTERFACE)));
        publisher.signal(() -> new Manager.DeviceRemoved(Manager.PATH, path));
    }
}
