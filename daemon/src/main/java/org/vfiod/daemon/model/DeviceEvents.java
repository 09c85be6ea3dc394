package org.vfiod.daemon.model;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.vfiod.daemon.sysfs.DeviceName;
import org.vfiod.daemon.sysfs.KernelBus;
import org.vfiod.daemon.udev.DeviceEvent;
import org.vfiod.daemon.udev.DeviceEventSource;

/**
 * Turns device events into registry refreshes on one thread of its own. Events only mark devices dirty; the
 * worker refreshes each dirty device once per pass, so a burst of ten thousand events about a few devices costs a
 * few sysfs reads, and the udev thread never waits for D-Bus.
 */
public final class DeviceEvents implements DeviceEventSource.Listener, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(DeviceEvents.class);

    private final DeviceRegistry registry;
    private final Consumer<DeviceName> onDeviceEvent;
    private final Consumer<DeviceName> onAdded;
    private final LinkedHashSet<DeviceName> dirty = new LinkedHashSet<>();
    /** Devices whose IOMMU group may have changed too: only an add or remove changes group membership. */
    private final LinkedHashSet<DeviceName> dirtyGroups = new LinkedHashSet<>();
    private boolean rescan;
    private boolean working;
    private boolean closed;
    private long received;
    private final Thread worker;

    public DeviceEvents(DeviceRegistry registry, Consumer<DeviceName> onDeviceEvent) {
        this(registry, onDeviceEvent, a -> { });
    }

    /**
     * {@code onDeviceEvent} sees every event of a bus vfiod implements at once (the Rebind waiter listens there); {@code onAdded} every
     * add (the persistent rules apply there).
     */
    public DeviceEvents(DeviceRegistry registry, Consumer<DeviceName> onDeviceEvent, Consumer<DeviceName> onAdded) {
        this.registry = registry;
        this.onDeviceEvent = onDeviceEvent;
        this.onAdded = onAdded;
        this.worker = new Thread(this::loop, "device-events");
        worker.setDaemon(true);
        worker.start();
    }

    @Override
    public void onEnumerated(List<DeviceEvent> present) {
        synchronized (this) {
            rescan = true;
            notifyAll();
        }
    }

    @Override
    public void onEvent(DeviceEvent event) {
        Optional<KernelBus> bus = KernelBus.named(event.subsystem());
        if (bus.isEmpty()) return;
        Optional<DeviceName> device = bus.get().parse(event.sysname());
        if (device.isEmpty()) {
            LOG.debug("ignoring event for unparseable {} name {}", bus.get().title(), event.sysname());
            return;
        }
        synchronized (this) {
            received++;
            boolean membership = event.action() != DeviceEvent.Action.BIND && event.action() != DeviceEvent.Action.UNBIND
                    && event.action() != DeviceEvent.Action.CHANGE;
            (membership ? dirtyGroups : dirty).add(device.get());
            notifyAll();
        }
        onDeviceEvent.accept(device.get());
        if (event.action() == DeviceEvent.Action.ADD) onAdded.accept(device.get());
    }

    @Override
    public void onOverflow() {
        LOG.warn("the kernel dropped device events (ENOBUFS); re-reading every device");
        synchronized (this) {
            rescan = true;
            notifyAll();
        }
    }

    public synchronized long received() {
        return received;
    }

    /** Waits until every event received so far has been applied. True when idle within the limit. */
    public synchronized boolean awaitIdle(Duration limit) throws InterruptedException {
        long end = System.nanoTime() + limit.toNanos();
        while (working || rescan || !dirty.isEmpty() || !dirtyGroups.isEmpty()) {
            long left = end - System.nanoTime();
            if (left <= 0) return false;
            wait(Math.max(1, left / 1_000_000));
        }
        return true;
    }

    private void loop() {
        while (true) {
            boolean full;
            List<DeviceName> batch;
            List<DeviceName> groupBatch;
            synchronized (this) {
                while (!closed && !rescan && dirty.isEmpty() && dirtyGroups.isEmpty()) {
                    try {
                        wait();
                    } catch (InterruptedException e) {
                        return;
                    }
                }
                if (closed) return;
                full = rescan;
                rescan = false;
                groupBatch = new ArrayList<>(dirtyGroups);
                dirty.removeAll(dirtyGroups);
                batch = new ArrayList<>(dirty);
                dirty.clear();
                dirtyGroups.clear();
                working = true;
            }
            try {
                if (full) registry.rescan();
                for (DeviceName a : groupBatch) registry.refreshWithGroup(a);
                for (DeviceName a : batch) registry.refresh(a);
            } catch (RuntimeException e) {
                LOG.error("applying device events failed", e);
            } finally {
                synchronized (this) {
                    working = false;
                    notifyAll();
                }
            }
        }
    }

    @Override
    public void close() {
        synchronized (this) {
            closed = true;
            notifyAll();
        }
        worker.interrupt();
    }
}
