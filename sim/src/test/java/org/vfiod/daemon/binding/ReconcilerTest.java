package org.vfiod.daemon.binding;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vfiod.daemon.sysfs.DeviceName;
import org.vfiod.daemon.sysfs.DriverName;
import org.vfiod.daemon.sysfs.PciAddress;

/**
 * A vfiod killed half-way through a move, as the journal and the kernel show it at the next start: the reconcile
 * puts every device of an unfinished move back, keeps a finished one, and never acts on a journal it cannot read.
 * The crash is made by hand: the plan journaled, then some of its writes made, then a new engine on the same
 * folders.
 */
class ReconcilerTest {
    static final DeviceName NIC = PciAddress.require("0000:03:00.0").toDeviceName();
    static final DeviceName GPU = PciAddress.require("0000:01:00.0").toDeviceName();
    static final DeviceName GPU_AUDIO = PciAddress.require("0000:01:00.1").toDeviceName();
    static final DeviceName IGPU = PciAddress.require("0000:00:02.0").toDeviceName();
    static final BindOptions OPTS = BindOptions.defaults().withTimeout(Duration.ofSeconds(5));

    @TempDir
    Path dir;
    SimulatedMachine m;
    JournalStore journal;

    @BeforeEach
    void setUp() throws Exception {
        m = new SimulatedMachine(dir, SimulatedMachine.CATCH_ALL);
        journal = new JournalStore(dir.resolve("run/journal"));
        // the module is loaded already, so the plan names the driver
        m.kernel.load(new DriverName("vfio_pci"));
    }

    @AfterEach
    void tearDown() {
        m.close();
    }

    private Plan plan(DeviceName address, BindOptions options, boolean toVfio) throws Exception {
        Planner planner = new Planner(m.sysfs, () -> m.index, org.vfiod.daemon.sim.SimulatedHost.scanner(m.sysfs.root(), dir.resolve("host")));
        Planner.Decision d = toVfio ? planner.rebind(address, options) : planner.restore(address, options);
        return assertInstanceOf(Planner.Decision.Move.class, d).plan();
    }

    /** Journals the plan and makes its first {@code writes} writes, as the executor would, then "dies". */
    private void crashAfter(Plan plan, int writes) throws Exception {
        JournalStore.Entry entry = journal.begin(plan);
        List<Step> steps = plan.steps();
        for (int i = 0; i < writes; i++) {
            Step s = steps.get(i);
            if (s instanceof Step.SetOverride o) m.sysfs.writeDriverOverride(o.device(), o.driver());
            else if (s instanceof Step.Unbind u) m.sysfs.unbind(u.device(), u.from());
            else if (s instanceof Step.Probe p) m.sysfs.probe(p.device());
            else if (s instanceof Step.ReleaseFramebuffer f) m.sysfs.writeFramebuffer(f.framebuffer(), false);
            // the last write's record may or may not have reached the disk: leave it out, as a kill between the two would
            if (i < writes - 1) entry.done(s);
        }
    }

