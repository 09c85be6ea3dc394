package org.vfiod.daemon.sim;

import java.io.IOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The event source of a simulated tree: inotify on the folders where devices and driver bindings appear, so a
 * device added, removed, bound or unbound by hand (or by a test) reaches the daemon as the kernel's uevent would.
 * Bursts are coalesced into one call.
 */
public final class TreeWatcher implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(TreeWatcher.class);

    private final Path root;
    private final Runnable onChange;
    private final WatchService watch;
    private final Thread thread;

    public TreeWatcher(Path root, Runnable onChange) throws IOException {
        this.root = root;
        this.onChange = onChange;
        this.watch = root.getFileSystem().newWatchService();
        registerDrivers();
        this.thread = new Thread(this::loop, "sim-events");
        thread.setDaemon(true);
        thread.start();
    }

    /** {@code bus/<b>/<kind>} of every bus there is now. */
    static java.util.List<Path> busFolders(Path root, String kind) throws IOException {
        java.util.List<Path> out = new java.util.ArrayList<>();
        Path buses = root.resolve("bus");
        if (!Files.isDirectory(buses)) return out;
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(buses)) {
            for (Path b : ds) if (Files.isDirectory(b.resolve(kind))) out.add(b.resolve(kind));
        }
        java.util.Collections.sort(out);
        return out;
    }

    /** Every bus's devices and drivers folders, and each driver's: registering one twice is harmless. */
    private void registerDrivers() throws IOException {
        register(root.resolve("bus"));
        for (Path devices : busFolders(root, "devices")) register(devices);
        for (Path drivers : busFolders(root, "drivers")) {
            register(drivers);
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(drivers)) {
                for (Path d : ds) register(d);
            }
        }
    }

    private void register(Path dir) throws IOException {
        if (Files.isDirectory(dir)) {
            dir.register(watch, StandardWatchEventKinds.ENTRY_CREATE, StandardWatchEventKinds.ENTRY_DELETE,
                    StandardWatchEventKinds.ENTRY_MODIFY);
        }
    }

    private void loop() {
        try {
            while (true) {
                WatchKey key = watch.take();
                drain(key);
                // coalesce a burst: whatever else arrives within a few ms is handled by the same rescan
                WatchKey more;
                while ((more = watch.poll(15, TimeUnit.MILLISECONDS)) != null) drain(more);
                registerDrivers();
                try {
                    onChange.run();
                } catch (RuntimeException e) {
                    LOG.error("handling a change of the simulated tree failed", e);
                }
            }
        } catch (InterruptedException | ClosedWatchServiceException e) {
            // closing
        } catch (IOException e) {
            LOG.error("watching the simulated tree failed: {}", e.toString());
        }
    }

    private static void drain(WatchKey key) {
        key.pollEvents();
        key.reset();
    }

    @Override
    public void close() throws IOException {
        watch.close();
        thread.interrupt();
    }
}
