package org.vfiod.daemon.binding;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.vfiod.daemon.sysfs.DeviceName;
import org.vfiod.daemon.sysfs.PciAddress;

/**
 * Issue 14's faults that stall or remove things rather than refuse a write: a modprobe that hangs, and a device
 * that disappears between a crash and the next start.
 */
class KernelStallTest {
    static final DeviceName NIC = PciAddress.require("0000:03:00.0").toDeviceName();
    static final DeviceName GPU = PciAddress.require("0000:01:00.0").toDeviceName();
    static final DeviceName GPU_AUDIO = PciAddress.require("0000:01:00.1").toDeviceName();

    @TempDir
    Path dir;
    SimulatedMachine m;

    @BeforeEach
    void setUp() throws Exception {
        m = new SimulatedMachine(dir, SimulatedMachine.CATCH_ALL);
    }

    @AfterEach
    void tearDown() throws Exception {
        m.sim.clearFaults();
        m.close();
    }

    @Test
    @Timeout(60)
    void aHangingModprobeCostsTheCallerATimeoutInTimeAndTheDeviceEndsOnADriver() throws Exception {
        m.sim.fault("hang-modprobe vfio_pci");
        Duration timeout = Duration.ofMillis(400);
        long t0 = System.nanoTime();
        BindingException.Timeout t = assertThrows(BindingException.Timeout.class,
                () -> m.engine.rebind(NIC, BindOptions.defaults().withTimeout(timeout)));
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        assertTrue(ms < timeout.toMillis() + RebindEngine.REPLY_MARGIN.toMillis() + 500, "the Timeout came after " + ms + " ms");
        assertTrue(ms >= timeout.toMillis(), "the Timeout came after " + ms + " ms, before the caller's timeout");
        assertTrue(t.getMessage().contains("did not finish within 400 ms"), t.getMessage());
        // meanwhile: reads, dry runs and other groups' plans answer at once
        long r0 = System.nanoTime();
        assertEquals("e1000e", m.driver("0000:03:00.0"));
        assertEquals(List.of(), m.engine.users(NIC));
        assertInstanceOf(BindResult.Planned.class, m.engine.rebind(GPU, BindOptions.defaults().withGroup(true).withDryRun(true)));
        assertTrue(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - r0) < 1000, "reads waited for the modprobe");
        // nothing was written while the module loads
        assertFalse(Files.exists(m.sim.root().resolve(".vfiod-sim/writes")), "a write before the module loaded");
        // modprobe returns: the device ends on a driver (the move finishes or is rolled back), and calls work again
        m.sim.clearFaults();
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        BindResult r = null;
        while (r == null && System.nanoTime() < until) {
            try {
                r = m.engine.rebind(NIC, BindOptions.defaults().withTimeout(Duration.ofSeconds(5)));
            } catch (BindingException.Busy stillLoading) {
                Thread.sleep(20);
            }
        }
        assertEquals("vfio-pci", r == null ? null : r.driver());
        assertEquals("vfio-pci", m.driver("0000:03:00.0"));
        assertEquals(0, FaultMatrixTest.journals(m));
    }

    @Test
    void aDeviceRemovedBetweenACrashAndTheNextStartIsForgottenNotRetriedForever() throws Exception {
        m.kernel.load(new org.vfiod.daemon.sysfs.DriverName("vfio_pci"));
        Planner planner = new Planner(m.sysfs, () -> m.index, org.vfiod.daemon.sim.SimulatedHost.scanner(m.sysfs.root(), dir.resolve("host")));
        Plan plan = assertInstanceOf(Planner.Decision.Move.class, planner.rebind(GPU, BindOptions.defaults().withGroup(true))).plan();
        JournalStore journal = new JournalStore(dir.resolve("run/journal"));
        // the GPU moved, then vfiod died; while it was down the audio function was hot-removed
        journal.begin(plan);
        m.sysfs.writeDriverOverride(GPU, java.util.Optional.of(new org.vfiod.daemon.sysfs.DriverName("vfio-pci")));
        m.sysfs.unbind(GPU, new org.vfiod.daemon.sysfs.DriverName("amdgpu"));
        m.sysfs.probe(GPU);
        m.sim.unplug("0000:01:00.1");
        m.close();
        m = new SimulatedMachine(dir, SimulatedMachine.CATCH_ALL, true);
        List<Reconciler.Outcome> out = m.engine.reconcile();
        assertEquals("amdgpu", m.driver("0000:01:00.0"));
        assertEquals(2, out.size(), out.toString());
        assertTrue(out.stream().anyMatch(o -> o.device().equals(GPU_AUDIO) && o.text().startsWith("gone from the machine")), out.toString());
        try (Stream<Path> s = Files.list(journal.dir())) {
            assertEquals(0, s.count(), "the journal is removed: the next start has nothing to do");
        }
        assertEquals(List.of(), m.engine.reconcile());
    }
}
