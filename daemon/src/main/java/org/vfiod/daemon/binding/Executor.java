package org.vfiod.daemon.binding;

import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.vfiod.daemon.sysfs.DeviceName;
import org.vfiod.daemon.sysfs.DriverName;
import org.vfiod.daemon.sysfs.Sysfs;

/**
 * Runs a plan: records it in the journal, makes each write with its deadline, checks the driver the kernel chose,
 * and on any failure puts every device back from the recorded prior state. A write that hangs past its deadline
 * costs the caller a Timeout; its group stays shut until the write returns, and then the devices are put back.
 */
final class Executor {
    private static final Logger LOG = LoggerFactory.getLogger(Executor.class);

    private final Sysfs sysfs;
    private final KernelCalls calls;
    private final ProbeWait probeWait;
    private final Rollback rollback;
    private final JournalStore journal;
    private final VfioDrivers vfio;
    private final HostDrivers hostDrivers;

    /** Whether a driver is a vfio driver: a Restore that lands on one has failed. */
    @FunctionalInterface
    interface VfioDrivers {
        boolean isVfio(String driver);
    }

    Executor(Sysfs sysfs, KernelCalls calls, ProbeWait probeWait, Rollback rollback, JournalStore journal, VfioDrivers vfio,
             HostDrivers hostDrivers) {
        this.hostDrivers = hostDrivers;
        this.sysfs = sysfs;
        this.calls = calls;
        this.probeWait = probeWait;
        this.rollback = rollback;
        this.journal = journal;
        this.vfio = vfio;
    }

    BindResult.Moved run(Plan plan, GroupGates.Gate gate, Instant deadline, Duration budget, Phases phases) throws BindingException {
        if (!plan.modulesToLoad().isEmpty()) throw new IllegalStateException("plan run before its modules were loaded: " + plan.modulesToLoad());
        JournalStore.Entry entry;
        try {
            entry = journal.begin(plan);
        } catch (IOException e) {
            throw new BindingException.Failed("cannot write the journal in " + journal.dir() + ": " + e.getMessage() + "; nothing was changed");
        }
        phases.lap("journal");
        // why a driver was chosen over the aliases' best match: in the log and in the result, which Operations logs
        for (String note : plan.notes()) LOG.info("{}", note);
        List<String> summary = new ArrayList<>(plan.notes());
        String primaryDriver = "";
        try {
            for (Sysfs.Framebuffer fb : plan.framebuffers()) {
                write(entry, new Step.ReleaseFramebuffer(fb), gate, deadline, budget, plan, () -> sysfs.writeFramebuffer(fb, false), phases);
                LOG.info("released {} from the boot GPU", fb.name());
                summary.add("released " + fb.name());
            }
            for (PlannedDevice d : plan.devices()) {
                for (Step s : d.steps()) write(entry, s, gate, deadline, budget, plan, () -> perform(s), phases);
                Optional<String> now = verify(plan, d, deadline);
                phases.lap("wait for the driver");
                String landed = now.orElse("");
                if (plan.direction() == Direction.TO_HOST) {
                    // driverless only where it was driverless before: verify refused the rest
                    if (now.isEmpty()) LOG.info("{} has no driver, as before: no host driver took it", d.name());
                    else LOG.info("{} is back on {}", d.name(), landed);
                    summary.add(d.name() + " -> " + now.orElse("no driver (none took it; it had none before)"));
                } else {
                    LOG.info("{} moved from {} to {}", d.name(), d.prior().driver().orElse("no driver"), landed);
                    summary.add(d.name() + " -> " + landed);
                }
                if (d.name().equals(plan.requested())) primaryDriver = landed;
            }
            entry.complete();
            phases.lap("journal");
        } catch (StepFailed failure) {
            throw rolledBack(plan, entry, budget, failure);
        } catch (IOException journalFailed) {
            throw rolledBack(plan, entry, budget, new StepFailed("write the journal", journalFailed.getMessage()));
        }
        removeQuietly(entry);
        phases.lap("journal");
        if (plan.direction() == Direction.TO_VFIO && primaryDriver.isEmpty()) {
            primaryDriver = plan.devices().get(0).targetDriver().map(Object::toString).orElse("");
        }
        return new BindResult.Moved(primaryDriver, plan.names(), summary);
    }

