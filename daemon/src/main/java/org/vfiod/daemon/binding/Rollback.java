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

    /**
     * What a rollback did: what could not be put back, and the devices that are gone (hot-removed), which have
     * nothing to put back and are no failure of it: a journal naming them must not outlive them.
     */
    record Outcome(List<String> problems, List<DeviceName> gone) {
        Outcome {
            problems = List.copyOf(problems);
            gone = List.copyOf(gone);
        }

        boolean ok() {
            return problems.isEmpty();
        }

        /** "; 0000:01:00.1 is no longer present (removed from the machine)" or "". */
        String goneText() {
            if (gone.isEmpty()) return "";
            return "; " + gone.stream().map(DeviceName::toString).collect(java.util.stream.Collectors.joining(", "))
                    + (gone.size() == 1 ? " is" : " are") + " no longer present (removed from the machine)";
        }
    }

    /** Puts every device back, last first, then the framebuffers. */
    Outcome putBack(Plan plan, Duration budget) {
        // a rollback gets a fresh budget: leaving a device driverless is worse than being late
        Instant deadline = Instant.now().plus(budget);
        List<String> problems = new ArrayList<>();
        List<DeviceName> gone = new ArrayList<>();
        List<PlannedDevice> order = new ArrayList<>(plan.devices());
        java.util.Collections.reverse(order);
        for (PlannedDevice d : order) {
            // an object of a container is put back by its container's rollback: the kernel removes it with the
            // container's vfio driver and adds it again under the container's host driver
            if (d.target() instanceof Target.Follows) continue;
            try {
                if (!putBack(d, deadline)) gone.add(d.name());
            } catch (KernelCalls.Hung e) {
                problems.add("putting " + d.name() + " back hung in the kernel (" + e.what + ")");
                break;
            } catch (IOException e) {
                if (vanished(d.name())) gone.add(d.name());
                else problems.add("putting " + d.name() + " back failed: " + RebindEngine.describe(e));
            } catch (StepFailed e) {
                if (vanished(d.name())) gone.add(d.name());
                else problems.add("putting " + d.name() + " back failed: " + e.getMessage());
            }
        }
        if (!plan.framebuffers().isEmpty()) {
            List<Sysfs.Framebuffer> attached;
            try {
                attached = sysfs.bootFramebuffers();
            } catch (IOException e) {
                problems.add("cannot read the framebuffers: " + RebindEngine.describe(e));
                return new Outcome(problems, gone);
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
        return new Outcome(problems, gone);
    }

    /** Whether a device whose putting back failed was removed meanwhile: then there was nothing to put back. */
    private boolean vanished(DeviceName device) {
        try {
            return !sysfs.exists(device);
        } catch (IOException e) {
            return false;
        }
    }

    /** Puts one device back; false when it is gone from the machine, so there is nothing to put back. */
    private boolean putBack(PlannedDevice planned, Instant deadline) throws IOException, KernelCalls.Hung, StepFailed {
        DeviceName a = planned.name();
        Prior prior = planned.prior();
        if (!sysfs.exists(a)) {
            LOG.warn("{} is no longer present (removed from the machine): nothing to put back", a);
            return false;
        }
        Optional<String> now = sysfs.currentDriver(a);
        if (now.isPresent() && !now.equals(prior.driver())) {
            DriverName from = new DriverName(now.get());
            retried("unbind " + a + " from " + from, deadline, () -> sysfs.unbind(a, from));
        }
        Optional<String> override = sysfs.read(a).flatMap(d -> d.driverOverride());
        if (!override.equals(prior.override())) {
            Optional<DriverName> old = prior.override().filter(DriverName::isValid).map(DriverName::new);
            retried("restore driver_override of " + a, deadline, () -> sysfs.writeDriverOverride(a, old));
        }
        if (prior.driver().isPresent() && sysfs.currentDriver(a).isEmpty()) {
            DriverName old = new DriverName(prior.driver().get());
            try {
                retried("bind " + a + " to " + old, deadline, () -> sysfs.bind(a, old));
            } catch (IOException bindFailed) {
                // the explicit bind can be refused where a probe still finds the same driver
                retried("probe " + a, deadline, () -> sysfs.probe(a));
            }
            Optional<String> after = probeWait.driverOf(a, old.value(), deadline);
            if (!after.equals(prior.driver())) {
                throw new StepFailed("rebind " + a + " to " + old, after.map(d -> d + " bound it instead").orElse("it stayed without a driver"));
            }
        }
        return true;
    }

    /**
     * A rollback write, made a second time if the kernel refuses it once: a store that fails with EBUSY or EIO while a
     * device settles can pass a moment later, and a rollback that gives up at once leaves the device driverless (the
     * fault tests fail each rollback write once). A device that went away is not written again.
     */
    private void retried(String what, Instant deadline, KernelCalls.KernelCall call) throws IOException, KernelCalls.Hung {
        try {
            calls.run(what, GroupGates.remaining(deadline), call);
        } catch (java.nio.file.NoSuchFileException gone) {
            throw gone;
        } catch (IOException first) {
            LOG.warn("{} failed ({}); trying once more", what, RebindEngine.describe(first));
            try {
                Thread.sleep(RETRY_PAUSE.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw first;
            }
            calls.run(what, GroupGates.remaining(deadline), call);
        }
    }

    private static final Duration RETRY_PAUSE = Duration.ofMillis(50);
}
