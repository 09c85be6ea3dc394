package org.vfiod.daemon.binding;

import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.vfiod.daemon.sysfs.DeviceName;
import org.vfiod.daemon.sysfs.DriverName;
import org.vfiod.daemon.sysfs.Sysfs;

/**
 * Puts the devices of a plan back as they were, from the prior state the plan recorded and what sysfs shows now.
 * It needs no memory of which writes were made, so the executor after a failure, a hung write once it returns, and
 * the reconcile after a crash all use it; a device that never moved costs no write at all.
 */
final class Rollback {
    private static final Logger LOG = LoggerFactory.getLogger(Rollback.class);

    private final Sysfs sysfs;
    private final KernelCalls calls;
    private final ProbeWait probeWait;

    Rollback(Sysfs sysfs, KernelCalls calls, ProbeWait probeWait) {
        this.sysfs = sysfs;
        this.calls = calls;
        this.probeWait = probeWait;
    }

    /** Puts every device back, last first, then the framebuffers. Returns what could not be put back. */
    List<String> putBack(Plan plan, Duration budget) {
        // a rollback gets a fresh budget: leaving a device driverless is worse than being late
        Instant deadline = Instant.now().plus(budget);
        List<String> problems = new ArrayList<>();
        List<PlannedDevice> order = new ArrayList<>(plan.devices());
        java.util.Collections.reverse(order);
        for (PlannedDevice d : order) {
            try {
                putBack(d, deadline);
            } catch (KernelCalls.Hung e) {
                problems.add("putting " + d.name() + " back hung in the kernel (" + e.what + ")");
                break;
            } catch (IOException e) {
                if (gone(d.name())) continue;
                problems.add("putting " + d.name() + " back failed: " + RebindEngine.describe(e));
            } catch (StepFailed e) {
                if (gone(d.name())) continue;
                problems.add("putting " + d.name() + " back failed: " + e.getMessage());
            }
        }
        if (!plan.framebuffers().isEmpty()) {
            List<Sysfs.Framebuffer> attached;
            try {
                attached = sysfs.bootFramebuffers();
            } catch (IOException e) {
                problems.add("cannot read the framebuffers: " + RebindEngine.describe(e));
                return problems;
            }
            for (Sysfs.Framebuffer fb : plan.framebuffers()) {
                if (attached.contains(fb)) continue;
                try {
                    calls.run("re-attach " + fb.name(), GroupGates.remaining(deadline), () -> sysfs.writeFramebuffer(fb, true));
                    LOG.info("re-attached {} to the boot GPU", fb.name());
                } catch (IOException | KernelCalls.Hung e) {
                    problems.add("re-attaching " + fb.name() + " failed: " + e.getMessage());
                }
            }
        }
        return problems;
    }

    /**
     * Whether the device has left the kernel (hot-removed, surprise-removed) since the plan was made: it has no state
     * left to put back, so it is no failure of the rollback, and nothing of it may be kept for a next attempt, which
     * would act on whatever device takes its address next.
     */
    private boolean gone(DeviceName a) {
        try {
            if (sysfs.exists(a)) return false;
        } catch (IOException e) {
            return false;
        }
        LOG.warn("{} is gone from the kernel (unplugged): nothing of it to put back", a);
        return true;
    }

    private void putBack(PlannedDevice planned, Instant deadline) throws IOException, KernelCalls.Hung, StepFailed {
        DeviceName a = planned.name();
        Prior prior = planned.prior();
        if (gone(a)) return;
        Optional<String> now = sysfs.currentDriver(a);
        if (now.isPresent() && !now.equals(prior.driver())) {
            DriverName from = new DriverName(now.get());
            calls.run("unbind " + a + " from " + from, GroupGates.remaining(deadline), () -> sysfs.unbind(a, from));
        }
        Optional<String> override = sysfs.read(a).flatMap(d -> d.driverOverride());
        if (!override.equals(prior.override())) {
            Optional<DriverName> old = prior.override().filter(DriverName::isValid).map(DriverName::new);
            calls.run("restore driver_override of " + a, GroupGates.remaining(deadline), () -> sysfs.writeDriverOverride(a, old));
        }
        if (prior.driver().isPresent() && sysfs.currentDriver(a).isEmpty()) {
            DriverName old = new DriverName(prior.driver().get());
            try {
                calls.run("bind " + a + " to " + old, GroupGates.remaining(deadline), () -> sysfs.bind(a, old));
            } catch (IOException bindFailed) {
                // the explicit bind can be refused where a probe still finds the same driver
                calls.run("probe " + a, GroupGates.remaining(deadline), () -> sysfs.probe(a));
            }
            Optional<String> after = probeWait.driverOf(a, old.value(), deadline);
            if (!after.equals(prior.driver())) {
                throw new StepFailed("rebind " + a + " to " + old, after.map(d -> d + " bound it instead").orElse("it stayed without a driver"));
            }
        }
    }
}
