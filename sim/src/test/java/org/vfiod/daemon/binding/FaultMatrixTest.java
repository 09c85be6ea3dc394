package org.vfiod.daemon.binding;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;
import org.vfiod.daemon.sim.SimulatedKernel;
import org.vfiod.daemon.sim.SimulatedSysfs;
import org.vfiod.daemon.sysfs.DeviceName;
import org.vfiod.daemon.sysfs.PciAddress;

/**
 * Issue 14's faults on the simulated kernel, at every step of a move: each kernel write of a move (found by making
 * the move once without faults) refused with EIO, ENODEV, EBUSY and EINVAL; the vfio driver's probe failing (the
 * verification); then each write of the rollback that follows refused once as well; and the device hot-removed
 * just before each write. Each run must end with every device of the move on its prior driver or the asked one,
 * never driverless, with an error naming the step and the error, no journal left, and the engine taking the same
 * move again. The moves, each bus its own: on PCI a NIC alone, a GPU with its audio function as a group, and the
 * NIC's Restore; on CDX a device to vfio-cdx (its vfio_ alias) and back; on platform a device to vfio-platform (the
 * bus's fallback) and back; on fsl-mc the container dprc.1 to vfio-fsl-mc and back, its three objects following it
 * (removed by the kernel when the container's driver goes, added again by the next driver's scan). The figures are
 * printed per bus.
 */
class FaultMatrixTest {
    static final DeviceName NIC = PciAddress.require("0000:03:00.0").toDeviceName();
    static final DeviceName GPU = PciAddress.require("0000:01:00.0").toDeviceName();
    static final DeviceName GPU_AUDIO = PciAddress.require("0000:01:00.1").toDeviceName();
    static final DeviceName CDX = new DeviceName("cdx", SimulatedSysfs.CDX_NIC);
    static final DeviceName PLATFORM = new DeviceName("platform", SimulatedSysfs.XGMAC);
    static final DeviceName DPRC = new DeviceName("fsl-mc", SimulatedSysfs.DPRC);
    /** The PCI catch-all and vfio_cdx's, as the two modules write them. */
    static final String ALIASES = SimulatedMachine.CATCH_ALL + "alias vfio_cdx:v*d*sv*sd*c* vfio_cdx\n";
    static final List<String> ERRNOS = List.of("EIO", "ENODEV", "EBUSY", "EINVAL");
    static final Map<String, String> STRERROR = Map.of("EIO", "Input/output error", "ENODEV", "No such device",
            "EBUSY", "Device or resource busy", "EINVAL", "Invalid argument");
    static final BindOptions OPTS = BindOptions.defaults().withTimeout(Duration.ofSeconds(5));

    static final AtomicInteger FAULTS = new AtomicInteger();
    static final AtomicInteger RUNS = new AtomicInteger();
    static final List<String> LOST = java.util.Collections.synchronizedList(new ArrayList<>());
    /** Per bus: runs, faults injected, devices lost. */
    static final Map<String, int[]> PER_BUS = new java.util.concurrent.ConcurrentSkipListMap<>();

    static void ran(Move move) {
        RUNS.incrementAndGet();
        PER_BUS.computeIfAbsent(move.bus(), b -> new int[3])[0]++;
    }

    static void injected(Move move, int n) {
        FAULTS.addAndGet(n);
        PER_BUS.computeIfAbsent(move.bus(), b -> new int[3])[1] += n;
    }

    static void lost(Move move, String what) {
        LOST.add(what);
        PER_BUS.computeIfAbsent(move.bus(), b -> new int[3])[2]++;
    }

    @TempDir
    static Path dir;
    static final AtomicInteger MACHINES = new AtomicInteger();

    /** One move: what it starts from, the call, and each device's driver before and the one asked for. */
    record Move(String name, boolean toVfio, DeviceName device, boolean group, Map<String, String> prior, Map<String, String> asked) {
        void prepare(SimulatedMachine m) throws Exception {
            if (!toVfio) m.engine.rebind(device, OPTS.withGroup(group));
        }

        BindResult run(SimulatedMachine m) throws BindingException {
            BindOptions o = OPTS.withGroup(group);
            return toVfio ? m.engine.rebind(device, o) : m.engine.restore(device, o);
        }

        String bus() {
            return device.bus();
        }

        /** The vfio driver of the move: what the devices are on before a Restore, with that override. */
        String vfioDriver() {
            return toVfio ? asked.get(device.name()) : prior.get(device.name());
        }
    }