    private void perform(Step s) throws IOException {
        if (s instanceof Step.SetOverride o) sysfs.writeDriverOverride(o.device(), o.driver());
        else if (s instanceof Step.Unbind u) sysfs.unbind(u.device(), u.from());
        else if (s instanceof Step.Probe p) sysfs.probe(p.device());
        else throw new IllegalArgumentException("not a device step: " + s);
    }

    /** One write with its deadline, recorded in the journal once it returned. */
    private void write(JournalStore.Entry entry, Step step, GroupGates.Gate gate, Instant deadline, Duration budget, Plan plan,
                       KernelCalls.KernelCall call, Phases phases) throws StepFailed, IOException, BindingException {
        try {
            calls.run(step.text(), GroupGates.remaining(deadline), call);
            phases.lap(phaseOf(step));
        } catch (KernelCalls.Hung hung) {
            LOG.error("{} is hanging in the kernel; {} stays blocked until it returns, then its devices are put back", step.text(), gate.name());
            CompletableFuture<Void> reopened = gate.wedge(step.text(), hung.write, () -> afterHang(plan, entry, budget));
            throw new BindingException.Timeout(step.text() + " did not return within " + budget.toMillis()
                    + " ms; the kernel is still working on it, and vfiod will start nothing else on " + gate.name()
                    + " until it returns, then put " + plan.names().stream().map(DeviceName::toString).collect(Collectors.joining(", "))
                    + " back as " + (plan.devices().size() == 1 ? "it was" : "they were"), reopened);
        } catch (IOException e) {
            throw new StepFailed(step.text(), RebindEngine.describe(e));
        }
        entry.done(step);
        phases.lap("journal");
    }

    /** The phase a step's write is timed as: the file written, whatever the device. */
    private static String phaseOf(Step step) {
        if (step instanceof Step.SetOverride) return "write driver_override";
        if (step instanceof Step.Unbind) return "write unbind";
        if (step instanceof Step.Probe) return "write drivers_probe";
        return "write framebuffer";
    }

    private Optional<String> verify(Plan plan, PlannedDevice d, Instant deadline) throws StepFailed {
        Optional<DriverName> expected = expectedDriver(plan, d);
        Optional<String> now;
        try {
            now = probeWait.driverOf(d.name(), expected.map(Object::toString).orElse(null), deadline);
        } catch (IOException e) {
            throw new StepFailed("probe " + d.name(), RebindEngine.describe(e));
        }
        if (expected.isPresent()) {
            String target = expected.get().value();
            if (!now.filter(target::equals).isPresent()) {
                String step = d.target() instanceof Target.Follows f
                        ? "bind " + d.name() + " (an object of " + f.container() + ", which it follows) to " + target
                        : "bind " + d.name() + " to " + target;
                throw new StepFailed(step, now.isEmpty()
                        ? target + " did not bind it (its probe failed; see the kernel log)" + probeFailureHint(d.name())
                        : now.get() + " bound it instead");
            }
        } else if (now.isPresent() && vfio.isVfio(now.get())) {
            throw new StepFailed("probe " + d.name(), now.get() + " bound it again; is a vfio driver listed in modprobe.d or a udev rule?");
        } else if (now.isEmpty() && d.prior().driver().isPresent()) {
            // a device given back to no driver is lost to the VM and the host alike: the Restore failed, and the
            // rollback puts it where it was
            throw new StepFailed("bind " + d.name() + " to a host driver", refused(d.name()));
        }
        return now;
    }

