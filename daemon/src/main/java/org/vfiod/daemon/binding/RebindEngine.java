package org.vfiod.daemon.binding;

import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.vfiod.daemon.aliases.AliasIndex;
import org.vfiod.daemon.aliases.AliasMatch;
import org.vfiod.daemon.sysfs.CallerText;
import org.vfiod.daemon.sysfs.DriverName;
import org.vfiod.daemon.sysfs.ModuleLoader;
import org.vfiod.daemon.sysfs.PciAddress;
import org.vfiod.daemon.sysfs.PciDevice;
import org.vfiod.daemon.sysfs.Sysfs;

/**
 * Moves devices to their vfio driver and back: override, unbind, probe, verify; and on any failure after the
 * first write, puts every touched device back as it was. Kernel writes run on worker threads with a deadline,
 * so a remove() that never returns costs the caller a Timeout, not the engine a thread it waits on forever.
 */
public final class RebindEngine implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(RebindEngine.class);
    /** How long a device may stay driverless after drivers_probe before we call the probe failed (async probing). */
    private static final Duration PROBE_SETTLE = Duration.ofSeconds(2);

    private final Sysfs sysfs;
    private final Supplier<AliasIndex> index;
    private final ModuleLoader modules;
    private final DriverWaiter waiter;
    private final GroupGates gates = new GroupGates();
    private final ExecutorService writers;
    private final ReentrantReadWriteLock running = new ReentrantReadWriteLock();
    private volatile boolean closing;

    public RebindEngine(Sysfs sysfs, Supplier<AliasIndex> index, ModuleLoader modules, DriverWaiter waiter) {
        this.sysfs = sysfs;
        this.index = index;
        this.modules = modules;
        this.waiter = waiter;
        this.writers = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "kernel-write");
            t.setDaemon(true);
            return t;
        });
    }

    /** The vfio module the aliases choose for a device, if any. */
    public Optional<AliasMatch> vfioModuleFor(PciDevice device) {
        return index.get().resolve(device.modalias());
    }

    /** Whether the kernel has this device (a rule is only written for a device that exists). */
    public boolean isKnownDevice(PciAddress address) {
        try {
            return sysfs.exists(address);
        } catch (IOException e) {
            return false;
        }
    }

    /** Whether the device sits on a vfio driver now. */
    public boolean onVfioDriver(PciDevice device) {
        return device.vfioDev() || device.driver().map(index.get()::isVfioModule).orElse(false);
    }

    // ---- Rebind ---------------------------------------------------------------------------------------------

    public BindResult rebind(PciAddress address, BindOptions options) throws BindingException {
        return whileRunning(() -> rebindEntered(address, options));
    }

    @FunctionalInterface
    private interface Operation {
        BindResult run() throws BindingException;
    }

    /** Runs an operation as one in flight: refused once shutting down, and waited for by {@link #drain}. */
    private BindResult whileRunning(Operation operation) throws BindingException {
        enter();
        try {
            return operation.run();
        } finally {
            running.readLock().unlock();
        }
    }

    private BindResult rebindEntered(PciAddress address, BindOptions options) throws BindingException {
        Instant deadline = Instant.now().plus(options.timeout());
        PciDevice device = readOrFail(address);
        AliasIndex aliases = index.get();
        DriverName module = chooseModule(device, options.driver(), aliases);

        List<PciDevice> others = groupEndpoints(device);
        if (!options.group()) {
            List<PciDevice> blockers = others.stream().filter(d -> d.driver().isPresent() && !onVfioDriver(d)).toList();
            if (!blockers.isEmpty()) {
                throw new BindingException.GroupNotViable(address + " shares IOMMU group "
                        + device.iommuGroup().getAsInt() + " with " + describe(blockers)
                        + "; a VM can only use the whole group: pass group to move them together");
            }
        }
        Map<PciDevice, DriverName> plan = new LinkedHashMap<>();
        plan.put(device, module);
        if (options.group()) {
            for (PciDevice other : others) {
                DriverName m = aliases.resolve(other.modalias()).map(a -> new DriverName(a.module()))
                        .orElseThrow(() -> new BindingException.NoVfioDriver("no vfio driver matches " + other.address()
                                + " (" + other.modalias() + "), which shares IOMMU group " + device.iommuGroup().getAsInt()
                                + " with " + address));
                plan.put(other, m);
            }
        }
        if (!options.force()) {
            for (PciDevice d : plan.keySet()) {
                if (d.bootVga()) {
                    throw new BindingException.Failed(d.address() + " is the boot VGA device: the console and "
                            + "firmware framebuffer may still use it; pass force to take it anyway");
                }
            }
        }
        if (plan.entrySet().stream().allMatch(e -> alreadyOn(e.getKey(), e.getValue()))) {
            return new BindResult.Unchanged(device.driver().orElse(""));
        }
        if (options.dryRun()) {
            List<String> steps = new ArrayList<>();
            for (Map.Entry<PciDevice, DriverName> e : plan.entrySet()) steps.addAll(rebindSteps(e.getKey(), e.getValue(), aliases));
            return new BindResult.Planned(plannedDriver(module).startsWith("the ") ? module.value() : plannedDriver(module), steps);
        }

        GroupGates.Gate gate = gates.enter(groupKey(device), deadline);
        try {
            return moveToVfio(address, plan, gate, deadline, options.timeout(), aliases);
        } finally {
            gate.release();
        }
    }

    private BindResult moveToVfio(PciAddress address, Map<PciDevice, DriverName> plan, GroupGates.Gate gate,
                                  Instant deadline, Duration budget, AliasIndex aliases) throws BindingException {
        // the device may have changed while we waited for the group; decide on what is there now
        Map<PciDevice, DriverName> fresh = new LinkedHashMap<>();
        for (Map.Entry<PciDevice, DriverName> e : plan.entrySet()) fresh.put(readOrFail(e.getKey().address()), e.getValue());

        Map<DriverName, DriverName> drivers = new LinkedHashMap<>();
        for (DriverName module : new LinkedHashSet<>(fresh.values())) drivers.put(module, loadAndResolve(module, aliases, gate, deadline));

        Journal journal = new Journal(gate, budget);
        List<String> done = new ArrayList<>();
        if (fresh.keySet().stream().anyMatch(PciDevice::bootVga)) {
            // forced past the boot VGA check: the firmware framebuffer and fbcon still scan out of this GPU, and the
            // host driver's remove would wait for them; let go of them first (and take them back on rollback)
            try {
                for (Sysfs.Framebuffer fb : sysfs.bootFramebuffers()) {
                    journal.releaseFramebuffer(fb, deadline);
                    done.add("released " + fb.name());
                }
            } catch (IOException readFailed) {
                throw journal.rollBack(new StepFailed("release the boot framebuffer", describe(readFailed)));
            } catch (StepFailed failure) {
                throw journal.rollBack(failure);
            }
        }
        for (Map.Entry<PciDevice, DriverName> e : fresh.entrySet()) {
            PciDevice d = e.getKey();
            DriverName target = drivers.get(e.getValue());
            if (d.driver().filter(target.value()::equals).isPresent()) continue;
            journal.begin(d);
            try {
                journal.step(d, "set driver_override of " + d.address() + " to " + target, deadline,
                        () -> sysfs.writeDriverOverride(d.address(), Optional.of(target)));
                if (d.driver().isPresent()) {
                    DriverName from = new DriverName(d.driver().get());
                    journal.step(d, "unbind " + d.address() + " from " + from, deadline, () -> sysfs.unbind(d.address(), from));
                }
                journal.step(d, "probe " + d.address(), deadline, () -> sysfs.probe(d.address()));
                Optional<String> now = awaitDriver(d.address(), target.value(), deadline);
                if (!now.filter(target.value()::equals).isPresent()) {
                    throw new StepFailed("bind " + d.address() + " to " + target, now.isEmpty()
                            ? target + " did not bind it (its probe failed; see the kernel log)"
                            : now.get() + " bound it instead");
                }
                done.add(d.address() + " -> " + target);
                LOG.info("{} moved from {} to {}", d.address(), d.driver().orElse("no driver"), target);
            } catch (StepFailed failure) {
                throw journal.rollBack(failure);
            } catch (IOException readFailed) {
                throw journal.rollBack(new StepFailed("bind " + d.address() + " to " + target, describe(readFailed)));
            }
        }
        return new BindResult.Moved(drivers.get(fresh.values().iterator().next()).value(),
                fresh.keySet().stream().map(PciDevice::address).toList(), done);
    }

    // ---- Restore --------------------------------------------------------------------------------------------

    public BindResult restore(PciAddress address, BindOptions options) throws BindingException {
        return whileRunning(() -> restoreEntered(address, options));
    }

    private BindResult restoreEntered(PciAddress address, BindOptions options) throws BindingException {
        Instant deadline = Instant.now().plus(options.timeout());
        PciDevice device = readOrFail(address);
        List<PciDevice> targets = new ArrayList<>();
        targets.add(device);
        if (options.group()) targets.addAll(groupEndpoints(device));
        List<PciDevice> work = targets.stream().filter(d -> d.driverOverride().isPresent() || onVfioDriver(d)).toList();
        if (work.isEmpty()) return new BindResult.Unchanged(device.driver().orElse(""));
        if (options.dryRun()) {
            List<String> steps = new ArrayList<>();
            for (PciDevice d : work) {
                steps.add("clear driver_override of " + d.address());
                d.driver().ifPresent(drv -> steps.add("unbind " + d.address() + " from " + drv));
                steps.add("probe " + d.address() + " (the kernel picks the host driver)");
            }
            return new BindResult.Planned(device.driver().orElse(""), steps);
        }
        GroupGates.Gate gate = gates.enter(groupKey(device), deadline);
        try {
            return moveToHost(address, work, gate, deadline, options.timeout());
        } finally {
            gate.release();
        }
    }

    private BindResult moveToHost(PciAddress address, List<PciDevice> work, GroupGates.Gate gate, Instant deadline,
                                  Duration budget) throws BindingException {
        Journal journal = new Journal(gate, budget);
        List<String> done = new ArrayList<>();
        String primaryDriver = "";
        for (PciDevice stale : work) {
            PciDevice d = readOrFail(stale.address());
            journal.begin(d);
            try {
                journal.step(d, "clear driver_override of " + d.address(), deadline,
                        () -> sysfs.writeDriverOverride(d.address(), Optional.empty()));
                if (d.driver().isPresent() && onVfioDriver(d)) {
                    DriverName from = new DriverName(d.driver().get());
                    journal.step(d, "unbind " + d.address() + " from " + from, deadline, () -> sysfs.unbind(d.address(), from));
                }
                if (sysfs.currentDriver(d.address()).isEmpty()) {
                    journal.step(d, "probe " + d.address(), deadline, () -> sysfs.probe(d.address()));
                }
                Optional<String> now = awaitDriver(d.address(), null, deadline);
                if (now.isPresent() && index.get().isVfioModule(now.get())) {
                    throw new StepFailed("probe " + d.address(), now.get() + " bound it again; is a vfio driver listed in modprobe.d or a udev rule?");
                }
                if (now.isEmpty()) {
                    LOG.warn("{} has no driver now: no host driver matches it (that is the kernel's choice, not an error)", d.address());
                    done.add(d.address() + " -> no driver (none matches)");
                } else {
                    LOG.info("{} is back on {}", d.address(), now.get());
                    done.add(d.address() + " -> " + now.get());
                }
                if (d.address().equals(address)) primaryDriver = now.orElse("");
            } catch (StepFailed failure) {
                throw journal.rollBack(failure);
            } catch (IOException e) {
                throw journal.rollBack(new StepFailed("read " + d.address(), describe(e)));
            }
        }
        return new BindResult.Moved(primaryDriver, work.stream().map(PciDevice::address).toList(), done);
    }

    // ---- the journal: what was written, and how to take it back --------------------------------------------

    @FunctionalInterface
    private interface KernelCall {
        void run() throws IOException;
    }

    /** A step that failed; not a BindingException yet, because the rollback decides the final message. */
    private static final class StepFailed extends Exception {
        private static final long serialVersionUID = 1L;
        final String step;
        final String why;

        StepFailed(String step, String why) {
            super(step + ": " + why, null, false, false);
            this.step = step;
            this.why = why;
        }
    }

    private final class Journal {
        private final GroupGates.Gate gate;
        private final Duration budget;
        private final List<PciDevice> touched = new ArrayList<>();
        private final List<PciDevice> begun = new ArrayList<>();

        Journal(GroupGates.Gate gate, Duration budget) {
            this.gate = gate;
            this.budget = budget;
        }

        private final List<Sysfs.Framebuffer> released = new ArrayList<>();

        void begin(PciDevice before) {
            begun.add(before);
        }

        void releaseFramebuffer(Sysfs.Framebuffer fb, Instant deadline) throws StepFailed, BindingException {
            String what = "release framebuffer " + fb.name();
            try {
                timed(what, GroupGates.remaining(deadline), () -> sysfs.writeFramebuffer(fb, false));
                released.add(fb);
                LOG.info("released {} from the boot GPU", fb.name());
            } catch (TimeoutException e) {
                throw new BindingException.Timeout(what + " did not return within " + budget.toMillis() + " ms");
            } catch (IOException e) {
                throw new StepFailed(what, describe(e));
            }
        }

        void step(PciDevice before, String what, Instant deadline, KernelCall call) throws StepFailed, BindingException {
            if (!touched.contains(before)) touched.add(before);
            try {
                timed(what, GroupGates.remaining(deadline), call);
            } catch (TimeoutException e) {
                throw new BindingException.Timeout(what + " did not return within " + budget.toMillis()
                        + " ms; the kernel is still working on it, and vfiod will start nothing else on " + gate.name()
                        + " until it returns" + movedNote(before));
            } catch (IOException e) {
                throw new StepFailed(what, describe(e));
            }
        }

        private void timed(String what, Duration limit, KernelCall call) throws IOException, TimeoutException {
            CompletableFuture<Void> write = CompletableFuture.runAsync(() -> {
                try {
                    call.run();
                } catch (IOException e) {
                    throw new java.util.concurrent.CompletionException(e);
                }
            }, writers);
            try {
                write.get(Math.max(1, limit.toMillis()), TimeUnit.MILLISECONDS);
            } catch (TimeoutException e) {
                gate.wedge(what, write);
                LOG.error("{} is hanging in the kernel; {} stays blocked until it returns", what, gate.name());
                throw e;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted");
            } catch (ExecutionException e) {
                Throwable cause = e.getCause() instanceof java.util.concurrent.CompletionException c ? c.getCause() : e.getCause();
                if (cause instanceof IOException io) throw io;
                throw new IOException(cause);
            }
        }

        private String movedNote(PciDevice current) {
            List<String> moved = touched.stream().filter(d -> !d.equals(current)).map(d -> d.address().toString()).toList();
            return moved.isEmpty() ? "" : "; already moved: " + String.join(", ", moved);
        }

        /** Puts every touched device back as it was (last first), and says so in the error. */
        BindingException rollBack(StepFailed failure) {
            List<String> rollbackErrors = new ArrayList<>();
            List<PciDevice> order = new ArrayList<>(touched);
            java.util.Collections.reverse(order);
            // a rollback gets a fresh budget: leaving a device driverless is worse than being late
            Instant deadline = Instant.now().plus(budget);
            for (PciDevice before : order) {
                try {
                    restorePrior(before, deadline);
                } catch (TimeoutException e) {
                    rollbackErrors.add("putting " + before.address() + " back hung in the kernel");
                    break;
                } catch (IOException | StepFailed e) {
                    rollbackErrors.add("putting " + before.address() + " back failed: "
                            + (e instanceof StepFailed s ? s.getMessage() : describe((IOException) e)));
                }
            }
            for (Sysfs.Framebuffer fb : released) {
                try {
                    timed("re-attach " + fb.name(), GroupGates.remaining(deadline), () -> sysfs.writeFramebuffer(fb, true));
                } catch (IOException | TimeoutException e) {
                    rollbackErrors.add("re-attaching " + fb.name() + " failed: " + e.getMessage());
                }
            }
            String head = failure.step + " failed: " + failure.why;
            if (rollbackErrors.isEmpty()) {
                String back = order.stream().map(d -> d.address() + " on " + d.driver().orElse("no driver"))
                        .collect(Collectors.joining(", "));
                LOG.warn("{}; rolled back ({})", head, back);
                return new BindingException.Failed(head + "; rolled back: " + (back.isEmpty() ? "nothing was changed" : back));
            }
            LOG.error("{}; rollback failed too: {}", head, String.join("; ", rollbackErrors));
            return new BindingException.Failed(head + "; rollback failed too: " + String.join("; ", rollbackErrors));
        }

        private void restorePrior(PciDevice before, Instant deadline) throws IOException, TimeoutException, StepFailed {
            PciAddress a = before.address();
            if (!sysfs.exists(a)) throw new StepFailed("find " + a, "the device is no longer present");
            Optional<String> now = sysfs.currentDriver(a);
            if (now.isPresent() && !now.equals(before.driver())) {
                DriverName from = new DriverName(now.get());
                timed("unbind " + a + " from " + from, GroupGates.remaining(deadline), () -> sysfs.unbind(a, from));
            }
            Optional<DriverName> override = before.driverOverride().map(DriverName::new);
            timed("restore driver_override of " + a, GroupGates.remaining(deadline), () -> sysfs.writeDriverOverride(a, override));
            if (before.driver().isPresent() && sysfs.currentDriver(a).isEmpty()) {
                DriverName old = new DriverName(before.driver().get());
                try {
                    timed("bind " + a + " to " + old, GroupGates.remaining(deadline), () -> sysfs.bind(a, old));
                } catch (IOException bindFailed) {
                    // the explicit bind can be refused where a probe still finds the same driver
                    timed("probe " + a, GroupGates.remaining(deadline), () -> sysfs.probe(a));
                }
                Optional<String> after = awaitDriver(a, old.value(), deadline);
                if (!after.equals(before.driver())) {
                    throw new StepFailed("rebind " + a + " to " + old, after.map(d -> d + " bound it instead").orElse("it stayed without a driver"));
                }
            }
        }
    }

    // ---- helpers ------------------------------------------------------------------------------------------------

    private void enter() throws BindingException.Busy {
        if (!running.readLock().tryLock()) throw new BindingException.Busy("vfiod is shutting down");
        if (closing) {
            running.readLock().unlock();
            throw new BindingException.Busy("vfiod is shutting down");
        }
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
        writers.shutdownNow();
    }

    private PciDevice readOrFail(PciAddress address) throws BindingException {
        try {
            return sysfs.read(address).orElseThrow(() -> new BindingException.NoSuchDevice("no PCI device " + address));
        } catch (IOException e) {
            throw new BindingException.Failed("cannot read " + address + " from sysfs: " + describe(e));
        }
    }

    private DriverName chooseModule(PciDevice device, Optional<String> requested, AliasIndex aliases)
            throws BindingException {
        if (requested.isPresent()) {
            String r = requested.get();
            if (!DriverName.isValid(r) || !aliases.isVfioModule(r)) {
                throw new BindingException.InvalidArgument("'" + CallerText.printable(r) + "' is not a vfio driver known to the "
                        + "module aliases (known: " + String.join(", ", knownVfioModules(aliases)) + ")");
            }
            return new DriverName(AliasIndex.normalizeModule(r));
        }
        return aliases.resolve(device.modalias()).map(m -> {
            if (m.tie()) LOG.warn("{}: {} chosen over {} on source order ({} wildcards each)", device.address(), m.module(), m.tiedWith(), m.wildcards());
            return new DriverName(m.module());
        }).orElseThrow(() -> new BindingException.NoVfioDriver("no vfio driver matches " + device.address() + " ("
                + device.modalias() + "); is the vfio-pci module installed for this kernel?"));
    }

    private static List<String> knownVfioModules(AliasIndex aliases) {
        return aliases.aliases().stream().map(a -> a.module()).distinct().sorted().toList();
    }

    private DriverName loadAndResolve(DriverName module, AliasIndex aliases, GroupGates.Gate gate, Instant deadline)
            throws BindingException {
        try {
            if (!aliases.isBuiltin(module.value()) && !sysfs.moduleLoaded(module)) {
                LOG.info("loading module {}", module);
                modules.load(module);
            }
            return sysfs.driverOfModule(module).orElseThrow(() -> new BindingException.NoVfioDriver("module " + module
                    + " is loaded but registered no PCI driver (looked in module/" + module + "/drivers and bus/pci/drivers)"));
        } catch (IOException e) {
            throw new BindingException.Failed("load module " + module + " failed: " + describe(e) + "; nothing was changed");
        }
    }

    private boolean alreadyOn(PciDevice device, DriverName module) {
        if (device.driver().isEmpty() || !sysfs.moduleLoaded(module)) return false;
        try {
            return sysfs.driverOfModule(module).map(DriverName::value).equals(device.driver());
        } catch (IOException e) {
            return false;
        }
    }

    /** The driver name when the module is loaded; before that only the module knows it. */
    private String plannedDriver(DriverName module) {
        try {
            return sysfs.driverOfModule(module).map(DriverName::value).orElse("the PCI driver of module " + module);
        } catch (IOException e) {
            return "the PCI driver of module " + module;
        }
    }

    private List<String> rebindSteps(PciDevice d, DriverName module, AliasIndex aliases) {
        List<String> steps = new ArrayList<>();
        if (!aliases.isBuiltin(module.value()) && !sysfs.moduleLoaded(module)) steps.add("load module " + module);
        String driver = plannedDriver(module);
        steps.add("set driver_override of " + d.address() + " to " + driver);
        d.driver().ifPresent(from -> steps.add("unbind " + d.address() + " from " + from));
        steps.add("probe " + d.address() + " and check that " + driver + " bound it");
        return steps;
    }

    /** The other endpoints of the device's IOMMU group (bridges excluded: they stay on their host driver). */
    private List<PciDevice> groupEndpoints(PciDevice device) throws BindingException {
        List<PciDevice> out = new ArrayList<>();
        for (PciAddress member : device.groupMembers()) {
            if (member.equals(device.address())) continue;
            try {
                sysfs.read(member).filter(m -> !m.isBridge()).ifPresent(out::add);
            } catch (IOException e) {
                throw new BindingException.Failed("cannot read " + member + " of IOMMU group: " + describe(e));
            }
        }
        return out;
    }

    private static String groupKey(PciDevice device) {
        return device.iommuGroup().isPresent() ? "IOMMU group " + device.iommuGroup().getAsInt() : "device " + device.address();
    }

    private Optional<String> awaitDriver(PciAddress address, String expected, Instant deadline) throws IOException {
        Instant settle = Instant.now().plus(PROBE_SETTLE);
        Instant until = settle.isBefore(deadline) ? settle : deadline;
        try {
            return waiter.await(address, d -> expected == null ? d.isPresent() : d.filter(expected::equals).isPresent(), until);
        } catch (NoSuchFileException gone) {
            throw new IOException("the device vanished");
        }
    }

    private static String describe(List<PciDevice> devices) {
        return devices.stream().map(d -> d.address() + " (" + d.driver().orElse("no driver") + ")").collect(Collectors.joining(", "));
    }

    static String describe(IOException e) {
        if (e instanceof NoSuchFileException) return "the device or attribute is gone (" + e.getMessage() + ")";
        String m = e.getMessage();
        return m == null || m.isBlank() ? e.getClass().getSimpleName() : m;
    }
}
