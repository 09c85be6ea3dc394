package org.vfiod.daemon.bus;

import org.freedesktop.dbus.exceptions.DBusException;
import org.freedesktop.dbus.messages.DBusSignal;

/** Where signals go: the bus connection, or a recorder in tests and benchmarks. */
public interface ObjectPublisher {
    void signal(SignalFactory factory);

    /** Builds a signal; building can fail only on a malformed path, which ours never are. */
    @FunctionalInterface
    interface SignalFactory {
        DBusSignal make() throws DBusException;
    }
}
