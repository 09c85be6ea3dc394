package org.vfiod.daemon.binding;

import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.vfiod.daemon.aliases.AliasIndex;
import org.vfiod.daemon.aliases.AliasMatch;
import org.vfiod.daemon.sysfs.Device;
import org.vfiod.daemon.sysfs.DeviceName;
import org.vfiod.daemon.sysfs.DriverName;
import org.vfiod.daemon.sysfs.ModuleLoader;
import org.vfiod.daemon.sysfs.Sysfs;
import org.vfiod.daemon.usage.HostUseScanner;

/**
 * Moves devices to their vfio driver and back. It asks the {@link Planner} what to do, answers a dry run with the
 * plan, and otherwise, one operation per IOMMU group at a time, loads the modules the plan needs and hands the plan
 * to the {@link Executor}, which journals it on disk, so that a crash half-way is undone at the next start by the
 * {@link Reconciler}.
 */
public final class RebindEngine implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(RebindEngine.class);

    private final Sysfs sysfs;
    private final Supplier<AliasIndex> index;
    private final ModuleLoader modules;
    private final Planner planner;
    private final HostDrivers hostDrivers;
    private final KernelCalls calls = new KernelCalls();
    private final Executor executor;
    private final Reconciler reconciler;
    private final GroupGates gates = new GroupGates();
    private final ReentrantReadWriteLock running = new ReentrantReadWriteLock();
    /**
     * Operations run here, not on the caller's thread: a read of a device whose lock the kernel holds (driver_override
     * blocks while a remove() or probe() runs) would otherwise hold the caller past its timeout, and its reply with it.
     */
    private final ExecutorService operations = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "operation");
        t.setDaemon(true);
        return t;
    });
    private volatile boolean closing;

    public RebindEngine(Sysfs sysfs, Supplier<AliasIndex> index, ModuleLoader modules, DriverWaiter waiter, JournalStore journal,
                        HostUseScanner hostUses) {
        this(sysfs, index, modules, waiter, journal, hostUses, DriverPolicy.BEST_MATCH);
    }

    /** {@code defaultPolicy}: how the driver is chosen when neither the caller nor a rule names one or a policy. */
    public RebindEngine(Sysfs sysfs, Supplier<AliasIndex> index, ModuleLoader modules, DriverWaiter waiter, JournalStore journal,
                        HostUseScanner hostUses, DriverPolicy defaultPolicy) {
        this.sysfs = sysfs;
        this.index = index;
        this.modules = modules;
        this.planner = new Planner(sysfs, index, hostUses, defaultPolicy);
        this.hostDrivers = new HostDrivers(sysfs, index);
        ProbeWait probeWait = new ProbeWait(waiter);
        Rollback rollback = new Rollback(sysfs, calls, probeWait);
        this.executor = new Executor(sysfs, calls, probeWait, rollback, journal,
                d -> index.get().isVfioModule(d) || org.vfiod.daemon.sysfs.KernelBus.isFallbackDriver(d),
                hostDrivers);
        this.reconciler = new Reconciler(sysfs, journal, rollback, calls);
    }

    /** Finishes what a killed vfiod left in the journal; to be run before the bus name is taken. */
    public List<Reconciler.Outcome> reconcile() {
        return reconciler.reconcile();
    }

    /** The vfio module the aliases choose for a device, if any. */
    public Optional<AliasMatch> vfioModuleFor(Device device) {
        return index.get().resolve(device.modalias());
    }

    /** Whether the kernel has this device (a rule is only written for a device that exists). */
    public boolean isKnownDevice(DeviceName device) {
        try {
            return sysfs.exists(device);
        } catch (IOException e) {
            return false;
        }
    }

    /** Who uses the device and its group's other endpoints, one line each (empty when nothing does). */
    public List<String> users(DeviceName device) throws BindingException {
        return planner.users(device);
    }

    /** How the driver is chosen when neither the caller nor a rule says (the boot rules choose the same way). */
    public DriverPolicy defaultPolicy() {
        return planner.defaultPolicy();
    }

    /** Whether the device sits on a vfio driver now. */
    public boolean onVfioDriver(Device device) {
        return planner.onVfioDriver(device);
    }

    public BindResult rebind(DeviceName device, BindOptions options) throws BindingException {
        return rebind(device, options, Phases.NONE);
    }

    public BindResult restore(DeviceName device, BindOptions options) throws BindingException {
        return restore(device, options, Phases.NONE);
    }

    /** A Rebind whose phases are timed into {@code phases}. */
    public BindResult rebind(DeviceName device, BindOptions options, Phases phases) throws BindingException {
        return start(device, options, Direction.TO_VFIO, phases, GoAhead.ALREADY).result();
    }

    /** A Restore whose phases are timed into {@code phases}. */
    public BindResult restore(DeviceName device, BindOptions options, Phases phases) throws BindingException {
        return start(device, options, Direction.TO_HOST, phases, GoAhead.ALREADY).result();
    }

    /**
     * Starts a Rebind before its caller is authorized: it plans and checks who uses the devices (the part that takes
     * time) while the caller asks polkit, and waits for {@code goAhead} before it loads or writes anything, and
     * before it enters the group's gate, so that a caller who is never authorized holds up no one.
     */
    public Pending startRebind(DeviceName device, BindOptions options, Phases phases, GoAhead goAhead) throws BindingException {
        return start(device, options, Direction.TO_VFIO, phases, goAhead);
    }

    /** Starts a Restore before its caller is authorized, as {@link #startRebind} does. */
    public Pending startRestore(DeviceName device, BindOptions options, Phases phases, GoAhead goAhead) throws BindingException {
        return start(device, options, Direction.TO_HOST, phases, goAhead);
    }

    /** A move in flight; {@link #result} waits for it. */
    public final class Pending {
        private final CompletableFuture<BindResult> result;
        private final Duration timeout;

        private Pending(CompletableFuture<BindResult> result, Duration timeout) {
            this.result = result;
            this.timeout = timeout;
        }

        /** Waits at most the caller's timeout plus {@link #REPLY_MARGIN} from now (see {@link #submit}). */
        public BindResult result() throws BindingException {
            return awaitResult(result, timeout);
        }

        /** Waits, at most as {@link #result} would, until the move has ended, whatever its outcome. */
        public void awaitEnd() {
            try {
                result.get(timeout.plus(REPLY_MARGIN).toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (ExecutionException | TimeoutException ignored) {
                // its outcome is nobody's: only its end was waited for
            }
        }
    }

    private Pending start(DeviceName device, BindOptions options, Direction direction, Phases phases, GoAhead goAhead)
            throws BindingException {
        return new Pending(submit(() -> move(device, options, direction, phases, goAhead), phases), options.timeout());
    }

    /**
     * How old a host-use check made beside the polkit check may be when the move enters its group's gate and finds
     * the same plan: younger, it stands; older (polkit asked the caller for a password), it is made again.
     */
    static final Duration USERS_CHECK_KEPT = Duration.ofSeconds(1);

    private BindResult move(DeviceName device, BindOptions options, Direction direction, Phases phases, GoAhead goAhead)
            throws BindingException {
        Instant deadline = Instant.now().plus(options.timeout());
        // before any read that the kernel's device lock would hold up: a group whose write hangs answers Busy now
        String key = planner.groupKeyWithoutLock(device);
        gates.refuseIfHung(key);
        // a dry run's plan is its answer, made at once; so is the plan made beside the polkit check, users included,
        // which the move keeps under the group's gate if nothing changed meanwhile. Otherwise the move is planned
        // once, under the gate: the devices cannot change there but by the kernel's own doing
        boolean beside = goAhead != GoAhead.ALREADY;
        Planner.Decision early = null;
        long checkedAt = 0;
        if (options.dryRun() || beside) {
            early = decide(device, options, direction, Planner.UsersCheck.NOW, phases);
            checkedAt = System.nanoTime();
            phases.lap("plan");
            if (early instanceof Planner.Decision.Unchanged u) return new BindResult.Unchanged(u.driver());
            Plan plan = ((Planner.Decision.Move) early).plan();
            if (options.dryRun()) {
                Map<DeviceName, String> targets = new LinkedHashMap<>();
                for (PlannedDevice d : plan.devices()) targets.put(d.name(), predicted(plan, d));
                String driver = targets.getOrDefault(plan.requested(), predicted(plan, plan.devices().get(0)));
                return new BindResult.Planned(driver, plan.describe(), targets, ((Planner.Decision.Move) early).users());
            }
            key = plan.groupKey();
            goAhead.await();
            phases.lap("waiting for polkit");
            // the caller waits its timeout from its go-ahead on: so does the move
            Instant fromNow = Instant.now().plus(options.timeout());
            if (fromNow.isAfter(deadline)) deadline = fromNow;
        }

        GroupGates.Gate gate = gates.enter(key, deadline);
        phases.lap("group gate");
        try {
            Planner.Decision decision;
            if (early == null) {
                decision = decide(device, options, direction, Planner.UsersCheck.NOW, phases);
                phases.lap("plan");
                if (decision instanceof Planner.Decision.Unchanged u) return new BindResult.Unchanged(u.driver());
                if (!((Planner.Decision.Move) decision).plan().groupKey().equals(key)) {
                    throw new BindingException.Busy(device + " changed its IOMMU group while vfiod planned its move; nothing was changed");
                }
            } else {
                decision = early;
            }
            Plan plan = ((Planner.Decision.Move) decision).plan();
            boolean planned = early == null;
            if (!plan.modulesToLoad().isEmpty()) {
                load(plan, gate, deadline, options.timeout());
                // a load that returned at its deadline leaves no time for any write: moving the devices now would
                // only start what nobody waits for
                if (Instant.now().isAfter(deadline)) {
                    throw new BindingException.Timeout("loading " + plan.modulesToLoad().stream().map(DriverName::value)
                            .collect(java.util.stream.Collectors.joining(", ")) + " took longer than " + options.timeout().toMillis()
                            + " ms; the module is loaded now, and nothing was changed");
                }
                phases.lap("module load");
                // the drivers are known now: decide again on what is there
                planned = false;
            }
            if (!planned) {
                // the devices may have changed while the move waited (for polkit, the group or the module)
                boolean keep = early != null && plan.modulesToLoad().isEmpty()
                        && System.nanoTime() - checkedAt < USERS_CHECK_KEPT.toNanos();
                decision = decide(device, options, direction, keep ? Planner.UsersCheck.BEFORE_ANY_CHANGE : Planner.UsersCheck.NOW, phases);
                if (keep && decision instanceof Planner.Decision.Move m && !m.plan().equals(plan)) {
                    // they did: who uses them is asked again, for what is there now
                    decision = decide(device, options, direction, Planner.UsersCheck.NOW, phases);
                } else if (keep && decision instanceof Planner.Decision.Move) {
                    decision = early;
                }
                phases.lap("plan");
            }
            if (decision instanceof Planner.Decision.Unchanged u) return new BindResult.Unchanged(u.driver());
            Plan fresh = ((Planner.Decision.Move) decision).plan();
            List<String> users = ((Planner.Decision.Move) decision).users();
            if (!fresh.modulesToLoad().isEmpty()) {
                DriverName m = fresh.modulesToLoad().iterator().next();
                throw Planner.noDriverRegistered(device, m);
            }
            return executor.run(fresh, gate, deadline, options.timeout(), phases).withUsers(users);
        } finally {
            gate.release();
        }
    }

    private Planner.Decision decide(DeviceName device, BindOptions options, Direction direction, Planner.UsersCheck users,
                                    Phases phases) throws BindingException {
        return direction == Direction.TO_VFIO ? planner.rebind(device, options, users, phases) : planner.restore(device, options, users, phases);
    }

    /**
     * Loads the plan's modules, each with what is left of the caller's time, as a write is made: a module whose init
     * hangs in the kernel (modprobe cannot even be killed then) costs the caller a Timeout, and its group stays shut
     * until the load returns, so that no second modprobe of it is started meanwhile. Nothing is written to a device.
     */
    private void load(Plan plan, GroupGates.Gate gate, Instant deadline, Duration budget) throws BindingException {
        for (DriverName module : plan.modulesToLoad()) {
            try {
                if (!sysfs.moduleLoaded(module)) {
                    LOG.info("loading module {}", module);
                    calls.run("load module " + module, GroupGates.remaining(deadline), () -> modules.load(module));
                }
            } catch (KernelCalls.Hung hung) {
                LOG.error("loading module {} is hanging (modprobe has not returned); {} stays blocked until it does", module, gate.name());
                CompletableFuture<Void> reopened = gate.wedge(hung.what, hung.write,
                        () -> LOG.warn("the hung load of module {} returned on {}", module, gate.name()));
                throw new BindingException.Timeout("loading module " + module + " did not finish within " + budget.toMillis()
                        + " ms; nothing was changed, and vfiod will start nothing else on " + gate.name() + " until the load returns",
                        reopened);
            } catch (IOException e) {
                throw new BindingException.Failed("load module " + module + " failed: " + describe(e) + "; nothing was changed");
            }
        }
    }

    /**
     * The driver a dry run says the device would end on, as the move would answer it: a Rebind's vfio driver (its
     * module's name while that is not loaded); a Restore's host driver, when the kernel's probe is bound to pick it
     * (see {@link #hostDriver}), else "" (the kernel's choice); a Restore that only clears an override, the driver
     * it stays on.
     */
    private String predicted(Plan plan, PlannedDevice d) {
        boolean toHost = d.target() instanceof Target.Host || (d.target() instanceof Target.Follows && plan.direction() == Direction.TO_HOST);
        if (toHost && (d.priorIsVfio() || d.prior().driver().isEmpty())) return hostDriver(d.name()).orElse("");
        return plannedDriver(plan, d);
    }

    /**
     * The host driver drivers_probe would bind: the one loaded driver whose module has an alias matching the device
     * (what lspci -k lists as its kernel modules; drivers_probe loads none). Several loaded, or none: not known.
     */
    private Optional<String> hostDriver(DeviceName device) {
        try {
            java.util.Set<String> drivers = new java.util.TreeSet<>();
            for (HostDrivers.Candidate c : hostDrivers.of(device)) c.driver().ifPresent(drivers::add);
            return drivers.size() == 1 ? Optional.of(drivers.iterator().next()) : Optional.empty();
        } catch (IOException e) {
            LOG.debug("cannot tell the host driver of {}: {}", device, e.toString());
            return Optional.empty();
        }
    }

    private static String plannedDriver(Plan plan, PlannedDevice first) {
        Target t = first.target();
        if (t instanceof Target.Driver d) return d.name().value();
        if (t instanceof Target.Module m) return m.module().value();
        if (t instanceof Target.Follows f && plan.direction() == Direction.TO_VFIO) {
            // where its container goes
            return plan.devices().stream().filter(c -> c.name().equals(f.container()) && !(c.target() instanceof Target.Follows))
                    .findFirst().map(c -> plannedDriver(plan, c)).orElse("");
        }
        return first.prior().driver().orElse("");
    }

    // ---- operations in flight -----------------------------------------------------------------------------------

    @FunctionalInterface
    private interface Operation {
        BindResult run() throws BindingException;
    }

    /** Past the caller's timeout, how long the caller waits for an operation that is still reading or writing. */
    static final Duration REPLY_MARGIN = Duration.ofSeconds(1);

    /**
     * Starts an operation as one in flight: refused once shutting down, and waited for by {@link #drain}. The caller
     * waits at most its timeout plus {@link #REPLY_MARGIN} ({@link #awaitResult}); an operation still stuck in the kernel then goes on by
     * itself, holding its group, and finishes or rolls back when the kernel returns.
     */
    private CompletableFuture<BindResult> submit(Operation operation, Phases phases) throws BindingException {
        if (closing) throw new BindingException.Busy("vfiod is shutting down");
        CompletableFuture<BindResult> result = new CompletableFuture<>();
        try {
            operations.execute(() -> {
                if (!running.readLock().tryLock()) {
                    result.completeExceptionally(new BindingException.Busy("vfiod is shutting down"));
                    return;
                }
                try {
                    phases.lap("to the operation thread");
                    if (closing) throw new BindingException.Busy("vfiod is shutting down");
                    result.complete(operation.run());
                } catch (BindingException | RuntimeException | Error e) {
                    result.completeExceptionally(e);
                } finally {
                    running.readLock().unlock();
                }
            });
        } catch (RejectedExecutionException stopping) {
            throw new BindingException.Busy("vfiod is shutting down");
        }
        return result;
    }

    private static BindResult awaitResult(CompletableFuture<BindResult> result, Duration timeout) throws BindingException {
        try {
            return result.get(timeout.plus(REPLY_MARGIN).toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            result.whenComplete((r, failure) -> LOG.warn("an operation whose caller got Timeout ended: {}",
                    failure == null ? r : failure.getMessage()));
            throw new BindingException.Timeout("the kernel did not answer within " + timeout.toMillis() + " ms (a device "
                    + "it is still working on blocks every read and write of it); vfiod goes on in the background and "
                    + "finishes or rolls back once the kernel returns", settled(result));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new BindingException.Busy("interrupted while waiting for the operation");
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof BindingException b) throw b;
            if (cause instanceof RuntimeException r) throw r;
            if (cause instanceof Error err) throw err;
            throw new IllegalStateException(cause);
        }
    }

    /**
     * When an operation the caller stopped waiting for is done with its devices: when it ends, or, if it ends in a
     * Timeout of its own (a write it left hanging), when that one settles.
     */
    private static CompletableFuture<Void> settled(CompletableFuture<BindResult> operation) {
        return operation.handle((r, failure) -> failure).thenCompose(failure -> {
            Throwable cause = failure instanceof java.util.concurrent.CompletionException c ? c.getCause() : failure;
            if (cause instanceof BindingException.Timeout t) return t.settled().toCompletableFuture();
            return CompletableFuture.completedFuture(null);
        });
    }

    /**
     * Refuses new operations and waits until those in flight have finished or rolled back. True when none is left.
     */
    public boolean drain(Duration wait) throws InterruptedException {
        closing = true;
        if (running.writeLock().tryLock(wait.toMillis(), TimeUnit.MILLISECONDS)) {
            running.writeLock().unlock();
            return true;
        }
        return false;
    }

    @Override
    public void close() {
        closing = true;
        operations.shutdownNow();
        calls.close();
    }

    static String describe(IOException e) {
        if (e instanceof NoSuchFileException) return "the device or attribute is gone (" + e.getMessage() + ")";
        String m = e.getMessage();
        return m == null || m.isBlank() ? e.getClass().getSimpleName() : m;
    }
}
