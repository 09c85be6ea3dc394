package org.vfiod.cli;

import java.util.List;
import java.util.Map;
import org.freedesktop.dbus.exceptions.DBusException;
import org.vfiod.client.Assignment;
import org.vfiod.client.DeviceInfo;
import org.vfiod.client.RebindOptions;
import org.vfiod.client.Resolution;

/**
 * What vfioctl asks of vfiod. {@link BusVfiod} answers over D-Bus with the typed client; tests answer with a
 * fake. Errors are the contract's exceptions ({@code org.vfiod1.Error.*}, AccessDenied, ...), mapped to exit codes
 * by {@link Exit}.
 */
interface Vfiod extends AutoCloseable {
    /** Every device: PCI's first, by address, then the other buses' by bus and name. */
    List<DeviceInfo> devices() throws DBusException;

    /** One device by its canonical PCI address or bus:name; NoSuchDevice when there is none. */
    DeviceInfo device(String address) throws DBusException;

    /** Who uses the device and its IOMMU group's other endpoints, one line each (what InUse would name). */
    List<String> users(String address) throws DBusException;

    /** The device's driver after the call ("" for none). */
    String rebind(String address, RebindOptions options) throws DBusException;

    String restore(String address, RebindOptions options) throws DBusException;

    /** Rebind with the full answer (vfiod's Assign): the nodes a VM opens, who may open them, the steps, the users. */
    Assignment assign(String address, RebindOptions options) throws DBusException;

    /** Restore with the full answer (vfiod's Release). */
    Assignment release(String address, RebindOptions options) throws DBusException;

    Resolution resolve(String modalias) throws DBusException;

    /**
     * Subscribes to device events, then checks that vfiod is there (so that a monitor started without a daemon
     * fails at once). Events arrive in order on one thread until the handle is closed.
     */
    AutoCloseable watch(Events events) throws DBusException;

    /** Whether the bus connection is still up. */
    boolean connected();

    @Override
    void close();

    /** Device events; paths are object paths, property values plain Java values (DBusPath as its path string). */
    interface Events {
        void added(String path);

        void removed(String path);

        void changed(String path, Map<String, Object> properties);

        /** vfiod took its bus name (true) or lost it (false). */
        void daemon(boolean running);
    }

    /** Opens the connection only when a command needs it. */
    interface Connector {
        Vfiod connect() throws Exit.Unavailable;
    }
}