    /** The driver the device must end on: its target's, or, for an object that follows its container, the container's. */
    private static Optional<DriverName> expectedDriver(Plan plan, PlannedDevice d) {
        if (d.target() instanceof Target.Follows f) {
            if (plan.direction() != Direction.TO_VFIO) return Optional.empty();
            return plan.devices().stream().filter(c -> c.name().equals(f.container())).findFirst().flatMap(PlannedDevice::targetDriver);
        }
        return d.targetDriver();
    }

    /** What the bus table knows of why its vfio driver refuses a device ("; ..."), or "". */
    private String probeFailureHint(DeviceName device) {
        try {
            return sysfs.probeFailureHint(device).map(h -> "; " + h).orElse("");
        } catch (IOException e) {
            return "";
        }
    }

    /** Why no host driver took the device: the drivers that refused it, or that none is there to take it. */
    private String refused(DeviceName device) {
        List<HostDrivers.Candidate> candidates;
        try {
            candidates = hostDrivers.of(device);
        } catch (IOException e) {
            return "no host driver bound it (its host drivers cannot be told: " + RebindEngine.describe(e) + "; see the kernel log)";
        }
        if (candidates.isEmpty()) return "no host driver matches it (no alias in modules.alias); it would be left with no driver";
        List<String> loaded = new ArrayList<>(), missing = new ArrayList<>();
        for (HostDrivers.Candidate c : candidates) {
            // named as the kernel names the driver that refused it (cdx-sim-net), not as modules.alias names its module
            if (c.loaded()) loaded.add(c.driver().orElse(c.module()));
            else missing.add(c.module());
        }
        String why = loaded.isEmpty() ? "no host driver bound it"
                : String.join(", ", loaded) + (loaded.size() == 1 ? " refused it" : " refused it, each") + " (its probe failed; see the kernel log)";
        if (!missing.isEmpty()) why += "; " + String.join(", ", missing) + (missing.size() == 1 ? " matches it but is not loaded" : " match it but are not loaded");
        return why;
    }

    /** The write that hung has returned: its group is still shut; put the devices back, then forget the move. */
    private void afterHang(Plan plan, JournalStore.Entry entry, Duration budget) {
        Rollback.Outcome outcome = rollback.putBack(plan, budget);
        List<String> problems = outcome.problems();
        if (outcome.ok()) {
            LOG.warn("the hung write on {} returned; put back {}{}", plan.groupKey(), describePrior(plan, outcome), outcome.goneText());
            removeQuietly(entry);
        } else {
            // the journal stays: the next start tries again
            LOG.error("the hung write on {} returned, but putting the devices back failed: {}", plan.groupKey(), String.join("; ", problems));
        }
    }

    private BindingException rolledBack(Plan plan, JournalStore.Entry entry, Duration budget, StepFailed failure) {
        Rollback.Outcome outcome = rollback.putBack(plan, budget);
        List<String> problems = outcome.problems();
        String head = failure.step + " failed: " + failure.why;
        if (outcome.ok()) {
            removeQuietly(entry);
            String back = describePrior(plan, outcome) + outcome.goneText();
            LOG.warn("{}; rolled back ({})", head, back);
            return new BindingException.Failed(head + "; rolled back: " + back);
        }
        LOG.error("{}; rollback failed too: {}", head, String.join("; ", problems));
        return new BindingException.Failed(head + "; rollback failed too: " + String.join("; ", problems) + outcome.goneText());
    }

    private static String describePrior(Plan plan, Rollback.Outcome outcome) {
        List<PlannedDevice> order = new ArrayList<>(plan.devices());
        java.util.Collections.reverse(order);
        order.removeIf(d -> outcome.gone().contains(d.name()));
        if (order.isEmpty()) return "nothing left to put back";
        return order.stream().map(d -> d.name() + " on " + d.prior().driver().orElse("no driver")).collect(Collectors.joining(", "));
    }

    private static void removeQuietly(JournalStore.Entry entry) {
        try {
            entry.remove();
        } catch (IOException e) {
            LOG.warn("cannot remove the journal {}: {}; the next start will find the move finished", entry.file(), e.getMessage());
        }
    }
}
