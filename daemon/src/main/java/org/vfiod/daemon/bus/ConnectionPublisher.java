package org.vfiod.daemon.bus;

import java.io.IOException;
import org.freedesktop.dbus.exceptions.DBusException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Publishes signals on the bus connection. */
final class ConnectionPublisher implements ObjectPublisher {
    private static final Logger LOG = LoggerFactory.getLogger(ConnectionPublisher.class);
    private final BusLink link;

    ConnectionPublisher(BusLink link) {
        this.link = link;
    }

    @Override
    public void signal(SignalFactory factory) {
        try {
            link.signal(factory.make());
        } catch (DBusException | IOException | RuntimeException e) {
            LOG.warn("cannot send a signal: {}", e.toString());
        }
    }
}