    static final List<Move> MOVES = List.of(
            new Move("NIC Rebind", true, NIC, false, Map.of(NIC.toString(), "e1000e"), Map.of(NIC.toString(), "vfio-pci")),
            new Move("GPU group Rebind", true, GPU, true,
                    ordered(GPU.toString(), "amdgpu", GPU_AUDIO.toString(), "snd_hda_intel"),
                    ordered(GPU.toString(), "vfio-pci", GPU_AUDIO.toString(), "vfio-pci")),
            new Move("NIC Restore", false, NIC, false, Map.of(NIC.toString(), "vfio-pci"), Map.of(NIC.toString(), "e1000e")),
            new Move("CDX Rebind", true, CDX, false, Map.of(CDX.name(), "cdx-sim-net"), Map.of(CDX.name(), "vfio-cdx")),
            new Move("CDX Restore", false, CDX, false, Map.of(CDX.name(), "vfio-cdx"), Map.of(CDX.name(), "cdx-sim-net")),
            new Move("platform Rebind", true, PLATFORM, false, Map.of(PLATFORM.name(), "calxedaxgmac"),
                    Map.of(PLATFORM.name(), "vfio-platform")),
            new Move("platform Restore", false, PLATFORM, false, Map.of(PLATFORM.name(), "vfio-platform"),
                    Map.of(PLATFORM.name(), "calxedaxgmac")),
            new Move("fsl-mc DPRC Rebind", true, DPRC, false,
                    ordered(DPRC.name(), "fsl_mc_dprc", "dpio.1", "fsl_mc_dpio", "dpmcp.1", "fsl_mc_allocator", "dpni.1", "fsl_dpaa2_eth"),
                    ordered(DPRC.name(), "vfio-fsl-mc", "dpio.1", "vfio-fsl-mc", "dpmcp.1", "vfio-fsl-mc", "dpni.1", "vfio-fsl-mc")),
            new Move("fsl-mc DPRC Restore", false, DPRC, false,
                    ordered(DPRC.name(), "vfio-fsl-mc", "dpio.1", "vfio-fsl-mc", "dpmcp.1", "vfio-fsl-mc", "dpni.1", "vfio-fsl-mc"),
                    ordered(DPRC.name(), "fsl_mc_dprc", "dpio.1", "fsl_mc_dpio", "dpmcp.1", "fsl_mc_allocator", "dpni.1", "fsl_dpaa2_eth")));