    private List<Reconciler.Outcome> restart() {
        m.close();
        try {
            m = new SimulatedMachine(dir, SimulatedMachine.CATCH_ALL, true);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
        return m.engine.reconcile();
    }

    private long journals() throws Exception {
        if (!Files.isDirectory(journal.dir())) return 0;
        try (Stream<Path> s = Files.list(journal.dir())) {
            return s.count();
        }
    }

    @Test
    void anInterruptedRebindIsRolledBackAfterEveryWrite() throws Exception {
        Plan plan = plan(NIC, OPTS, true);
        assertEquals(3, plan.steps().size(), plan.steps().toString());
        for (int writes = 0; writes <= plan.steps().size(); writes++) {
            TreeMap<String, String> before = m.snapshot();
            crashAfter(plan, writes);
            List<Reconciler.Outcome> out = restart();
            assertEquals("", SimulatedMachine.diff(before, m.snapshot()), "after " + writes + " writes");
            assertEquals("e1000e", m.driver("0000:03:00.0"));
            assertEquals("", m.override("0000:03:00.0"));
            assertEquals(1, out.size());
            assertTrue(out.get(0).text().startsWith("put back on e1000e after an interrupted Rebind of 0000:03:00.0"), out.get(0).text());
            assertEquals(0, journals());
        }
    }

    @Test
    void anInterruptedGroupRebindPutsBothFunctionsBack() throws Exception {
        Plan plan = plan(GPU, OPTS.withGroup(true), true);
        assertEquals(6, plan.steps().size());
        for (int writes : new int[] {2, 4, 5, 6}) {
            TreeMap<String, String> before = m.snapshot();
            crashAfter(plan, writes);
            restart();
            assertEquals("", SimulatedMachine.diff(before, m.snapshot()), "after " + writes + " writes");
            assertEquals("amdgpu", m.driver("0000:01:00.0"));
            assertEquals("snd_hda_intel", m.driver("0000:01:00.1"));
        }
    }

    @Test
    void anInterruptedRestoreGoesBackToVfio() throws Exception {
        m.engine.rebind(NIC, OPTS);
        Plan plan = plan(NIC, OPTS, false);
        for (int writes = 1; writes <= plan.steps().size(); writes++) {
            TreeMap<String, String> before = m.snapshot();
            crashAfter(plan, writes);
            restart();
            assertEquals("", SimulatedMachine.diff(before, m.snapshot()), "after " + writes + " writes");
            assertEquals("vfio-pci", m.driver("0000:03:00.0"));
            assertEquals("vfio-pci", m.override("0000:03:00.0"));
        }
    }

    @Test
    void anInterruptedForcedBootGpuRebindGivesTheFramebuffersBack() throws Exception {
        Plan plan = plan(IGPU, OPTS.withForce(true), true);
        assertEquals(2, plan.framebuffers().size());
        TreeMap<String, String> before = m.snapshot();
        crashAfter(plan, 4);
        assertEquals("0", Files.readString(m.sim.root().resolve("class/vtconsole/vtcon1/bind")).strip());
        restart();
        assertEquals("", SimulatedMachine.diff(before, m.snapshot()));
    }

    @Test
    void aCompletedMoveWhoseRecordWasLeftStaysAndGetsAConsistentOverride() throws Exception {
        Plan plan = plan(NIC, OPTS, true);
        crashAfter(plan, 3);
        JournalStore.Entry e = journal.resume(journal.dir().resolve(JournalStore.fileName(plan.groupKey())),
                new JournalRecord(plan, List.of(), false));
        e.complete();
        // someone cleared the override after the move completed
        m.sysfs.writeDriverOverride(NIC, Optional.empty());
        List<Reconciler.Outcome> out = restart();
        assertEquals("vfio-pci", m.driver("0000:03:00.0"));
        assertEquals("vfio-pci", m.override("0000:03:00.0"));
        assertTrue(out.get(0).text().contains("kept on vfio-pci"), out.get(0).text());
        assertEquals(0, journals());
    }

    @Test
    void aDeviceJournalOfTheEarlierNamingIsStillReconciled() throws Exception {
        // what the version before left for a device without a group: "group device NAME", in device-NAME.journal
        // with ':' as '_'; the file name is no longer made, but such a file is read and rolled back at start
        Plan plan = plan(NIC, OPTS, true);
        TreeMap<String, String> before = m.snapshot();
        crashAfter(plan, 2);
        Path current = journal.dir().resolve(JournalStore.fileName(plan.groupKey()));
        Path old = journal.dir().resolve("device-0000_03_00.0.journal");
        Files.writeString(old, Files.readString(current).replace("group IOMMU group 3\n", "group device 0000:03:00.0\n"));
        Files.delete(current);
        assertEquals("device 0000:03:00.0", JournalRecord.decode(Files.readString(old)).plan().groupKey());
        List<Reconciler.Outcome> out = restart();
        assertEquals("", SimulatedMachine.diff(before, m.snapshot()));
        assertEquals(1, out.size());
        assertTrue(out.get(0).text().startsWith("put back on e1000e after an interrupted Rebind of 0000:03:00.0"), out.get(0).text());
        assertEquals(0, journals());
    }

    @Test
    void anUnreadableJournalIsSetAsideAndNothingIsWritten() throws Exception {
        Plan plan = plan(NIC, OPTS, true);
        crashAfter(plan, 2);
        Path file = journal.dir().resolve(JournalStore.fileName(plan.groupKey()));
        Files.writeString(file, Files.readString(file).replace("device pci 0000:03:00.0", "device pci 0000:03:00.Z"));
        Path tmp = Files.writeString(journal.dir().resolve(".group-3.journal12345.tmp"), "vfiod-journal 1\ndirection TO_V");
        TreeMap<String, String> torn = m.snapshot();
        String kernelLog = m.sim.kernelLog();
        assertEquals(List.of(), restart());
        assertEquals("", SimulatedMachine.diff(torn, m.snapshot()));
        assertEquals(kernelLog, m.sim.kernelLog());
        assertFalse(Files.exists(file));
        assertFalse(Files.exists(tmp), "a torn temporary file is removed");
        try (Stream<Path> s = Files.list(journal.dir())) {
            assertTrue(s.anyMatch(p -> p.getFileName().toString().startsWith("group-3.journal.unreadable-")));
        }
    }

    @Test
    void theJournalHoldsThePlanWhileAMoveRunsAndIsGoneAfter() throws Exception {
        m.sim.fault("hang-unbind 0000:03:00.0");
        BindingException.Timeout t = org.junit.jupiter.api.Assertions.assertThrows(BindingException.Timeout.class,
                () -> m.engine.rebind(NIC, OPTS.withTimeout(Duration.ofMillis(300))));
        assertTrue(t.getMessage().contains("put 0000:03:00.0 back as it was"), t.getMessage());
        Path file = journal.dir().resolve("group-3.journal");
        JournalRecord r = JournalRecord.decode(Files.readString(file));
        assertEquals(new Prior(Optional.of("e1000e"), Optional.empty()), r.plan().devices().get(0).prior());
        assertEquals(List.of("set driver_override of 0000:03:00.0 to vfio-pci"), r.done());
        assertFalse(r.complete());
        // the unbind returns: the group is put back as it was before anyone else gets it, and the record goes
        m.sim.clearFaults();
        long until = System.nanoTime() + 5_000_000_000L;
        while (Files.exists(file) && System.nanoTime() < until) Thread.sleep(20);
        assertFalse(Files.exists(file));
        assertEquals("e1000e", m.driver("0000:03:00.0"));
        assertEquals("", m.override("0000:03:00.0"));
        // the record goes just before the group opens again
        BindResult again = null;
        while (again == null && System.nanoTime() < until) {
            try {
                again = m.engine.rebind(NIC, OPTS);
            } catch (BindingException.Busy stillClosing) {
                Thread.sleep(20);
            }
        }
        assertEquals("vfio-pci", again.driver());
        assertEquals(0, journals());
    }

    @Test
    void aRecordRoundTripsAndATornOneIsRefused() throws Exception {
        Plan plan = plan(GPU, OPTS.withGroup(true), true);
        JournalRecord r = new JournalRecord(plan, List.of("set driver_override of 0000:01:00.0 to vfio-pci"), false);
        assertEquals(r, JournalRecord.decode(r.encode()));
        String text = r.encode();
        for (String bad : List.of(text.substring(0, text.length() - 5), text.replace("vfiod-journal 1", "vfiod-journal 2"),
                text.replace(" driver amdgpu ", " driver ../amdgpu "), text.replace("device pci", "device usb"),
                text.replace("device pci 0000:01:00.0", "device pci ../../0000:01:00.0"), text.replace("requested pci 0000:01:00.0", "requested pci eth0"),
                text + "rm -rf /\n")) {
            org.junit.jupiter.api.Assertions.assertThrows(JournalRecord.Unreadable.class, () -> JournalRecord.decode(bad), bad);
        }
        assertEquals(new DriverName("vfio-pci"), plan.devices().get(1).targetDriver().orElseThrow());
    }
}
