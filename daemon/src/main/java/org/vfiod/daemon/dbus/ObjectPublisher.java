package org.vfiod.daemon.dbus;

import org.freedesktop.dbus.exceptions.DBusException;
import org.freedesktop.dbus.interfaces.DBusInterface;
import org.freedesktop.dbus.messages.DBusSignal;

/** Where exported objects and signals go: the bus connection, or a recorder in tests and benchmarks. */
public interface ObjectPublisher {
    void export(String path, DBusInterface object) throws DBusException;

    void unexport(String path);

    void signal(SignalFactory factory);

    /** Builds a signal; building can fail only on a malformed path, which ours never are. */
    @FunctionalInterface
    interface SignalFactory {
        DBusSignal make() throws DBusException;
    }
}
