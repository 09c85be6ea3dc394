package org.vfiod.daemon.binding;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.vfiod.daemon.sysfs.Device;
import org.vfiod.daemon.sysfs.DeviceName;
import org.vfiod.daemon.sysfs.DriverName;
import org.vfiod.daemon.sysfs.Sysfs;

/**
 * At start, before the bus name is taken: finishes the moves a killed vfiod left in its journal. A move is atomic:
 * unless its record says it completed, every device goes back to its recorded prior state (old driver, old
 * override, framebuffers). A completed move stays, with each device's override made consistent with its driver.
 * An unreadable journal is set aside and reported, never acted on.
 */
public final class Reconciler {
    private static final Logger LOG = LoggerFactory.getLogger(Reconciler.class);
    private static final Duration BUDGET = Duration.ofSeconds(30);

    private final Sysfs sysfs;
    private final JournalStore journal;
    private final Rollback rollback;
    private final KernelCalls calls;

    Reconciler(Sysfs sysfs, JournalStore journal, Rollback rollback, KernelCalls calls) {
        this.sysfs = sysfs;
        this.journal = journal;
        this.rollback = rollback;
        this.calls = calls;
    }

    /** What the reconcile did to one device, for the log and the device object. */
    public record Outcome(DeviceName device, String text) {
    }

    public List<Outcome> reconcile() {
        List<Outcome> outcomes = new ArrayList<>();
        List<JournalStore.Leftover> leftovers;
        try {
            leftovers = journal.leftovers();
        } catch (IOException e) {
            LOG.error("reconcile: cannot read the journal in {}: {}", journal.dir(), e.toString());
            return outcomes;
        }
        for (JournalStore.Leftover left : leftovers) {
            if (left instanceof JournalStore.Leftover.Unreadable u) {
                try {
                    Path aside = journal.setAside(u.file());
                    LOG.error("reconcile: the journal {} cannot be read ({}); it was set aside as {} and nothing was done with it",
                            u.file(), u.why(), aside.getFileName());
                } catch (IOException e) {
                    LOG.error("reconcile: the journal {} cannot be read ({}), nor set aside: {}", u.file(), u.why(), e.toString());
                }
                continue;
            }
            JournalStore.Leftover.Readable r = (JournalStore.Leftover.Readable) left;
            outcomes.addAll(reconcile(r.record(), journal.resume(r.file(), r.record())));
        }
        return outcomes;
    }

    private List<Outcome> reconcile(JournalRecord record, JournalStore.Entry entry) {
        Plan plan = record.plan();
        String interrupted = "an interrupted " + plan.direction().method() + " of " + plan.requested()
                + (record.done().isEmpty() ? " (no step recorded done)" : " (last step done: " + record.done().get(record.done().size() - 1) + ")");
        List<Outcome> out = new ArrayList<>();
        if (record.complete()) {
            for (PlannedDevice d : plan.devices()) out.add(new Outcome(d.name(), settleCompleted(d, plan.direction())));
            LOG.warn("reconcile: {} had completed; kept: {}", interrupted, texts(out));
            remove(entry);
            return out;
        }
        Rollback.Outcome rolled = rollback.putBack(plan, BUDGET);
        List<String> problems = rolled.problems();
        if (rolled.ok()) {
            for (PlannedDevice d : plan.devices()) {
                out.add(new Outcome(d.name(), rolled.gone().contains(d.name()) ? "gone from the machine since " + interrupted
                        : "put back " + d.prior() + " after " + interrupted));
            }
            LOG.warn("reconcile: {} was rolled back: {}", interrupted, plan.devices().stream()
                    .map(d -> d.name() + " " + d.prior()).toList());
            remove(entry);
        } else {
            for (PlannedDevice d : plan.devices()) {
                out.add(new Outcome(d.name(), "could not be put back after " + interrupted + ": " + String.join("; ", problems)));
            }
            // kept for the next start; the devices are left as the failed rollback left them
            LOG.error("reconcile: {} could not be rolled back: {}; the journal {} is kept", interrupted, String.join("; ", problems), entry.file());
        }
        return out;
    }

    /** A completed move whose record was not yet removed: the device stays, with an override that matches it. */
    private String settleCompleted(PlannedDevice d, Direction direction) {
        try {
            Optional<Device> now = sysfs.read(d.name());
            if (now.isEmpty()) return "gone since its completed " + direction.method();
            Optional<String> driver = now.get().driver();
            Optional<String> override = now.get().driverOverride();
            if (direction == Direction.TO_VFIO && d.targetDriver().isPresent() && driver.equals(d.targetDriver().map(DriverName::value))
                    && !override.equals(driver)) {
                DriverName want = d.targetDriver().get();
                calls.run("set driver_override of " + d.name(), BUDGET, () -> sysfs.writeDriverOverride(d.name(), Optional.of(want)));
                return "kept on " + want + " (its " + direction.method() + " had completed); driver_override set to match";
            }
            if (direction == Direction.TO_HOST && override.isPresent()) {
                calls.run("clear driver_override of " + d.name(), BUDGET, () -> sysfs.writeDriverOverride(d.name(), Optional.empty()));
                return "kept on " + driver.orElse("no driver") + " (its Restore had completed); driver_override cleared";
            }
            return "kept on " + driver.orElse("no driver") + " (its " + direction.method() + " had completed)";
        } catch (IOException | KernelCalls.Hung e) {
            return "its completed " + direction.method() + " could not be settled: " + e.getMessage();
        }
    }

    private static List<String> texts(List<Outcome> out) {
        return out.stream().map(o -> o.device() + " " + o.text()).toList();
    }

    private static void remove(JournalStore.Entry entry) {
        try {
            entry.remove();
        } catch (IOException e) {
            LOG.error("reconcile: cannot remove the journal {}: {}", entry.file(), e.toString());
        }
    }
}
