package org.vfiod.daemon.binding;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;
import org.vfiod.daemon.sim.SimulatedSysfs;
import org.vfiod.daemon.sysfs.DeviceName;
import org.vfiod.daemon.sysfs.DriverName;

/**
 * vfiod killed after each write of a move, on each bus other than PCI (PCI's are {@link ReconcilerTest}'s): the
 * plan journaled, its first N writes made, then a new engine on the same folders. The reconcile must put every
 * device back byte for byte, a DPRC's objects included (removed with its driver, added again by the next one's
 * scan). Prints the runs per bus.
 */
class BusCrashTest {
    static final BindOptions OPTS = BindOptions.defaults().withTimeout(Duration.ofSeconds(5));
    static final String ALIASES = SimulatedMachine.CATCH_ALL + "alias vfio_cdx:v*d*sv*sd*c* vfio_cdx\n";
    static final Map<String, int[]> PER_BUS = new java.util.concurrent.ConcurrentSkipListMap<>();

    @TempDir
    static Path dir;
    static int machines;

    /** One move: the device, which way, the vfio module, and each device's driver before the move. */
    record Move(String name, DeviceName device, boolean toVfio, String module, Map<String, String> prior) {
    }

    private static Map<String, String> ordered(String... kv) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) m.put(kv[i], kv[i + 1]);
        return m;
    }

    static final DeviceName CDX = new DeviceName("cdx", SimulatedSysfs.CDX_NIC);
    static final DeviceName PLATFORM = new DeviceName("platform", SimulatedSysfs.XGMAC);
    static final DeviceName DPRC = new DeviceName("fsl-mc", SimulatedSysfs.DPRC);
    static final List<Move> MOVES = List.of(
            new Move("CDX Rebind", CDX, true, "vfio_cdx", Map.of(CDX.name(), "cdx-sim-net")),
            new Move("CDX Restore", CDX, false, "vfio_cdx", Map.of(CDX.name(), "vfio-cdx")),
            new Move("platform Rebind", PLATFORM, true, "vfio_platform", Map.of(PLATFORM.name(), "calxedaxgmac")),
            new Move("platform Restore", PLATFORM, false, "vfio_platform", Map.of(PLATFORM.name(), "vfio-platform")),
            new Move("fsl-mc DPRC Rebind", DPRC, true, "vfio_fsl_mc", ordered(DPRC.name(), "fsl_mc_dprc", "dpio.1", "fsl_mc_dpio",
                    "dpmcp.1", "fsl_mc_allocator", "dpni.1", "fsl_dpaa2_eth")),
            new Move("fsl-mc DPRC Restore", DPRC, false, "vfio_fsl_mc", ordered(DPRC.name(), "vfio-fsl-mc", "dpio.1", "vfio-fsl-mc",
                    "dpmcp.1", "vfio-fsl-mc", "dpni.1", "vfio-fsl-mc")));

    /** A machine with the move's vfio module loaded (so the plan names the driver), and the device on VFIO for a Restore. */
    private static SimulatedMachine machine(Path home, Move move) throws Exception {
        SimulatedMachine m = SimulatedMachine.allBuses(home, ALIASES);
        m.kernel.load(new DriverName(move.module()));
        if (!move.toVfio()) assertInstanceOf(BindResult.Moved.class, m.engine.rebind(move.device(), OPTS));
        return m;
    }

    private static Plan plan(SimulatedMachine m, Path home, Move move) throws Exception {
        Planner planner = new Planner(m.sysfs, () -> m.index, org.vfiod.daemon.sim.SimulatedHost.scanner(m.sysfs.root(), home.resolve("host")));
        Planner.Decision d = move.toVfio() ? planner.rebind(move.device(), OPTS) : planner.restore(move.device(), OPTS);
        return assertInstanceOf(Planner.Decision.Move.class, d).plan();
    }

    /** Journals the plan and makes its first {@code writes} writes as the executor would, then "dies". */
    private static void crashAfter(SimulatedMachine m, Path home, Plan plan, int writes) throws Exception {
        JournalStore.Entry entry = new JournalStore(home.resolve("run/journal")).begin(plan);
        List<Step> steps = plan.steps();
        for (int i = 0; i < writes; i++) {
            Step s = steps.get(i);
            if (s instanceof Step.SetOverride o) m.sysfs.writeDriverOverride(o.device(), o.driver());
            else if (s instanceof Step.Unbind u) m.sysfs.unbind(u.device(), u.from());
            else if (s instanceof Step.Probe p) m.sysfs.probe(p.device());
            else throw new AssertionError("a step this test does not know how to make: " + s);
            // the last write's record may or may not have reached the disk: leave it out, as a kill between the two would
            if (i < writes - 1) entry.done(s);
        }
    }

    @TestFactory
    Stream<DynamicTest> anInterruptedMoveIsPutBackAfterEveryWrite() throws Exception {
        List<DynamicTest> tests = new ArrayList<>();
        for (Move move : MOVES) {
            Path probe = dir.resolve("probe-" + ++machines);
            int steps;
            try (SimulatedMachine m = machine(probe, move)) {
                steps = plan(m, probe, move).steps().size();
            }
            assertFalse(steps == 0, move.name() + " plans no write");
            for (int writes = 0; writes <= steps; writes++) {
                int n = writes;
                tests.add(DynamicTest.dynamicTest(move.name() + ": killed after write " + n + " of " + steps, () -> crashed(move, n)));
            }
        }
        return tests.stream();
    }

    private static void crashed(Move move, int writes) throws Exception {
        Path home = dir.resolve("m" + ++machines);
        TreeMap<String, String> before;
        try (SimulatedMachine m = machine(home, move)) {
            before = m.snapshot();
            crashAfter(m, home, plan(m, home, move), writes);
        }
        try (SimulatedMachine again = new SimulatedMachine(home, ALIASES, true)) {
            List<Reconciler.Outcome> out = again.engine.reconcile();
            assertEquals("", SimulatedMachine.diff(before, again.snapshot()), move.name() + " after " + writes + " writes: " + out);
            for (Map.Entry<String, String> d : move.prior().entrySet()) {
                assertEquals(d.getValue(), again.driverOrGone(d.getKey()), move.name() + " after " + writes + " writes: " + d.getKey());
            }
            try (Stream<Path> s = Files.list(home.resolve("run/journal"))) {
                assertEquals(0, s.filter(p -> p.getFileName().toString().endsWith(".journal")).count(), "the journal is gone");
            }
            // and the engine takes the same move again
            BindResult r = move.toVfio() ? again.engine.rebind(move.device(), OPTS) : again.engine.restore(move.device(), OPTS);
            assertInstanceOf(BindResult.Moved.class, r, move.name());
        }
        PER_BUS.computeIfAbsent(move.device().bus(), b -> new int[1])[0]++;
    }

    @AfterAll
    static void figures() {
        StringBuilder b = new StringBuilder();
        PER_BUS.forEach((bus, n) -> b.append(b.length() == 0 ? "" : ", ").append(bus).append(": ").append(n[0]));
        System.out.println("BusCrashTest: runs put back byte for byte per bus: " + b);
    }
}
