package org.vfiod.daemon.features;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.freedesktop.dbus.types.UInt16;
import org.freedesktop.dbus.types.Variant;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.vfiod.daemon.files.AtomicFiles;
import org.vfiod.daemon.model.DeviceListener;
import org.vfiod.daemon.model.DeviceState;

/**
 * Keeps the NFD feature file equal to the registry: written at start, then again after the registry changes. A burst
 * of changes (a group moving, a hundred VFs appearing) is one write: the first change schedules a write
 * {@code settle} later, and the changes until then ride on it. While a device is busy (a move in flight) the write
 * waits for the move's last change, up to {@link #MAX_WAIT_FOR_MOVES}, so a moving device does not flap the labels.
 * The file is replaced atomically, and only when its text changes (NFD re-reads it on its own schedule).
 */
public final class FeatureFileWriter implements DeviceListener, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(FeatureFileWriter.class);
    /** A move that takes longer (a hung unbind) is counted as not on VFIO: it is not usable until it ends. */
    static final Duration MAX_WAIT_FOR_MOVES = Duration.ofSeconds(10);

    private final Path file;
    private final Supplier<List<DeviceState>> devices;
    private final Duration settle;
    private final AtomicBoolean scheduled = new AtomicBoolean();
    private final AtomicInteger writes = new AtomicInteger();
    private final ScheduledExecutorService worker;
    /** Worker-thread state: since when a write has waited for busy devices (0: not waiting). */
    private long waitingSince;
    private boolean warnedLeftOut;
    /** Worker-thread state: whether the last write failed (logged once until one succeeds). */
    private boolean failing;

    public FeatureFileWriter(Path file, Supplier<List<DeviceState>> devices, Duration settle) {
        this.file = file;
        this.devices = devices;
        this.settle = settle;
        ScheduledThreadPoolExecutor w = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "nfd-features");
            t.setDaemon(true);
            return t;
        });
        w.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
        this.worker = w;
    }

    public Path file() {
        return file;
    }

    /** Writes the file for the devices there now (the registry tells no listener of its first devices). */
    public void start() {
        scheduled.set(true);
        worker.execute(this::write);
    }

    @Override
    public void added(DeviceState device) {
        schedule();
    }

    @Override
    public void changed(DeviceState device, Map<String, Variant<?>> changed) {
        // only what the file says: a device's State and Driver, or its ids; Persistent or Recovery change nothing
        if (changed.containsKey("State") || changed.containsKey("Driver") || changed.containsKey("VendorId")
                || changed.containsKey("DeviceId")) {
            schedule();
        }
    }

    @Override
    public void removed(DeviceState device) {
        schedule();
    }

    /** Called with the registry locked: it only schedules, never blocks. */
    private void schedule() {
        if (scheduled.compareAndSet(false, true)) {
            try {
                worker.schedule(this::write, settle.toMillis(), TimeUnit.MILLISECONDS);
            } catch (java.util.concurrent.RejectedExecutionException closed) {
                scheduled.set(false);
            }
        }
    }

    private void write() {
        scheduled.set(false);
        List<DeviceState> now = devices.get();
        boolean moving = now.stream().anyMatch(d -> "busy".equals(value(d, "State")));
        if (moving) {
            long t = System.nanoTime();
            if (waitingSince == 0) waitingSince = t;
            if (t - waitingSince < MAX_WAIT_FOR_MOVES.toNanos()) {
                // the move's end changes the device's State, which schedules again; this is the fallback
                if (scheduled.compareAndSet(false, true)) worker.schedule(this::write, settle.toMillis() * 4, TimeUnit.MILLISECONDS);
                return;
            }
        }
        waitingSince = 0;
        FeatureFile.Rendered r = FeatureFile.render(onVfio(now));
        if (r.modelsLeftOut() > 0 && !warnedLeftOut) {
            LOG.warn("{}: {} model(s) left out, to keep the file under NFD's {} bytes", file, r.modelsLeftOut(), FeatureFile.MAX_BYTES);
        }
        warnedLeftOut = r.modelsLeftOut() > 0;
        try {
            if (r.text().equals(current())) return;
            Files.createDirectories(file.getParent());
            AtomicFiles.write(file, r.text());
            writes.incrementAndGet();
            LOG.debug("wrote {}", file);
            if (failing) LOG.info("wrote {} again", file);
            failing = false;
        } catch (IOException e) {
            // the next change tries again; a folder that cannot be written (no NFD here, a read-only /etc) is said once
            if (!failing) LOG.warn("cannot write the NFD feature file {}: {}", file, e.toString());
            else LOG.debug("cannot write the NFD feature file {}: {}", file, e.toString());
            failing = true;
        }
    }

    private String current() throws IOException {
        try {
            return Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException absent) {
            return null;
        }
    }

    /** The devices on a vfio driver, as the registry says: State "vfio". */
    static List<VfioDevice> onVfio(List<DeviceState> devices) {
        List<VfioDevice> out = new ArrayList<>();
        for (DeviceState d : devices) {
            if (!"vfio".equals(value(d, "State"))) continue;
            Object vendor = value(d, "VendorId"), device = value(d, "DeviceId"), driver = value(d, "Driver");
            if (!(vendor instanceof UInt16 v) || !(device instanceof UInt16 p)) continue;
            out.add(new VfioDevice(v.intValue(), p.intValue(), driver instanceof String s ? s : ""));
        }
        return out;
    }

    private static Object value(DeviceState d, String property) {
        Variant<?> v = d.properties().get(property);
        return v == null ? null : v.getValue();
    }

    /** How many times the file was written (tests: a burst is one write). */
    int writes() {
        return writes.get();
    }

    /** Waits until every write scheduled so far has run, or {@code limit} passes (tests). */
    void awaitIdle(Duration limit) throws InterruptedException, ExecutionException, TimeoutException {
        long end = System.nanoTime() + limit.toNanos();
        while (scheduled.get()) {
            if (System.nanoTime() > end) throw new TimeoutException("a write is still scheduled");
            Thread.sleep(10);
        }
        worker.submit(() -> { }).get(Math.max(1, (end - System.nanoTime()) / 1_000_000), TimeUnit.MILLISECONDS);
    }

    /** Stops writing; the file stays: the devices stay where they are when vfiod stops. */
    @Override
    public void close() {
        worker.shutdownNow();
    }
}
