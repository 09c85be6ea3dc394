package org.vfiod.daemon.sim;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import org.vfiod.daemon.udev.DeviceEvent;
import org.vfiod.daemon.udev.DeviceEventSource;

/**
 * The event source of a simulated tree, behind the same interface as the libudev monitor. It watches the tree
 * (inotify) and turns what changed into the uevents the kernel would send: add, remove, bind, unbind. Tests can
 * also inject any event, including nonsense, and an overflow.
 */
public final class SimulatedEventSource implements DeviceEventSource {
    private final Path root;
    private final boolean watch;
    private volatile Listener listener;
    private TreeWatcher watcher;
    private Map<String, Optional<String>> last = Map.of();
    private volatile Set<String> subsystems = Set.of();

    /** {@code watch}: follow the tree by itself (daemon, demo); false when a test injects every event. */
    public SimulatedEventSource(Path root, boolean watch) {
        this.root = root;
        this.watch = watch;
    }

    @Override
    public void start(Set<String> subsystems, Listener listener) throws IOException {
        this.listener = listener;
        // like the monitor's filter: only the buses asked for
        this.subsystems = Set.copyOf(subsystems);
        if (watch) watcher = new TreeWatcher(root, this::diff);
        synchronized (this) {
            last = scan();
            listener.onEnumerated(events(last));
        }
    }

    /** Delivers an event as if the kernel had sent it. */
    public void inject(DeviceEvent event) {
        listener.onEvent(event);
    }

    /** Delivers ENOBUFS as the monitor would: overflow, then a fresh enumeration. */
    public void injectOverflow() throws IOException {
        listener.onOverflow();
        synchronized (this) {
            last = scan();
            listener.onEnumerated(events(last));
        }
    }

    private synchronized void diff() {
        Map<String, Optional<String>> now;
        try {
            now = scan();
        } catch (IOException e) {
            listener.onOverflow();
            return;
        }
        for (String gone : last.keySet()) {
            if (!now.containsKey(gone)) listener.onEvent(event(DeviceEvent.Action.REMOVE, gone, Optional.empty()));
        }
        for (Map.Entry<String, Optional<String>> e : now.entrySet()) {
            Optional<String> before = last.get(e.getKey());
            if (before == null) {
                listener.onEvent(event(DeviceEvent.Action.ADD, e.getKey(), Optional.empty()));
                if (e.getValue().isPresent()) listener.onEvent(event(DeviceEvent.Action.BIND, e.getKey(), e.getValue()));
            } else if (!Objects.equals(before, e.getValue())) {
                if (before.isPresent()) listener.onEvent(event(DeviceEvent.Action.UNBIND, e.getKey(), Optional.empty()));
                if (e.getValue().isPresent()) listener.onEvent(event(DeviceEvent.Action.BIND, e.getKey(), e.getValue()));
            }
        }
        last = now;
    }

    /** {@code key}: BUS/NAME, as {@link #scan} keys devices. */
    private static DeviceEvent event(DeviceEvent.Action action, String key, Optional<String> driver) {
        String bus = key.substring(0, key.indexOf('/'));
        String name = key.substring(key.indexOf('/') + 1);
        // PCI's uevent names the slot; the others' are keyed by the device's name alone
        Map<String, String> props = bus.equals("pci") ? Map.of("PCI_SLOT_NAME", name) : Map.of();
        return new DeviceEvent(action, bus, name, driver, props);
    }

    private static List<DeviceEvent> events(Map<String, Optional<String>> devices) {
        List<DeviceEvent> out = new ArrayList<>();
        devices.forEach((name, driver) -> out.add(event(DeviceEvent.Action.ADD, name, driver)));
        return out;
    }

    /** Every device of every bus, keyed BUS/NAME, with its driver. */
    private Map<String, Optional<String>> scan() throws IOException {
        Map<String, Optional<String>> out = new TreeMap<>();
        for (Path dir : TreeWatcher.busFolders(root, "devices")) {
            String bus = dir.getParent().getFileName().toString();
            if (!subsystems.isEmpty() && !subsystems.contains(bus)) continue;
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
                for (Path dev : ds) {
                    Path link = dev.resolve("driver");
                    out.put(bus + "/" + dev.getFileName(), Files.isSymbolicLink(link)
                            ? Optional.of(Files.readSymbolicLink(link).getFileName().toString()) : Optional.empty());
                }
            } catch (java.nio.file.NoSuchFileException gone) {
                // a bus folder cannot go, but a test may lay out a tree while we look
            }
        }
        return out;
    }

    @Override
    public void close() {
        try {
            if (watcher != null) watcher.close();
        } catch (IOException ignored) {
            // closing anyway
        }
    }
}
