package org.vfiod.daemon.udev;

import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.NativeLong;
import com.sun.jna.ptr.IntByReference;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Device events from libudev's netlink monitor on the real {@code /sys}.
 *
 * <p>Every libudev object lives and dies on one thread, named {@code udev}, because libudev is not thread-safe;
 * what leaves that thread is an immutable {@link DeviceEvent}. The listener is called on that thread too, so a
 * listener that blocks stops the events (and, if it blocks long enough, makes the kernel drop some, which the
 * overflow path then repairs).
 *
 * <p>Devices found by enumeration have no action; they are reported as {@link DeviceEvent.Action#ADD}, the action
 * a coldplug ({@code udevadm trigger}) would give them.
 */
public final class UdevMonitorSource implements DeviceEventSource {
    private static final Logger LOG = LoggerFactory.getLogger(UdevMonitorSource.class);

    /** udevd's control socket: present exactly when a udevd runs and re-broadcasts events on the "udev" group. */
    static final Path UDEV_CONTROL = Path.of("/run/udev/control");

    /**
     * What udevadm monitor asks for. The kernel charges only what is queued, so a large limit costs nothing while
     * the daemon keeps up and absorbs a burst (thousands of SR-IOV virtual functions created at once) when it
     * does not.
     */
    public static final int DEFAULT_RECEIVE_BUFFER = 128 * 1024 * 1024;

    private static final Duration START_LIMIT = Duration.ofSeconds(30);
    private static final Duration CLOSE_LIMIT = Duration.ofSeconds(5);
    /** Bounds the discarding after an overflow, in case events keep arriving faster than they can be read. */
    private static final int DISCARD_LIMIT = 100_000;

    private final Path udevControl;
    private final boolean forceKernelGroup;
    private final int requestedReceiveBuffer;

    // ---- shared between the caller's threads and the udev thread -------------------------------------------

    private final Object lifecycle = new Object();
    /** Guarded by {@link #lifecycle}. */
    private Thread thread;
    /**
     * The eventfd close() writes to wake the thread from poll. Guarded by {@link #lifecycle}: the udev thread closes
     * it on its way out and sets -1, so close() never writes to a number the process may have reused.
     */
    private int wakeFd = -1;
    private volatile boolean closing;
    private final ConcurrentLinkedQueue<Runnable> tasks = new ConcurrentLinkedQueue<>();
    private final AtomicLong overflows = new AtomicLong();
    private volatile String netlinkGroup;
    private volatile int effectiveReceiveBuffer = -1;

    // ---- touched only on the udev thread once it runs --------------------------------------------------------

    private Libudev lib;
    private LibC libc;
    private Set<String> subsystems;
    private Listener listener;
    private Libudev.Context context;
    private Libudev.Monitor monitor;
    private int monitorFd = -1;

    public UdevMonitorSource() {
        this(DEFAULT_RECEIVE_BUFFER);
    }

    public UdevMonitorSource(int receiveBufferBytes) {
        this(UDEV_CONTROL, false, receiveBufferBytes);
    }

    /** For tests: where to look for udevd, whether to use the kernel group even when udevd runs. */
    UdevMonitorSource(Path udevControl, boolean forceKernelGroup, int receiveBufferBytes) {
        if (receiveBufferBytes <= 0) throw new IllegalArgumentException("receive buffer must be positive");
        this.udevControl = udevControl;
        this.forceKernelGroup = forceKernelGroup;
        this.requestedReceiveBuffer = receiveBufferBytes;
    }

    /**
     * Listens, then enumerates. Returns once the monitor receives and the first enumeration has been read, but
     * before the listener hears of it, so a listener may wait for whatever the caller does after start() without
     * a deadlock. Throws when libudev is missing or the monitor cannot be set up; the source is then closed.
     */
    @Override
    public void start(Set<String> subsystems, Listener listener) throws IOException {
        if (listener == null) throw new NullPointerException("listener");
        // pci always: it is what vfiod is about; other buses (e.g. a platform bus for VFIO platform devices) add to it
        Set<String> filter = new TreeSet<>();
        filter.add("pci");
        for (String s : subsystems) {
            if (s == null || s.isEmpty() || s.contains("/")) throw new IllegalArgumentException("bad subsystem: " + s);
            filter.add(s);
        }
        CompletableFuture<List<DeviceEvent>> ready = new CompletableFuture<>();
        Thread t;
        synchronized (lifecycle) {
            if (closing) throw new IllegalStateException("closed");
            if (thread != null) throw new IllegalStateException("already started");
            try {
                lib = Libudev.load();
                libc = LibC.INSTANCE;
            } catch (LinkageError e) {
                throw new IOException("libudev is not available (install libudev1)", e);
            }
            int fd = libc.eventfd(0, LibC.EFD_NONBLOCK | LibC.EFD_CLOEXEC);
            if (fd < 0) throw new IOException("eventfd failed: errno " + Native.getLastError());
            wakeFd = fd;
            this.subsystems = Set.copyOf(filter);
            this.listener = listener;
            // fields above are published to the thread by Thread.start
            t = new Thread(() -> run(ready), "udev");
            t.setDaemon(true);
            thread = t;
            t.start();
        }
        try {
            ready.get(START_LIMIT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            // the thread has released what it made; this marks the source closed and lets the thread end
            close();
            Throwable cause = e.getCause();
            if (cause instanceof IOException io) throw io;
            throw new IOException("starting the udev monitor failed", cause);
        } catch (TimeoutException e) {
            close();
            throw new IOException("the udev monitor did not start within " + START_LIMIT.toSeconds() + " s");
        } catch (InterruptedException e) {
            close();
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while starting the udev monitor");
        }
    }

    /**
     * Wakes the thread and waits a bounded time for it to unref everything and end. Safe to call more than once,
     * from any thread, including from a listener callback (it then does not wait for itself).
     */
    @Override
    public void close() {
        Thread t;
        synchronized (lifecycle) {
            closing = true;
            t = thread;
            wakeLocked();
        }
        if (t == null || t == Thread.currentThread()) return;
        joinQuietly(t);
        if (t.isAlive()) {
            LOG.warn("the udev thread did not stop within {} s; is a device event listener blocked?",
                    CLOSE_LIMIT.toSeconds());
        }
    }

    /** "udev" or "kernel" once started; null before. */
    String netlinkGroup() {
        return netlinkGroup;
    }

    /** SO_RCVBUF as the kernel reports it (twice what was granted, for its bookkeeping); -1 before start. */
    int effectiveReceiveBuffer() {
        return effectiveReceiveBuffer;
    }

    long overflows() {
        return overflows.get();
    }

    Thread thread() {
        synchronized (lifecycle) {
            return thread;
        }
    }

    /** For tests: runs the task on the udev thread, after it next wakes. */
    void runOnUdevThread(Runnable task) {
        tasks.add(task);
        synchronized (lifecycle) {
            wakeLocked();
        }
    }

    /** For tests: makes the udev thread handle a failed receive as if libudev had returned NULL with this errno. */
    void simulateReceiveFailure(int errno) {
        runOnUdevThread(() -> handleReceiveFailure(errno));
    }

    // ---- the udev thread ---------------------------------------------------------------------------------------

    private void run(CompletableFuture<List<DeviceEvent>> ready) {
        List<DeviceEvent> initial;
        try {
            openMonitor();
            // Only now: anything that changes after this scan began is already queued on the monitor.
            initial = enumerate();
        } catch (Throwable e) {
            release();
            ready.completeExceptionally(e);
            return;
        }
        ready.complete(initial);
        try {
            deliver("onEnumerated", () -> listener.onEnumerated(initial));
            loop();
        } catch (IOException | RuntimeException e) {
            LOG.error("the udev monitor failed; no more device events will arrive", e);
        } finally {
            release();
        }
    }

    private void openMonitor() throws IOException {
        context = lib.udev_new();
        if (context == null) throw new IOException("udev_new failed: errno " + Native.getLastError());

        // Without udevd, libudev's "udev" group is silent (libudev even binds no group at all then), so the only
        // events there are the kernel's own.
        boolean udevd = Files.exists(udevControl);
        String group = forceKernelGroup || !udevd ? "kernel" : "udev";
        if (!udevd) {
            LOG.warn("no udevd runs ({} is absent, as in a container or early boot): listening to the kernel's "
                    + "uevents directly; they arrive before any udev rule ran and carry no udev database properties",
                    udevControl);
        }
        monitor = lib.udev_monitor_new_from_netlink(context, group);
        if (monitor == null) {
            throw new IOException("udev_monitor_new_from_netlink(" + group + ") failed: errno " + Native.getLastError());
        }
        netlinkGroup = group;
        for (String s : subsystems) {
            // For the udev group this installs a socket filter in the kernel; for the kernel group libudev drops
            // the others in user space after reading them.
            check(lib.udev_monitor_filter_add_match_subsystem_devtype(monitor, s, null),
                    "udev_monitor_filter_add_match_subsystem_devtype(" + s + ")");
        }
        check(lib.udev_monitor_enable_receiving(monitor), "udev_monitor_enable_receiving");

        // libudev first tries SO_RCVBUF (capped at net.core.rmem_max), then SO_RCVBUFFORCE, which needs
        // CAP_NET_ADMIN. Refused, the daemon still works; it just overflows sooner in a burst and re-enumerates.
        int r = lib.udev_monitor_set_receive_buffer_size(monitor, requestedReceiveBuffer);
        monitorFd = lib.udev_monitor_get_fd(monitor);
        if (monitorFd < 0) throw new IOException("udev_monitor_get_fd failed: errno " + -monitorFd);
        effectiveReceiveBuffer = readReceiveBuffer(monitorFd);
        if (r < 0) {
            LOG.warn("could not set the udev monitor's receive buffer to {} bytes (errno {}; needs CAP_NET_ADMIN "
                    + "above net.core.rmem_max); continuing with {} bytes", requestedReceiveBuffer, -r,
                    effectiveReceiveBuffer);
        }
        LOG.info("listening for {} device events on netlink group \"{}\", SO_RCVBUF {} bytes", subsystems,
                group, effectiveReceiveBuffer);
    }

    private int readReceiveBuffer(int fd) {
        Memory value = new Memory(4);
        IntByReference length = new IntByReference(4);
        if (libc.getsockopt(fd, LibC.SOL_SOCKET, LibC.SO_RCVBUF, value, length) < 0) return -1;
        return value.getInt(0);
    }

    private void loop() throws IOException {
        int wake;
        synchronized (lifecycle) {
            wake = wakeFd;
        }
        Memory fds = new Memory(2L * LibC.POLLFD_SIZE);
        Memory drain = new Memory(8);
        while (!closing) {
            fds.setInt(0, monitorFd);
            fds.setShort(4, LibC.POLLIN);
            fds.setShort(6, (short) 0);
            fds.setInt(8, wake);
            fds.setShort(12, LibC.POLLIN);
            fds.setShort(14, (short) 0);
            int n = libc.poll(fds, new NativeLong(2), -1);
            if (n < 0) {
                int errno = Native.getLastError();
                if (errno == LibC.EINTR) continue;
                throw new IOException("poll failed: errno " + errno);
            }
            if (fds.getShort(14) != 0) {
                libc.read(wake, drain, new NativeLong(8));
                for (Runnable task; (task = tasks.poll()) != null; ) task.run();
            }
            if (closing) break;
            short revents = fds.getShort(6);
            if ((revents & LibC.POLLNVAL) != 0) throw new IOException("the monitor's socket is no longer open");
            // POLLERR is how an overflow shows: the socket has ENOBUFS pending, which the next read returns.
            if ((revents & (LibC.POLLIN | LibC.POLLERR | LibC.POLLHUP)) != 0) receiveAll();
        }
    }

    /** Reads until libudev says there is nothing more; edge cases end in {@link #handleReceiveFailure}. */
    private void receiveAll() {
        while (!closing) {
            Libudev.Device device = lib.udev_monitor_receive_device(monitor);
            if (device == null) {
                // Read before any other native call on this thread could overwrite it.
                handleReceiveFailure(Native.getLastError());
                return;
            }
            DeviceEvent event;
            try {
                event = snapshot(device, false);
            } finally {
                lib.udev_device_unref(device);
            }
            deliver("onEvent", () -> listener.onEvent(event));
        }
    }

    /**
     * What a NULL from udev_monitor_receive_device means. EAGAIN: the socket is drained (or libudev ignored a
     * message it does not trust); poll again. ENOBUFS: the kernel dropped events because the buffer was full, so
     * what the listener knows may be wrong in ways no later event will tell. Runs on the udev thread only.
     */
    void handleReceiveFailure(int errno) {
        if (Thread.currentThread() != thread()) throw new IllegalStateException("not on the udev thread");
        if (errno == LibC.EAGAIN || errno == LibC.EINTR) return;
        if (errno != LibC.ENOBUFS) {
            // A message libudev could not parse; it has been consumed, so the next poll moves on.
            LOG.debug("udev_monitor_receive_device failed: errno {}", errno);
            return;
        }
        long count = overflows.incrementAndGet();
        // What is still queued is older than the enumeration below; delivered after it, a consumer applying
        // events on top of the fresh snapshot would go back in time.
        int discarded = discardQueued();
        LOG.warn("the kernel dropped device events (ENOBUFS; overflow {}, SO_RCVBUF {} bytes); "
                + "discarded {} queued events and enumerating again", count, effectiveReceiveBuffer, discarded);
        deliver("onOverflow", listener::onOverflow);
        List<DeviceEvent> present;
        try {
            present = enumerate();
        } catch (IOException | RuntimeException e) {
            LOG.error("enumerating devices after the overflow failed; listeners re-read sysfs on onOverflow", e);
            return;
        }
        deliver("onEnumerated", () -> listener.onEnumerated(present));
    }

    private int discardQueued() {
        int discarded = 0;
        for (int i = 0; i < DISCARD_LIMIT; i++) {
            Libudev.Device device = lib.udev_monitor_receive_device(monitor);
            if (device == null) {
                // Another ENOBUFS or a bad message is covered by the enumeration that follows; only EAGAIN ends it.
                if (Native.getLastError() == LibC.EAGAIN) break;
                continue;
            }
            lib.udev_device_unref(device);
            discarded++;
        }
        return discarded;
    }

    private List<DeviceEvent> enumerate() throws IOException {
        Libudev.Enumerate enumerate = lib.udev_enumerate_new(context);
        if (enumerate == null) throw new IOException("udev_enumerate_new failed: errno " + Native.getLastError());
        try {
            for (String s : subsystems) {
                check(lib.udev_enumerate_add_match_subsystem(enumerate, s), "udev_enumerate_add_match_subsystem(" + s + ")");
            }
            check(lib.udev_enumerate_scan_devices(enumerate), "udev_enumerate_scan_devices");
            List<DeviceEvent> present = new ArrayList<>();
            for (Libudev.ListEntry e = lib.udev_enumerate_get_list_entry(enumerate); e != null;
                 e = lib.udev_list_entry_get_next(e)) {
                String syspath = lib.udev_list_entry_get_name(e);
                if (syspath == null) continue;
                Libudev.Device device = lib.udev_device_new_from_syspath(context, syspath);
                // Gone between the scan and now: its removal is queued on the monitor already.
                if (device == null) continue;
                try {
                    present.add(snapshot(device, true));
                } finally {
                    lib.udev_device_unref(device);
                }
            }
            return List.copyOf(present);
        } finally {
            lib.udev_enumerate_unref(enumerate);
        }
    }

    private DeviceEvent snapshot(Libudev.Device device, boolean enumerated) {
        DeviceEvent.Action action = enumerated ? DeviceEvent.Action.ADD
                : DeviceEvent.Action.of(lib.udev_device_get_action(device));
        Map<String, String> properties = new HashMap<>();
        for (Libudev.ListEntry e = lib.udev_device_get_properties_list_entry(device); e != null;
             e = lib.udev_list_entry_get_next(e)) {
            String name = lib.udev_list_entry_get_name(e);
            if (name == null) continue;
            String value = lib.udev_list_entry_get_value(e);
            properties.put(name, value == null ? "" : value);
        }
        return new DeviceEvent(action, orEmpty(lib.udev_device_get_subsystem(device)),
                orEmpty(lib.udev_device_get_sysname(device)),
                Optional.ofNullable(lib.udev_device_get_driver(device)), properties);
    }

    /** A listener that throws must not end the thread: later events would silently stop. */
    private void deliver(String what, Runnable call) {
        try {
            call.run();
        } catch (RuntimeException e) {
            LOG.error("device event listener failed in {}", what, e);
        }
    }

    private void release() {
        if (monitor != null) {
            // also closes the socket
            lib.udev_monitor_unref(monitor);
            monitor = null;
            monitorFd = -1;
        }
        if (context != null) {
            lib.udev_unref(context);
            context = null;
        }
        tasks.clear();
        synchronized (lifecycle) {
            if (wakeFd >= 0) {
                libc.close(wakeFd);
                wakeFd = -1;
            }
        }
    }

    // ---- helpers ---------------------------------------------------------------------------------------------

    private void wakeLocked() {
        if (wakeFd < 0) return;
        Memory one = new Memory(8);
        one.setLong(0, 1);
        libc.write(wakeFd, one, new NativeLong(8));
    }

    private static void joinQuietly(Thread t) {
        try {
            t.join(CLOSE_LIMIT.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void check(int result, String call) throws IOException {
        if (result < 0) throw new IOException(call + " failed: errno " + -result);
    }

    private static String orEmpty(String s) {
        return s == null ? "" : s;
    }
}
