package org.vfiod.daemon.bus;

import java.util.ArrayList;
import java.util.List;
import org.freedesktop.dbus.exceptions.DBusException;
import org.freedesktop.dbus.messages.DBusSignal;

/** Keeps what would have gone on the bus: every signal, in order. */
public final class RecordingPublisher implements ObjectPublisher {
    private final List<DBusSignal> signals = new ArrayList<>();
    private final boolean keepSignals;

    public RecordingPublisher(boolean keepSignals) {
        this.keepSignals = keepSignals;
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
