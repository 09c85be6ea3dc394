package org.vfiod.daemon.dbus;

import org.freedesktop.dbus.connections.impl.DBusConnection;
import org.freedesktop.dbus.exceptions.DBusException;
import org.freedesktop.dbus.interfaces.DBusInterface;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Publishes on a dbus-java connection. */
final class ConnectionPublisher implements ObjectPublisher {
    private static final Logger LOG = LoggerFactory.getLogger(ConnectionPublisher.class);
    private final DBusConnection connection;

    ConnectionPublisher(DBusConnection connection) {
        this.connection = connection;
    }

    @Override
    public void export(String path, DBusInterface object) throws DBusException {
        connection.exportObject(path, object);
    }

    @Override
    public void unexport(String path) {
        connection.unExportObject(path);
    }

    @Override
    public void signal(SignalFactory factory) {
        try {
            connection.sendMessage(factory.make());
        } catch (DBusException | RuntimeException e) {
            LOG.warn("cannot send a signal: {}", e.toString());
        }
    }
}
