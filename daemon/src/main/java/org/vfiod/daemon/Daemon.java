package org.vfiod.daemon;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.vfiod.daemon.sysfs.DeviceName;
import org.vfiod.daemon.sysfs.KernelBus;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import org.vfiod.daemon.sysfs.Device;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.freedesktop.dbus.exceptions.DBusException;
import org.vfiod.daemon.bus.BusLink;
import org.vfiod.daemon.bus.BusName;
import org.vfiod.daemon.bus.FatalErrors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.vfiod.daemon.aliases.AliasIndex;
import org.vfiod.daemon.aliases.AliasSourceException;
import org.vfiod.daemon.aliases.AliasSources;
import org.vfiod.daemon.access.Grants;
import org.vfiod.daemon.access.NssUsers;
import org.vfiod.daemon.access.PasswdFile;
import org.vfiod.daemon.access.PosixAclAccess;
import org.vfiod.daemon.access.Users;
import org.vfiod.daemon.access.VfioNodes;
import org.vfiod.daemon.auth.BusCredentials;
import org.vfiod.daemon.model.DeviceView;
import org.vfiod.daemon.auth.PolkitAuthorizer;
import java.util.Set;
import java.util.TreeSet;
import org.vfiod.daemon.aliases.AliasWatcher;
import org.vfiod.daemon.binding.DriverPolicy;
import org.vfiod.daemon.binding.EventDriverWaiter;
import org.vfiod.daemon.features.FeatureFileWriter;
import org.vfiod.daemon.model.DeviceEvents;
import org.vfiod.daemon.model.DeviceRegistry;
import org.vfiod.daemon.udev.DeviceEventSource;
import org.vfiod.daemon.udev.HardwareNames;
import org.vfiod.daemon.udev.HwdbFile;
import java.util.Optional;
import org.vfiod.daemon.state.Persistence;
import org.vfiod.daemon.state.RuleStore;
import org.vfiod.daemon.binding.JournalStore;
import org.vfiod.daemon.binding.RebindEngine;
import org.vfiod.daemon.binding.Reconciler;
import org.vfiod.daemon.operations.Operations;
import org.vfiod.daemon.bus.BusService;
import org.vfiod.daemon.sysfs.Sysfs;
import org.vfiod.daemon.usage.HostPaths;
import org.vfiod1.Manager;

/** Wires the daemon by hand: aliases, sysfs, engine, bus objects, polkit; then serves until stopped or disconnected. */
final class Daemon {
    /** Exit codes: systemd restarts on anything but 0. */
    static final int EXIT_OK = 0, EXIT_FAILURE = 1, EXIT_NAME_TAKEN = 3, EXIT_BUS_LOST = 4, EXIT_USAGE = 64;
    /** Root's own allowance of calls in flight, and twice the shared slots of dry runs and Users(); see CallLimits. */
    static final int MAX_SLOW_CALLS = 8;
    /** How long the feature file waits after a change for the rest of its burst (a group, VFs appearing together). */
    static final Duration FEATURES_SETTLE = Duration.ofMillis(300);

    private Daemon() {
    }

    /** Where start-up time goes, for the ready line: each phase's milliseconds since the previous mark. */
    private static final class Phases {
        private final StringBuilder text = new StringBuilder();
        private long last = System.nanoTime();

        void mark(String phase) {
            long now = System.nanoTime();
            if (text.length() > 0) text.append(", ");
            text.append(phase).append(' ').append((now - last) / 1_000_000).append(" ms");
            last = now;
        }

        @Override
        public String toString() {
            return text.toString();
        }
    }

    static int run(DaemonOptions o, Kernel kernel) {
        // an Error on any thread (the bus reader, the event worker, a slow call) ends vfiod, so that systemd restarts it
        FatalErrors.halting().installAsDefault();
        Phases phase = new Phases();
        // The bus connection (mostly dbus-java's class loading) is made while this thread reads the aliases and the
        // devices. It waits for logging to be set up: dbus-java's loggers made earlier would be slf4j's stand-ins,
        // whose calls slf4j records and replays, with a warning, once logging is ready.
        CountDownLatch logging = new CountDownLatch(1);
        CompletableFuture<BusLink> bus = CompletableFuture.supplyAsync(() -> {
            try {
                logging.await();
                return BusLink.connect(o.busAddress().get());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new CompletionException(e);
            } catch (IOException | DBusException e) {
                throw new CompletionException(e);
            }
        }, task -> {
            Thread t = new Thread(task, "start");
            t.setDaemon(true);
            t.start();
        });
        Logger log = LoggerFactory.getLogger(Daemon.class);
        logging.countDown();
        phase.mark("logging");
        try {
            return serve(o, kernel, phase, log, bus);
        } finally {
            // after an early exit (or the normal one, where it is closed already) the connection is closed
            bus.cancel(false);
            if (bus.isDone() && !bus.isCompletedExceptionally()) bus.join().close();
        }
    }

