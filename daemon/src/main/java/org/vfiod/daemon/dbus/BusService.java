package org.vfiod.daemon.dbus;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.freedesktop.dbus.connections.impl.DBusConnection;
import org.freedesktop.dbus.exceptions.DBusException;
import org.vfiod.daemon.aliases.AliasIndex;
import org.vfiod.daemon.auth.Authorizer;
import org.vfiod.daemon.binding.RebindEngine;
import org.vfiod.daemon.state.Persistence;
import org.vfiod.daemon.sysfs.Sysfs;
import org.vfiod.daemon.udev.HardwareNames;
import org.vfiod1.Manager;

/** The objects vfiod puts on the bus, built together because they refer to each other. */
public final class BusService {
    private final DBusConnection connection;
    private final DeviceRegistry registry;
    private final ManagerObject manager;

    public BusService(DBusConnection connection, Sysfs sysfs, AtomicReference<AliasIndex> index, Supplier<AliasIndex> reload,
                      RebindEngine engine, Authorizer authorizer, ExecutorService authPool, String kernelRelease,
                      int maxSlowCalls, HardwareNames names, Persistence persistence) {
        this.connection = connection;
        this.registry = new DeviceRegistry(new ConnectionPublisher(connection), sysfs, index::get, engine, names,
                persistence == null ? d -> false : persistence::covers);
        Operations operations = new Operations(engine, authorizer, authPool, registry, maxSlowCalls, persistence);
        registry.setOperations(operations);
        this.manager = new ManagerObject(connection, registry, operations, index, reload, sysfs, kernelRelease);
    }

    /** Exports the manager and every device; the caller requests the name afterwards, so no one sees a half-built service. */
    public void export() throws DBusException {
        connection.exportObject(Manager.PATH, manager);
        registry.populate();
    }

    public DeviceRegistry registry() {
        return registry;
    }

    /** Re-reads the alias sources' result: AliasCount and every VfioDriver. */
    public void aliasesChanged() {
        manager.aliasesChanged();
    }

    public int deviceCount() {
        return registry.paths().size();
    }
}
