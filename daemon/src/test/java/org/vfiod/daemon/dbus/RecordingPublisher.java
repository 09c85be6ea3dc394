package org.vfiod.daemon.dbus;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.freedesktop.dbus.exceptions.DBusException;
import org.freedesktop.dbus.interfaces.DBusInterface;
import org.freedesktop.dbus.messages.DBusSignal;

/** Keeps what would have gone on the bus: the exported paths and every signal, in order. */
public final class RecordingPublisher implements ObjectPublisher {
    public final Set<String> exported = ConcurrentHashMap.newKeySet();
    private final List<DBusSignal> signals = new ArrayList<>();
    private final boolean keepSignals;

    public RecordingPublisher(boolean keepSignals) {
        this.keepSignals = keepSignals;
    }

    @Override
    public void export(String path, DBusInterface object) {
        if (!exported.add(path)) throw new IllegalStateException("exported twice: " + path);
    }

    @Override
    public void unexport(String path) {
        if (!exported.remove(path)) throw new IllegalStateException("unexported but not exported: " + path);
    }

    @Override
    public void signal(SignalFactory factory) {
        try {
            DBusSignal s = factory.make();
            if (keepSignals) {
                synchronized (signals) {
                    signals.add(s);
                }
            }
        } catch (DBusException e) {
            throw new IllegalStateException(e);
        }
    }

    public List<DBusSignal> signals() {
        synchronized (signals) {
            return List.copyOf(signals);
        }
    }

    public void clear() {
        synchronized (signals) {
            signals.clear();
        }
    }
}