    private static int serve(DaemonOptions o, Kernel kernel, Phases phase, Logger log, CompletableFuture<BusLink> bus) {
        AliasSources sources = AliasSources.forModulesDir(o.modulesDir(), o.modprobeDirs());
        AtomicReference<AliasIndex> index = new AtomicReference<>();
        try {
            index.set(AliasIndex.load(sources));
        } catch (AliasSourceException e) {
            log.error("{}", e.getMessage());
            return EXIT_FAILURE;
        }
        phase.mark("aliases");
        AliasIndex first = index.get();
        if (first.malformedLines() > 0) log.warn("skipped {} malformed alias line(s); first: {}", first.malformedLines(), first.problems().get(0));
        log.info("{} vfio_ aliases from {}", first.size(), o.modulesDir());

        Sysfs sysfs;
        try {
            sysfs = new Sysfs(o.sysfsRoot(), kernel.writer());
        } catch (IOException e) {
            log.error("cannot use sysfs root {}: {}", o.sysfsRoot(), e.toString());
            return EXIT_FAILURE;
        }
        EventDriverWaiter waiter = new EventDriverWaiter(sysfs, Duration.ofMillis(100));
        RebindEngine engine = new RebindEngine(sysfs, index::get, kernel.modules(), waiter, new JournalStore(o.runtimeDir().resolve("journal")),
                kernel.hostUses().scanner(new HostPaths(sysfs.root(), o.procRoot(), o.devRoot())), o.driverPolicy());
        if (o.driverPolicy() != DriverPolicy.BEST_MATCH) log.info("driver policy {}: where no rule or caller says otherwise", o.driverPolicy());
        phase.mark("sysfs");
        // a move that a killed vfiod left half-done is finished before anything reads the devices or takes the name
        List<Reconciler.Outcome> reconciled = engine.reconcile();
        if (!reconciled.isEmpty()) phase.mark("reconcile");
        List<Device> devices;
        try {
            devices = sysfs.readAll();
        } catch (IOException e) {
            log.error("cannot list the devices under {}: {}", o.sysfsRoot(), e.toString());
            return EXIT_FAILURE;
        }
        phase.mark("devices");

        CountDownLatch stopped = new CountDownLatch(1);
        CountDownLatch cleanedUp = new CountDownLatch(1);
        AtomicInteger exit = new AtomicInteger(EXIT_OK);
        BusLink link;
        try {
            link = bus.join();
        } catch (CompletionException e) {
            log.error("cannot connect to the bus at {}: {}", o.busAddress().get(), e.getCause().getMessage());
            return EXIT_FAILURE;
        }
        ExecutorService authPool = daemonThreads("polkit-check");
        ExecutorService slowPool = daemonThreads("slow-call");
        phase.mark("waiting for the bus");
        // names come from the hwdb by modalias, which reads no sysfs: the same for a simulated tree
        HardwareNames names = HwdbFile.open();
        phase.mark("hwdb");
        RuleStore rules = new RuleStore(o.configDir());
        Map<DeviceName, String> recovered = new HashMap<>();
        for (Reconciler.Outcome r : reconciled) recovered.put(r.device(), r.text());
        VfioNodes vfioNodes = new VfioNodes(o.devRoot(), new PosixAclAccess());
        Grants grants = new Grants(sysfs, vfioNodes, engine::onVfioDriver);
        Users users = o.passwdFile().<Users>map(PasswdFile::new).orElseGet(NssUsers::new);
        DeviceRegistry registry = new DeviceRegistry(sysfs, index::get, engine::onVfioDriver, names, rules::covers,
                a -> recovered.getOrDefault(a, ""), (d, vfio) -> new DeviceView.Nodes(
                        vfioNodes.groupNode(d, vfio).map(Object::toString).orElse(""),
                        vfio ? vfioNodes.deviceNode(d).map(Object::toString).orElse("") : "",
                        vfioNodes.users(d, vfio)));
        Persistence persistence = new Persistence(rules, sysfs, engine, index::get, Optional.of(o.udevRulesDir()),
                registry::refreshWithGroup, (device, uid) -> {
                    String name = users.nameOf(uid).orElseThrow(() -> new IOException("no user has uid " + uid));
                    return String.join("; ", grants.grant(device, uid, name));
                });
        persistence.store().reload();
        BusName name = new BusName(link, Manager.BUS_NAME, () -> {
            // releasing the name at a clean stop sends NameLost too: only an unasked loss is an error
            if (stopped.getCount() > 0) {
                log.error("lost the name {} (replaced?); exiting", Manager.BUS_NAME);
                exit.compareAndSet(EXIT_OK, EXIT_NAME_TAKEN);
                stopped.countDown();
            }
        });
        Operations operations = new Operations(engine, new PolkitAuthorizer(link), new BusCredentials(link), authPool, registry,
                MAX_SLOW_CALLS, persistence, index, () -> {
                    try {
                        return AliasIndex.reload(sources);
                    } catch (AliasSourceException e) {
                        throw new UncheckedIOException(e);
                    }
                }, o.procRoot(), grants, users);
        BusService service = new BusService(link, registry, operations, index::get, sysfs, Options.kernelRelease(), slowPool, name);
        DeviceEvents events = new DeviceEvents(registry, waiter::deviceChanged, persistence::onAdded);
        DeviceEventSource source = kernel.events().open(sysfs.root()).orElse(null);
        Thread hook = new Thread(() -> {
            log.info("stopping: letting the operation in flight finish or roll back");
            try {
                if (!engine.drain(Duration.ofSeconds(60))) log.warn("an operation was still in flight after 60 s");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            stopped.countDown();
            // the JVM halts when the hooks return: wait until the name is released and the bus closed
            try {
                cleanedUp.await(10, java.util.concurrent.TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "shutdown");
        // installed before anything can move a device (coldplug) or a call can arrive (the name): a SIGTERM from then
        // on lets the operation in flight finish or roll back, instead of ending the JVM in the middle of it
        Runtime.getRuntime().addShutdownHook(hook);
        AliasWatcher aliasWatcher = null;
        Watchdog watchdog = null;
        FeatureFileWriter features = null;
        try {
            service.export(devices, () -> {
                exit.compareAndSet(EXIT_OK, EXIT_BUS_LOST);
                stopped.countDown();
            });
            phase.mark("export");
            // after the first devices are in the registry (it tells no listener of those), before coldplug moves any
            if (o.featuresFile().isPresent()) {
                features = new FeatureFileWriter(o.featuresFile().get(), registry::all, FEATURES_SETTLE);
                registry.listen(features);
                features.start();
                log.info("writing NFD node features to {}", o.featuresFile().get());
            }
            // persisted devices move before the name is taken: once systemd sees vfiod ready (and starts
            // libvirtd after it), they are on VFIO
            persistence.coldplug(devices);
            phase.mark("coldplug");
            if (name.request(o.replace()) instanceof BusName.NotOwned notOwned) {
                log.error("{}", notOwned.why());
                link.close();
                return notStarted(hook, cleanedUp, EXIT_NAME_TAKEN);
            }
            if (source != null) {
                Set<String> buses = new TreeSet<>(first.buses());
                for (KernelBus b : KernelBus.values()) buses.add(b.id());
                source.start(buses, events);
            } else {
                log.warn("no device events for {}: objects follow vfiod's own changes only", sysfs.root());
            }
            aliasWatcher = new AliasWatcher(sources, index, Duration.ofMillis(500), fresh -> service.aliasesChanged());
            phase.mark("name");
            log.info("vfiod ready on {} as {} ({} devices; {})", o.busAddress().get(), Manager.BUS_NAME, service.deviceCount(), phase);
            watchdog = watchdog(link, events, log);
        } catch (IOException e) {
            log.error("cannot start the bus service: {}", e.getMessage());
            link.close();
            return notStarted(hook, cleanedUp, EXIT_FAILURE);
        }

        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (watchdog != null) watchdog.close();
        if (features != null) features.close();
        if (source != null) source.close();
        events.close();
        persistence.close();
        names.close();
        try {
            if (aliasWatcher != null) aliasWatcher.close();
        } catch (IOException ignored) {
            // closing anyway
        }
        name.release();
        link.close();
        engine.close();
        slowPool.shutdownNow();
        authPool.shutdownNow();
        log.info("stopped");
        cleanedUp.countDown();
        return exit.get();
    }

    /** systemd's watchdog, fed while the bus reader and the device-event worker work; none if systemd asks for none. */
    private static Watchdog watchdog(BusLink link, DeviceEvents events, Logger log) {
        Optional<java.time.Duration> timeout = Watchdog.timeout(System.getenv(), ProcessHandle.current().pid());
        Optional<NotifySocket> socket = timeout.isPresent() ? NotifySocket.from(System.getenv()) : Optional.empty();
        if (socket.isEmpty()) return null;
        NotifySocket notify = socket.get();
        Watchdog w = new Watchdog(List.of(
                new Watchdog.Loop("the bus reader", link::answersWithin),
                new Watchdog.Loop("the device-event worker", limit -> {
                    try {
                        return events.awaitIdle(limit);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return false;
                    }
                })), () -> notify.send("WATCHDOG=1"), timeout.get());
        w.start();
        log.info("feeding systemd's watchdog ({} ms)", timeout.get().toMillis());
        return w;
    }

    /** An exit before serving: the shutdown hook has nothing to wait for. */
    private static int notStarted(Thread hook, CountDownLatch cleanedUp, int code) {
        cleanedUp.countDown();
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            // a SIGTERM came during the start: the hook runs and finds nothing to wait for
        }
        return code;
    }

    private static ExecutorService daemonThreads(String name) {
        return Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        });
    }
}