    private static Map<String, String> ordered(String... kv) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) m.put(kv[i], kv[i + 1]);
        return m;
    }

    /** A kernel write as the simulator records it: the attribute's file name and the device it is about. */
    record Write(String attr, String device) {
        static Write parse(String line) {
            // PID RELATIVE-PATH VALUE
            String[] t = line.split(" ", 3);
            String attr = Path.of(t[1]).getFileName().toString();
            String value = t.length > 2 ? t[2].strip() : "";
            return new Write(attr, attr.equals("driver_override") ? Path.of(t[1]).getParent().getFileName().toString() : value);
        }

        /** The word the step's error names: "driver_override", "unbind", "probe" (drivers_probe), "bind". */
        String stepWord() {
            return attr.equals("drivers_probe") ? "probe" : attr;
        }
    }

    /**
     * A fresh sample machine (no vfio module loaded yet, as on a booted host), prepared for the move; with the other
     * buses' devices for a move on one of them.
     */
    static SimulatedMachine machine(Move move) throws Exception {
        Path d = dir.resolve("m" + MACHINES.incrementAndGet());
        SimulatedMachine m = move.bus().equals("pci")
                ? new SimulatedMachine(d, SimulatedMachine.CATCH_ALL + SimulatedMachine.HOST_ALIASES)
                : SimulatedMachine.allBuses(d, ALIASES + SimulatedMachine.HOST_ALIASES + SimulatedMachine.OTHER_BUSES_HOST_ALIASES);
        move.prepare(m);
        return m;
    }

    static List<Write> writes(SimulatedMachine m, int from) throws IOException {
        Path log = m.sim.root().resolve(SimulatedKernel.CONTROL_DIR).resolve("writes");
        if (!Files.exists(log)) return List.of();
        List<String> lines = Files.readAllLines(log);
        return lines.subList(Math.min(from, lines.size()), lines.size()).stream().map(Write::parse).toList();
    }

    static int writeCount(SimulatedMachine m) throws IOException {
        Path log = m.sim.root().resolve(SimulatedKernel.CONTROL_DIR).resolve("writes");
        return Files.exists(log) ? Files.readAllLines(log).size() : 0;
    }

    /** The how-manieth write of its attribute and device {@code w} is in {@code ws}, up to index {@code i}. */
    static int occurrence(List<Write> ws, int i) {
        int n = 0;
        for (int k = 0; k <= i; k++) if (ws.get(k).equals(ws.get(i))) n++;
        return n;
    }

    /** The writes of the move without any fault: the steps to fail. */
    static List<Write> cleanWrites(Move move) throws Exception {
        try (SimulatedMachine m = machine(move)) {
            int base = writeCount(m);
            assertInstanceOf(BindResult.Moved.class, move.run(m));
            return writes(m, base);
        }
    }

    @TestFactory
    Stream<DynamicTest> sysfsWritesFailingAtEachStep() throws Exception {
        List<DynamicTest> tests = new ArrayList<>();
        for (Move move : MOVES) {
            List<Write> clean = cleanWrites(move);
            assertFalse(clean.isEmpty(), move.name() + " made no write");
            for (int i = 0; i < clean.size(); i++) {
                Write w = clean.get(i);
                int nth = occurrence(clean, i);
                for (String errno : ERRNOS) {
                    String fault = "fail-write " + w.attr() + " " + errno + " " + w.device() + " nth " + nth;
                    int forwardDone = i;
                    tests.add(DynamicTest.dynamicTest(move.name() + ": " + fault, () -> failedStep(move, w, forwardDone, errno, fault)));
                }
            }
            // the verification: the driver asked for (the vfio driver, or for a Restore the host driver) fails its
            // probe, so drivers_probe returns but nothing binds
            for (String device : move.asked().keySet()) {
                String fault = "probe-fail " + move.asked().get(device) + " " + device;
                tests.add(DynamicTest.dynamicTest(move.name() + ": " + fault, () -> failedVerification(move, device, fault)));
            }
        }
        return tests.stream();
    }

    @TestFactory
    Stream<DynamicTest> aDeviceHotRemovedBeforeEachStep() throws Exception {
        List<DynamicTest> tests = new ArrayList<>();
        for (Move move : MOVES) {
            List<Write> clean = cleanWrites(move);
            for (int i = 0; i < clean.size(); i++) {
                Write w = clean.get(i);
                String fault = "remove-on-write " + w.attr() + " " + w.device() + " nth " + occurrence(clean, i);
                tests.add(DynamicTest.dynamicTest(move.name() + ": " + fault, () -> hotRemoved(move, w.device(), fault)));
            }
        }
        return tests.stream();
    }

    /**
     * The device vanishes just before a write: the move fails naming it, the other devices are back on their prior
     * driver, no journal is left for a device that no longer exists, and the engine takes the next call.
     */
    private static void hotRemoved(Move move, String removed, String fault) throws Exception {
        try (SimulatedMachine m = machine(move)) {
            m.sim.fault(fault);
            BindingException.Failed e = assertThrows(BindingException.Failed.class, () -> move.run(m), fault);
            injected(move, 1);
            checkHotRemoved(m, move, removed, fault, e.getMessage());
        }
    }

    /**
     * The device vanishes just before a write of the rollback that follows a refused write (EIO): the rollback
     * puts back the others and forgets the one that is gone.
     */
    @TestFactory
    Stream<DynamicTest> aDeviceHotRemovedDuringTheRollback() throws Exception {
        List<DynamicTest> tests = new ArrayList<>();
        for (Move move : MOVES) {
            List<Write> clean = cleanWrites(move);
            for (int i = 0; i < clean.size(); i++) {
                Write w = clean.get(i);
                String fault = "fail-write " + w.attr() + " EIO " + w.device() + " nth " + occurrence(clean, i);
                List<Write> after;
                try (SimulatedMachine m = machine(move)) {
                    int base = writeCount(m);
                    m.sim.fault(fault);
                    assertThrows(BindingException.Failed.class, () -> move.run(m));
                    after = writes(m, base);
                }
                for (int j = i; j < after.size(); j++) {
                    Write r = after.get(j);
                    String removal = "remove-on-write " + r.attr() + " " + r.device() + " nth " + (occurrence(after, j) + (r.equals(w) ? 1 : 0));
                    tests.add(DynamicTest.dynamicTest(move.name() + ": " + fault + " + " + removal, () -> {
                        try (SimulatedMachine m = machine(move)) {
                            m.sim.fault(fault).fault(removal);
                            BindingException.Failed e = assertThrows(BindingException.Failed.class, () -> move.run(m));
                            injected(move, 2);
                            assertTrue(m.sim.kernelLog().contains("hot-removed"), "the removal was not hit: " + removal);
                            checkHotRemoved(m, move, r.device(), fault + " + " + removal, e.getMessage());
                        }
                    }));
                }
            }
        }
        return tests.stream();
    }

    private static void checkHotRemoved(SimulatedMachine m, Move move, String removed, String fault, String msg) throws Exception {
        ran(move);
        assertFalse(m.sysfs.exists(m.name(removed)), fault + ": the device is gone");
        assertTrue(msg.contains(removed) && msg.contains("no longer present"), fault + ": " + msg);
        assertFalse(msg.contains("rollback failed"), fault + ": " + msg);
        for (Map.Entry<String, String> d : move.prior().entrySet()) {
            // a container removed takes its objects with it
            boolean containerGone = removed.equals(move.device().name()) && move.bus().equals("fsl-mc");
            if (d.getKey().equals(removed) || containerGone) continue;
            String now = m.driverOrGone(d.getKey());
            if (!now.equals(d.getValue())) lost(move, fault + ": " + d.getKey() + " on '" + now + "'");
            assertEquals(d.getValue(), now, fault + ": " + d.getKey() + " is back on its prior driver; " + msg);
        }
        assertEquals(0, journals(m), fault + ": no journal names the removed device");
        m.sim.clearFaults();
        // the engine answers: the same move on what is left, or another group's
        if (m.sysfs.exists(move.device())) {
            assertInstanceOf(BindResult.Moved.class, move.run(m), fault + ": the same move on what is left");
        } else {
            assertInstanceOf(BindResult.Moved.class, otherMove(m, move), fault + ": another device's move");
        }
    }

    /** A move of devices {@code move} does not touch: the engine still answers. */
    private static BindResult otherMove(SimulatedMachine m, Move move) throws BindingException {
        return move.prior().containsKey(NIC.toString()) ? m.engine.rebind(GPU, OPTS.withGroup(true)) : m.engine.rebind(NIC, OPTS);
    }

    /** A forward write refused; then each write of the rollback that follows refused once too. */
    private static void failedStep(Move move, Write w, int forwardDone, String errno, String fault) throws Exception {
        List<Write> rollbackWrites;
        try (SimulatedMachine m = machine(move)) {
            int base = writeCount(m);
            m.sim.fault(fault);
            BindingException.Failed e = assertThrows(BindingException.Failed.class, () -> move.run(m), fault);
            injected(move, 1);
            String msg = e.getMessage();
            assertTrue(msg.contains(w.stepWord()) && msg.contains(w.device()) && msg.contains(STRERROR.get(errno)),
                    fault + ": the error must name the step, the device and the error: " + msg);
            rollbackWrites = writes(m, base);
            assertEnd(m, move, fault, msg);
        }
        // the rollback's writes: every write after the forward ones that succeeded
        for (int j = forwardDone; j < rollbackWrites.size(); j++) {
            Write r = rollbackWrites.get(j);
            int nth = occurrence(rollbackWrites, j) + (r.equals(w) ? 1 : 0);
            String second = "fail-write " + r.attr() + " " + errno + " " + r.device() + " nth " + nth;
            try (SimulatedMachine m = machine(move)) {
                m.sim.fault(fault).fault(second);
                BindingException.Failed e = assertThrows(BindingException.Failed.class, () -> move.run(m), fault + " + " + second);
                injected(move, 2);
                assertEquals(2, refusals(m), "the rollback's write was refused too: " + second);
                assertEnd(m, move, fault + " + " + second, e.getMessage());
            }
        }
    }

    private static void failedVerification(Move move, String device, String fault) throws Exception {
        List<Write> writesAfter;
        int baseWrites;
        try (SimulatedMachine m = machine(move)) {
            baseWrites = writeCount(m);
            m.sim.fault(fault);
            BindingException.Failed e = assertThrows(BindingException.Failed.class, () -> move.run(m), fault);
            injected(move, 1);
            assertTrue(e.getMessage().contains(device), fault + ": " + e.getMessage());
            assertTrue(e.getMessage().contains(move.asked().get(device) + (move.toVfio() ? " did not bind it" : " refused it")),
                    fault + ": " + e.getMessage());
            writesAfter = writes(m, baseWrites);
            assertEnd(m, move, fault, e.getMessage());
        }
        // the rollback after a failed verification, its writes refused once with EIO each
        List<Write> forward = cleanWritesUpTo(move, device);
        for (int j = forward.size(); j < writesAfter.size(); j++) {
            Write r = writesAfter.get(j);
            String second = "fail-write " + r.attr() + " EIO " + r.device() + " nth " + occurrence(writesAfter, j);
            try (SimulatedMachine m = machine(move)) {
                m.sim.fault(fault).fault(second);
                BindingException.Failed e = assertThrows(BindingException.Failed.class, () -> move.run(m), fault + " + " + second);
                injected(move, 2);
                assertEquals(1, refusals(m), "the rollback's write was refused: " + second);
                assertEnd(m, move, fault + " + " + second, e.getMessage());
            }
        }
    }

    static long refusals(SimulatedMachine m) throws IOException {
        return m.sim.kernelLog().lines().filter(l -> l.contains("(injected)")).count();
    }

    /**
     * The forward writes of a move up to the probe of {@code device}: what happens before its verification. A
     * container's object is probed by the kernel, in the container's probe.
     */
    private static List<Write> cleanWritesUpTo(Move move, String device) throws Exception {
        List<Write> clean = cleanWrites(move);
        for (String probed : List.of(device, move.device().name())) {
            for (int i = 0; i < clean.size(); i++) {
                if (clean.get(i).equals(new Write("drivers_probe", probed))) return clean.subList(0, i + 1);
            }
        }
        throw new AssertionError(move.name() + " never probes " + device + ": " + clean);
    }

    /**
     * No device lost: each on its prior driver (exactly as before, override too, when the error says it was rolled
     * back) or the asked one, never driverless; no journal; and the same move, without faults, works.
     */
    private static void assertEnd(SimulatedMachine m, Move move, String fault, String msg) throws Exception {
        ran(move);
        for (Map.Entry<String, String> d : move.prior().entrySet()) {
            String now = m.driverOrGone(d.getKey());
            boolean fine = now.equals(d.getValue()) || now.equals(move.asked().get(d.getKey()));
            if (!fine) lost(move, fault + ": " + d.getKey() + " on '" + now + "'");
            assertTrue(fine, fault + ": " + d.getKey() + " is on '" + now + "', neither " + d.getValue() + " nor "
                    + move.asked().get(d.getKey()) + "; " + msg);
            if (msg.contains("rolled back")) {
                assertEquals(d.getValue(), now, fault + ": rolled back, so " + d.getKey() + " is on its prior driver; " + msg);
                String override = m.override(d.getKey());
                String priorOverride = move.toVfio() ? "" : move.vfioDriver();
                assertEquals(priorOverride, override, fault + ": the prior driver_override of " + d.getKey() + "; " + msg);
            }
        }
        assertFalse(msg.contains("rollback failed"), fault + ": " + msg);
        assertEquals(0, journals(m), fault + ": the journal is gone");
        m.sim.clearFaults();
        BindResult again = move.run(m);
        assertInstanceOf(BindResult.Moved.class, again, fault + ": the same move afterwards");
        for (Map.Entry<String, String> d : move.asked().entrySet()) assertEquals(d.getValue(), m.driverOrGone(d.getKey()), fault + ": " + d.getKey());
    }

    static long journals(SimulatedMachine m) throws IOException {
        Path j = m.sim.root().getParent().resolve("run/journal");
        if (!Files.isDirectory(j)) return 0;
        try (Stream<Path> s = Files.list(j)) {
            return s.filter(p -> p.getFileName().toString().endsWith(".journal")).count();
        }
    }

    @AfterAll
    static void figures() {
        StringBuilder perBus = new StringBuilder();
        PER_BUS.forEach((bus, f) -> perBus.append(perBus.length() == 0 ? "" : "; ").append(bus).append(": ").append(f[0])
                .append(" runs, ").append(f[1]).append(" faults, ").append(f[2]).append(" lost"));
        System.out.println("FaultMatrixTest: " + RUNS.get() + " runs, faults injected: " + FAULTS.get() + ", devices lost: " + LOST.size()
                + " (" + perBus + ")");
        assertEquals(List.of(), LOST);
    }
}
