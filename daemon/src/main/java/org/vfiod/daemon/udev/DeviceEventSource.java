package org.vfiod.daemon.udev;

import java.io.IOException;
import java.util.List;
import java.util.Set;

/**
 * Where the daemon learns what the kernel does to devices: libudev's monitor on the real {@code /sys}, or a source
 * a test or the demo drives. The registry cannot tell them apart.
 */
public interface DeviceEventSource extends AutoCloseable {
    /**
     * Starts listening for the given subsystems (e.g. {@code pci}) and only then enumerates them, so no event between
     * the enumeration and the first event is lost. The listener is called from the source's own thread.
     */
    void start(Set<String> subsystems, Listener listener) throws IOException;

    @Override
    void close();

    interface Listener {
        /** The devices present right after listening began (and again after an overflow). */
        void onEnumerated(List<DeviceEvent> present);

        void onEvent(DeviceEvent event);

        /** Events were lost (ENOBUFS): the listener must re-read everything; the source enumerates again next. */
        void onOverflow();
    }
}
