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
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vfiod.daemon.sysfs.DeviceName;
import org.vfiod.daemon.sysfs.PciAddress;

class RebindEngineTest {
    static final DeviceName NIC = PciAddress.require("0000:03:00.0").toDeviceName();
    static final DeviceName GPU = PciAddress.require("0000:01:00.0").toDeviceName();
    static final DeviceName GPU_AUDIO = PciAddress.require("0000:01:00.1").toDeviceName();
    static final DeviceName IGPU = PciAddress.require("0000:00:02.0").toDeviceName();

    @TempDir
    Path dir;
    SimulatedMachine m;

    @BeforeEach
    void setUp() throws Exception {
        m = new SimulatedMachine(dir, SimulatedMachine.CATCH_ALL);
    }

    @AfterEach
    void tearDown() {
        m.close();
    }

    private static BindOptions opts() {
        return BindOptions.defaults().withTimeout(Duration.ofSeconds(5));
    }

    @Test
    void rebindLoadsTheModuleAndBindsTheDriverNameNotTheModuleName() throws Exception {
        assertFalse(m.sysfs.moduleLoaded(new org.vfiod.daemon.sysfs.DriverName("vfio_pci")));
        BindResult r = m.engine.rebind(NIC, opts());
        BindResult.Moved moved = assertInstanceOf(BindResult.Moved.class, r);
        assertEquals("vfio-pci", moved.driver());
        assertEquals(List.of(NIC), moved.devices());
        assertEquals("vfio-pci", m.driver("0000:03:00.0"));
        assertEquals("vfio-pci", m.override("0000:03:00.0"));
        assertTrue(m.device("0000:03:00.0").vfioDev());
        assertTrue(m.sim.kernelLog().contains("module vfio_pci loaded"));
    }

    @Test
    void rebindOfADeviceAlreadyOnItsVfioDriverWritesNothing() throws Exception {
        m.engine.rebind(NIC, opts());
        TreeMap<String, String> before = m.snapshot();
        String log = m.sim.kernelLog();
        BindResult r = m.engine.rebind(NIC, opts());
        assertEquals(new BindResult.Unchanged("vfio-pci"), r);
        assertEquals(before, m.snapshot());
        assertEquals(log, m.sim.kernelLog());
    }

    @Test
    void restorePutsTheHostDriverBackAndClearsTheOverride() throws Exception {
        m.engine.rebind(NIC, opts());
        BindResult r = m.engine.restore(NIC, opts());
        assertEquals("e1000e", r.driver());
        assertEquals("e1000e", m.driver("0000:03:00.0"));
        assertEquals("", m.override("0000:03:00.0"));
        assertFalse(m.device("0000:03:00.0").vfioDev());
    }

    @Test
    void restoreOfADeviceThatNoHostDriverMatchesFailsAndPutsItBackOnVfio() throws Exception {
        // the NIC's host driver is gone (say, blacklisted): the kernel would leave the device without a driver
        m.engine.rebind(NIC, opts());
        TreeMap<String, String> before = m.snapshot();
        Files.writeString(m.sim.root().resolve(".vfiod-sim/drivers"),
                Files.readString(m.sim.root().resolve(".vfiod-sim/drivers")).replace("e1000e e1000e 8086:10d3", "e1000e e1000e 8086:ffff"));
        BindingException.Failed e = assertThrows(BindingException.Failed.class, () -> m.engine.restore(NIC, opts()));
        assertTrue(e.getMessage().startsWith("bind 0000:03:00.0 to a host driver failed: no host driver matches it"), e.getMessage());
        assertTrue(e.getMessage().contains("rolled back: 0000:03:00.0 on vfio-pci"), e.getMessage());
        assertEquals("vfio-pci", m.driver("0000:03:00.0"));
        assertEquals("vfio-pci", m.override("0000:03:00.0"));
        assertEquals(before, m.snapshot());
        assertNoJournal();
    }

    @Test
    void restoreWhoseHostDriverRefusesTheDeviceFailsNamingItAndPutsItBackOnVfio() throws Exception {
        try (SimulatedMachine h = new SimulatedMachine(dir.resolve("host-aliases"), SimulatedMachine.CATCH_ALL + SimulatedMachine.HOST_ALIASES)) {
            h.engine.rebind(NIC, opts());
            TreeMap<String, String> before = h.snapshot();
            h.sim.fault("probe-fail e1000e");
            BindingException.Failed e = assertThrows(BindingException.Failed.class, () -> h.engine.restore(NIC, opts()));
            assertTrue(e.getMessage().startsWith("bind 0000:03:00.0 to a host driver failed: e1000e refused it (its probe failed"),
                    e.getMessage());
            assertTrue(e.getMessage().contains("rolled back: 0000:03:00.0 on vfio-pci"), e.getMessage());
            assertTrue(h.sim.kernelLog().contains("e1000e 0000:03:00.0: probe failed"), h.sim.kernelLog());
            assertEquals("vfio-pci", h.driver("0000:03:00.0"));
            assertEquals("vfio-pci", h.override("0000:03:00.0"));
            assertTrue(h.device("0000:03:00.0").vfioDev());
            assertEquals(before, h.snapshot());
            assertFalse(Files.list(dir.resolve("host-aliases/run/journal")).findAny().isPresent(), "a journal was left");
            // once the driver takes it again, the same Restore works
            h.sim.clearFaults();
            assertEquals("e1000e", h.engine.restore(NIC, opts()).driver());
        }
    }

    @Test
    void restoreOfAGroupWhoseOneHostDriverRefusesPutsTheWholeGroupBackOnVfio() throws Exception {
        m.engine.rebind(GPU, opts().withGroup(true));
        TreeMap<String, String> before = m.snapshot();
        m.sim.fault("probe-fail snd_hda_intel");
        BindingException.Failed e = assertThrows(BindingException.Failed.class, () -> m.engine.restore(GPU, opts().withGroup(true)));
        assertTrue(e.getMessage().startsWith("bind 0000:01:00.1 to a host driver failed"), e.getMessage());
        assertEquals("vfio-pci", m.driver("0000:01:00.0"));
        assertEquals("vfio-pci", m.driver("0000:01:00.1"));
        assertEquals(before, m.snapshot());
    }

    @Test
    void restoreOfADeviceThatHadNoDriverMayEndWithoutOne() throws Exception {
        // driverless before the call (someone's unbind), and its host driver refuses it: "no driver" is where it was
        m.sysfs.unbind(NIC, new org.vfiod.daemon.sysfs.DriverName("e1000e"));
        m.sim.fault("probe-fail e1000e");
        BindResult.Moved r = assertInstanceOf(BindResult.Moved.class, m.engine.restore(NIC, opts()));
        assertEquals("", r.driver());
        assertTrue(r.steps().get(0).contains("no driver (none took it; it had none before)"), r.steps().toString());
        assertEquals("", m.driver("0000:03:00.0"));
        assertEquals("", m.override("0000:03:00.0"));
        assertNoJournal();
    }

    @Test
    void aDryRunAnswersWhatTheCallItPreviewsThenAnswers() throws Exception {
        try (SimulatedMachine h = new SimulatedMachine(dir.resolve("dry"), SimulatedMachine.CATCH_ALL + SimulatedMachine.HOST_ALIASES)) {
            // vfio_pci loaded once: before, a dry run can only name the module (vfio_pci), not the driver it registers
            h.engine.rebind(NIC, opts());
            h.engine.restore(NIC, opts());
            for (DeviceName d : List.of(NIC, GPU)) {
                BindOptions o = opts().withGroup(d.equals(GPU));
                BindResult.Planned dryRebind = assertInstanceOf(BindResult.Planned.class, h.engine.rebind(d, o.withDryRun(true)));
                BindResult.Moved rebind = assertInstanceOf(BindResult.Moved.class, h.engine.rebind(d, o));
                assertEquals(rebind.driver(), dryRebind.driver(), "Rebind of " + d);
                for (var t : dryRebind.targets().entrySet()) assertEquals(h.driver(t.getKey().name()), t.getValue(), "Rebind of " + t.getKey());

                BindResult.Planned dryRestore = assertInstanceOf(BindResult.Planned.class, h.engine.restore(d, o.withDryRun(true)));
                BindResult.Moved restore = assertInstanceOf(BindResult.Moved.class, h.engine.restore(d, o));
                assertEquals(restore.driver(), dryRestore.driver(), "Restore of " + d);
                assertFalse(restore.driver().isEmpty() || restore.driver().equals("vfio-pci"), restore.driver());
                assertEquals(restore.devices(), List.copyOf(dryRestore.targets().keySet()), "Restore of " + d);
                for (var t : dryRestore.targets().entrySet()) assertEquals(h.driver(t.getKey().name()), t.getValue(), "Restore of " + t.getKey());
            }
        }
    }

    private void assertNoJournal() throws java.io.IOException {
        Path journal = dir.resolve("run/journal");
        if (!Files.isDirectory(journal)) return;
        try (var files = Files.list(journal)) {
            assertFalse(files.anyMatch(f -> !f.getFileName().toString().startsWith(".")), "a journal was left");
        }
    }

    @Test
    void restoreOfADriverlessDeviceProbesItAgain() throws Exception {
        // someone else's unbind (or a hung one that returned) left the NIC without a driver and without an override
        m.sysfs.unbind(NIC, new org.vfiod.daemon.sysfs.DriverName("e1000e"));
        assertEquals("", m.driver("0000:03:00.0"));
        BindResult.Moved r = assertInstanceOf(BindResult.Moved.class, m.engine.restore(NIC, opts()));
        assertEquals("e1000e", r.driver());
        assertEquals("e1000e", m.driver("0000:03:00.0"));
    }

    @Test
    @org.junit.jupiter.api.Timeout(30)
    void aSecondCallOnAGroupWhoseWriteHangsIsBusyAtOnceThoughItsDeviceCannotBeRead() throws Exception {
        m.sim.fault("hang-unbind 0000:03:00.0");
        assertThrows(BindingException.Timeout.class, () -> m.engine.rebind(NIC, opts().withTimeout(Duration.ofMillis(300))));
        // as on the real kernel, the device's lock is held while its remove() runs: its driver_override blocks readers
        Path override = m.sim.root().resolve("devices/pci0000:00/0000:03:00.0/driver_override");
        String was = Files.readString(override);
        Files.delete(override);
        new ProcessBuilder("mkfifo", override.toString()).inheritIO().start().waitFor();
        try {
            long t0 = System.nanoTime();
            BindingException.Busy busy = assertThrows(BindingException.Busy.class, () -> m.engine.restore(NIC, opts()));
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            assertTrue(busy.getMessage().contains("IOMMU group 3 is blocked"), busy.getMessage());
            assertTrue(ms < 1000, "Busy took " + ms + " ms");
        } finally {
            Files.delete(override);
            Files.writeString(override, was);
            m.sim.clearFaults();
        }
    }

    @Test
    @org.junit.jupiter.api.Timeout(30)
    void theCallerGetsTimeoutInTimeEvenWhenReadingTheDeviceBlocks() throws Exception {
        // the kernel holds a device's lock while its remove() or probe() runs, and reading driver_override waits for
        // it; a FIFO in its place blocks the same way
        Path override = m.sim.root().resolve("devices/pci0000:00/0000:03:00.0/driver_override");
        Files.delete(override);
        new ProcessBuilder("mkfifo", override.toString()).inheritIO().start().waitFor();
        long t0 = System.nanoTime();
        BindingException.Timeout t = assertThrows(BindingException.Timeout.class,
                () -> m.engine.restore(NIC, opts().withTimeout(Duration.ofMillis(300))));
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        assertTrue(ms < 300 + RebindEngine.REPLY_MARGIN.toMillis() + 700, "the reply took " + ms + " ms");
        assertTrue(t.getMessage().contains("did not answer within 300 ms"), t.getMessage());
        // the kernel lets go: the blocked read returns, the operation ends by itself, and the engine takes calls again
        try (var w = Files.newBufferedWriter(override)) {
            w.write("(null)\n");
        }
        Files.delete(override);
        Files.writeString(override, "(null)\n");
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        BindResult r = null;
        while (r == null && System.nanoTime() < until) {
            try {
                r = m.engine.rebind(NIC, opts());
            } catch (BindingException.Busy stillRunning) {
                Thread.sleep(20);
            }
        }
        assertEquals("vfio-pci", r.driver());
    }

    @Test
    void restoreOfADeviceOnItsHostDriverIsUnchanged() throws Exception {
        TreeMap<String, String> before = m.snapshot();
        assertEquals(new BindResult.Unchanged("e1000e"), m.engine.restore(NIC, opts()));
        assertEquals(before, m.snapshot());
    }

    @Test
    void failedProbeRollsBackToTheOldDriverAndNamesTheStep() throws Exception {
        m.sim.fault("probe-fail vfio-pci");
        TreeMap<String, String> before = m.snapshot();
        BindingException.Failed e = assertThrows(BindingException.Failed.class, () -> m.engine.rebind(NIC, opts()));
        assertTrue(e.getMessage().startsWith("bind 0000:03:00.0 to vfio-pci failed: vfio-pci did not bind it"), e.getMessage());
        assertTrue(e.getMessage().contains("rolled back: 0000:03:00.0 on e1000e"), e.getMessage());
        assertEquals("e1000e", m.driver("0000:03:00.0"));
        assertEquals("", m.override("0000:03:00.0"));
        TreeMap<String, String> after = m.snapshot();
        // loading the module is the one thing a rollback leaves: unloading could hurt other users of it
        after.keySet().removeIf(k -> k.startsWith("module/vfio_pci") || k.startsWith("bus/pci/drivers/vfio-pci"));
        assertEquals(before, after);
    }

    @Test
    void whenTheRollbackFailsTooBothErrorsAreReported() throws Exception {
        m.sim.fault("probe-fail vfio-pci").fault("probe-fail e1000e");
        BindingException.Failed e = assertThrows(BindingException.Failed.class, () -> m.engine.rebind(NIC, opts()));
        assertTrue(e.getMessage().contains("vfio-pci did not bind it"), e.getMessage());
        assertTrue(e.getMessage().contains("rollback failed too"), e.getMessage());
        assertTrue(e.getMessage().contains("0000:03:00.0"), e.getMessage());
    }

    @Test
    void aGroupWithAnotherEndpointOnAHostDriverIsNotViable() throws Exception {
        TreeMap<String, String> before = m.snapshot();
        BindingException.GroupNotViable e = assertThrows(BindingException.GroupNotViable.class, () -> m.engine.rebind(GPU, opts()));
        assertTrue(e.getMessage().contains("0000:01:00.1 (snd_hda_intel)"), e.getMessage());
        assertFalse(e.getMessage().contains("0000:00:01.0"), "the bridge is not an endpoint: " + e.getMessage());
        assertEquals(before, m.snapshot());
    }

    @Test
    void groupMovesEveryEndpointButNotTheBridgeAndRestoresThemTogether() throws Exception {
        BindResult.Moved r = assertInstanceOf(BindResult.Moved.class, m.engine.rebind(GPU, opts().withGroup(true)));
        assertEquals(List.of(GPU, GPU_AUDIO), r.devices());
        assertEquals("vfio-pci", m.driver("0000:01:00.0"));
        assertEquals("vfio-pci", m.driver("0000:01:00.1"));
        assertEquals("pcieport", m.driver("0000:00:01.0"));
        m.engine.restore(GPU, opts().withGroup(true));
        assertEquals("amdgpu", m.driver("0000:01:00.0"));
        assertEquals("snd_hda_intel", m.driver("0000:01:00.1"));
    }

    @Test
    void aFailureOnTheSecondEndpointRollsBackTheWholeGroup() throws Exception {
        m.sim.fault("probe-fail vfio-pci 0000:01:00.1");
        BindingException.Failed e = assertThrows(BindingException.Failed.class, () -> m.engine.rebind(GPU, opts().withGroup(true)));
        assertTrue(e.getMessage().startsWith("bind 0000:01:00.1 to vfio-pci failed"), e.getMessage());
        assertEquals("amdgpu", m.driver("0000:01:00.0"));
        assertEquals("snd_hda_intel", m.driver("0000:01:00.1"));
        assertEquals("", m.override("0000:01:00.0"));
        assertEquals("", m.override("0000:01:00.1"));
    }

    @Test
    void anotherEndpointAlreadyOnVfioKeepsTheGroupViable() throws Exception {
        m.engine.rebind(GPU, opts().withGroup(true));
        m.engine.restore(GPU, opts());
        // the audio function stays on vfio-pci, so the GPU alone may move again
        assertEquals("vfio-pci", m.driver("0000:01:00.1"));
        assertInstanceOf(BindResult.Moved.class, m.engine.rebind(GPU, opts()));
    }

    @Test
    void aNicThatIsUpWithAnAddressIsInUseEvenForADryRunAndForceTakesIt() throws Exception {
        org.vfiod.daemon.usage.FakeHost host = new org.vfiod.daemon.usage.FakeHost(m.sim.root(), dir.resolve("host"));
        Path nic = m.sysfs.deviceDir(NIC).orElseThrow();
        org.vfiod.daemon.usage.FakeHost.netInterface(nic, "enp3s0", 2, true);
        Files.writeString(m.sim.root().resolve(".vfiod-sim/ipv4"), "2 192.0.2.10/24\n");
        host.ipv4DefaultRoute("enp3s0");
        TreeMap<String, String> before = m.snapshot();
        String expected = "enp3s0 is up with 192.0.2.10/24 and carries the default route; nothing was changed: stop using it "
                + "first, or pass force";
        assertEquals(expected, assertThrows(BindingException.InUse.class, () -> m.engine.rebind(NIC, opts())).getMessage());
        assertEquals(expected, assertThrows(BindingException.InUse.class, () -> m.engine.rebind(NIC, opts().withDryRun(true))).getMessage());
        assertEquals(List.of("enp3s0 is up with 192.0.2.10/24 and carries the default route"), m.engine.users(NIC));
        assertEquals("", SimulatedMachine.diff(before, m.snapshot()));
        assertEquals("vfio-pci", m.engine.rebind(NIC, opts().withForce(true)).driver());
    }

    @Test
    void aRestoreWhileAVmHoldsTheDeviceIsInUseAndGoesOnceItLetsGo() throws Exception {
        org.vfiod.daemon.usage.FakeHost host = new org.vfiod.daemon.usage.FakeHost(m.sim.root(), dir.resolve("host"));
        m.engine.rebind(NIC, opts());
        host.process(4321, "qemu-system-x86_64", org.vfiod.daemon.usage.FakeHost.HOST_NAMESPACE);
        host.open(4321, 27, "/dev/vfio/3");
        TreeMap<String, String> before = m.snapshot();
        BindingException.InUse e = assertThrows(BindingException.InUse.class, () -> m.engine.restore(NIC, opts()));
        assertTrue(e.getMessage().startsWith("/dev/vfio/3 is open by pid 4321 (qemu-system-x86_64)"), e.getMessage());
        assertEquals("", SimulatedMachine.diff(before, m.snapshot()));
        assertEquals("vfio-pci", m.driver("0000:03:00.0"));
        // the VM exits
        Files.delete(dir.resolve("host/proc/4321/fd/27"));
        assertEquals("e1000e", m.engine.restore(NIC, opts()).driver());
    }

    @Test
    void theBootVgaDeviceNeedsForce() throws Exception {
        TreeMap<String, String> before = m.snapshot();
        BindingException.InUse e = assertThrows(BindingException.InUse.class, () -> m.engine.rebind(IGPU, opts()));
        assertEquals("0000:00:02.0 is the boot VGA device: efi-framebuffer.0 and vtcon1 (the framebuffer console) scan out "
                + "of it; nothing was changed: stop using it first, or pass force", e.getMessage());
        assertEquals(before, m.snapshot());
        assertEquals("vfio-pci", m.engine.rebind(IGPU, opts().withForce(true)).driver());
    }

    @Test
    void forcingTheBootGpuReleasesItsFramebuffersFirstAndARollbackGivesThemBack() throws Exception {
        Path vtcon1 = m.sim.root().resolve("class/vtconsole/vtcon1/bind");
        Path efifb = m.sim.root().resolve("bus/platform/drivers/efi-framebuffer/efi-framebuffer.0");
        m.sim.fault("probe-fail vfio-pci");
        BindingException.Failed e = assertThrows(BindingException.Failed.class, () -> m.engine.rebind(IGPU, opts().withForce(true)));
        assertTrue(e.getMessage().contains("rolled back"), e.getMessage());
        assertEquals("1", Files.readString(vtcon1).strip());
        assertTrue(Files.isSymbolicLink(efifb));
        assertEquals("i915", m.driver("0000:00:02.0"));
        m.sim.clearFaults();
        BindResult.Moved moved = assertInstanceOf(BindResult.Moved.class, m.engine.rebind(IGPU, opts().withForce(true)));
        assertEquals(List.of("released efi-framebuffer.0", "released vtcon1", "0000:00:02.0 -> vfio-pci"), moved.steps());
        assertEquals("0", Files.readString(vtcon1).strip());
        assertFalse(Files.exists(efifb, java.nio.file.LinkOption.NOFOLLOW_LINKS));
        // the dummy console was never bound to the GPU and is left alone
        assertEquals("0", Files.readString(m.sim.root().resolve("class/vtconsole/vtcon0/bind")).strip());
    }

    @Test
    void dryRunPlansAndWritesNothing() throws Exception {
        TreeMap<String, String> before = m.snapshot();
        BindResult.Planned p = assertInstanceOf(BindResult.Planned.class, m.engine.rebind(GPU, opts().withGroup(true).withDryRun(true)));
        String drv = "the PCI driver of module vfio_pci";
        assertEquals(List.of("load module vfio_pci", "set driver_override of 0000:01:00.0 to " + drv,
                "unbind 0000:01:00.0 from amdgpu", "probe 0000:01:00.0 and check that " + drv + " bound it",
                "set driver_override of 0000:01:00.1 to " + drv,
                "unbind 0000:01:00.1 from snd_hda_intel", "probe 0000:01:00.1 and check that " + drv + " bound it"), p.steps());
        assertEquals("vfio_pci", p.driver());
        assertEquals(before, m.snapshot());
        assertEquals("", m.sim.kernelLog());
    }

    @Test
    void aHangingUnbindTimesOutBlocksItsGroupButNotOthers() throws Exception {
        m.sim.fault("hang-unbind 0000:01:00.0");
        BindOptions quick = opts().withGroup(true).withTimeout(Duration.ofMillis(300));
        BindingException.Timeout t = assertThrows(BindingException.Timeout.class, () -> m.engine.rebind(GPU, quick));
        assertTrue(t.getMessage().contains("unbind 0000:01:00.0 from amdgpu did not return"), t.getMessage());
        assertTrue(t.getMessage().contains("IOMMU group 1"), t.getMessage());
        // the same group is refused while the write hangs ...
        BindingException.Busy busy = assertThrows(BindingException.Busy.class, () -> m.engine.restore(GPU_AUDIO, quick));
        assertTrue(busy.getMessage().contains("IOMMU group 1 is blocked"), busy.getMessage());
        // ... while another group proceeds
        assertEquals("vfio-pci", m.engine.rebind(NIC, opts()).driver());
        // once the kernel returns, the group opens again
        m.sim.clearFaults();
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        BindResult r = null;
        while (r == null && System.nanoTime() < until) {
            try {
                r = m.engine.rebind(GPU, opts().withGroup(true));
            } catch (BindingException.Busy stillBlocked) {
                Thread.sleep(20);
            }
        }
        assertEquals("vfio-pci", r.driver());
        assertEquals("vfio-pci", m.driver("0000:01:00.0"));
    }

    @Test
    void aTimeoutSettlesOnlyOnceTheHungWriteReturnedAndTheDeviceIsBack() throws Exception {
        m.sim.fault("hang-unbind 0000:03:00.0");
        BindingException.Timeout t = assertThrows(BindingException.Timeout.class,
                () -> m.engine.rebind(NIC, opts().withTimeout(Duration.ofMillis(300))));
        CompletableFuture<Void> settled = t.settled().toCompletableFuture();
        Thread.sleep(300);
        // the kernel still holds the NIC: vfiod is not done with it, whatever the caller was told
        assertFalse(settled.isDone());
        m.sim.clearFaults();
        settled.get(5, TimeUnit.SECONDS);
        // settled means put back: the rollback is over by then, not merely the write
        assertEquals("e1000e", m.driver("0000:03:00.0"));
        assertEquals("", m.override("0000:03:00.0"));
    }

    @Test
    void aModuleLoadThatOutlastsTheCallersTimeoutChangesNothing() throws Exception {
        m.sim.fault("hang-modprobe vfio_pci");
        Path writes = m.sim.root().resolve(".vfiod-sim/writes");
        BindingException.Timeout t = assertThrows(BindingException.Timeout.class,
                () -> m.engine.rebind(NIC, opts().withTimeout(Duration.ofMillis(300))));
        assertTrue(t.getMessage().contains("loading module vfio_pci did not finish within 300 ms; nothing was changed"), t.getMessage());
        CompletableFuture<Void> settled = t.settled().toCompletableFuture();
        // the group stays shut while the load hangs: another call is refused at once, not after its own timeout
        long start = System.nanoTime();
        BindingException.Busy busy = assertThrows(BindingException.Busy.class, () -> m.engine.restore(NIC, opts()));
        assertTrue(busy.getMessage().contains("IOMMU group 3 is blocked: load module vfio_pci"), busy.getMessage());
        assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(2), "Busy at once");
        Thread.sleep(200);
        assertFalse(settled.isDone(), "the module load still runs");
        m.sim.clearFaults();
        settled.get(5, TimeUnit.SECONDS);
        assertTrue(m.sim.kernelLog().contains("module vfio_pci loaded"));
        // the load came back long after the caller's time: nobody waits for a move any more, so none is started
        assertFalse(Files.exists(writes) && !Files.readString(writes).isBlank(), () -> "writes after the caller's timeout: " + read(writes));
        assertEquals("e1000e", m.driver("0000:03:00.0"));
        assertEquals("", m.override("0000:03:00.0"));
        // the module stays loaded, and the next call moves the device at once
        assertEquals("vfio-pci", m.engine.rebind(NIC, opts()).driver());
    }

    private static String read(Path p) {
        try {
            return Files.readString(p);
        } catch (java.io.IOException e) {
            return e.toString();
        }
    }

    /** Starts a Rebind of the NIC (whose unbind hangs) and returns once it is inside the kernel write. */
    private CompletableFuture<BindResult> nicRebindStuckInUnbind() throws Exception {
        CompletableFuture<BindResult> rebind = CompletableFuture.supplyAsync(() -> {
            try {
                return m.engine.rebind(NIC, opts());
            } catch (BindingException e) {
                throw new RuntimeException(e);
            }
        });
        // the override is the write before the unbind: once it is there, the unbind is next (the module load runs on
        // a worker, so the load's log line alone says too little of where the operation is)
        while (!m.override("0000:03:00.0").equals("vfio-pci")) Thread.sleep(5);
        Thread.sleep(50);
        return rebind;
    }

    @Test
    void operationsOnOneGroupAreSerialized() throws Exception {
        m.sim.fault("hang-unbind 0000:03:00.0");
        CompletableFuture<BindResult> first = nicRebindStuckInUnbind();
        // the second caller waits for the group instead of interleaving its writes
        BindingException.Busy busy = assertThrows(BindingException.Busy.class,
                () -> m.engine.restore(NIC, opts().withTimeout(Duration.ofMillis(200))));
        assertTrue(busy.getMessage().contains("still running"), busy.getMessage());
        m.sim.clearFaults();
        assertEquals("vfio-pci", first.get(5, TimeUnit.SECONDS).driver());
    }

    @Test
    void aDeviceThatVanishesHalfWayIsReportedAndLeavesNoJournal() throws Exception {
        m.sim.fault("vanish-on-unbind 0000:03:00.0");
        BindingException.Failed e = assertThrows(BindingException.Failed.class, () -> m.engine.rebind(NIC, opts()));
        assertTrue(e.getMessage().startsWith("probe 0000:03:00.0 failed"), e.getMessage());
        // a device that is gone has nothing to put back: not a failed rollback, and no journal to retry at every start
        assertTrue(e.getMessage().contains("0000:03:00.0 is no longer present"), e.getMessage());
        assertFalse(e.getMessage().contains("rollback failed"), e.getMessage());
        assertFalse(m.sysfs.exists(NIC));
        assertEquals(0, FaultMatrixTest.journals(m));
    }

    @Test
    void aDeviceUnpluggedWhileItsUnbindHangsLeavesNoJournalForTheNextStart() throws Exception {
        m.sim.fault("hang-unbind 0000:03:00.0").fault("vanish-on-unbind 0000:03:00.0");
        BindingException.Timeout t = assertThrows(BindingException.Timeout.class,
                () -> m.engine.rebind(NIC, opts().withTimeout(Duration.ofMillis(300))));
        assertFalse(journals().isEmpty(), "the move is journaled while the kernel holds the device");
        m.sim.clearFault("hang-unbind 0000:03:00.0");
        t.settled().toCompletableFuture().get(5, TimeUnit.SECONDS);
        assertFalse(m.sysfs.exists(NIC));
        // a journal kept for it would have the next start "put back" whatever device takes its address next
        assertEquals(List.of(), journals());
    }

    private List<String> journals() throws java.io.IOException {
        Path j = dir.resolve("run/journal");
        if (!Files.isDirectory(j)) return List.of();
        try (var files = Files.list(j)) {
            return files.map(f -> f.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void aRequestedDriverMustBeAVfioDriver() throws Exception {
        TreeMap<String, String> before = m.snapshot();
        BindingException.InvalidArgument e = assertThrows(BindingException.InvalidArgument.class,
                () -> m.engine.rebind(NIC, opts().withDriver("e1000e")));
        assertTrue(e.getMessage().contains("not a vfio driver"), e.getMessage());
        assertThrows(BindingException.InvalidArgument.class, () -> m.engine.rebind(NIC, opts().withDriver("../../x")));
        assertEquals(before, m.snapshot());
        assertEquals("vfio-pci", m.engine.rebind(NIC, opts().withDriver("vfio-pci")).driver());
    }

    @Test
    void aRequestedVariantDriverMustClaimTheDeviceByItsAliases(@TempDir Path other) throws Exception {
        String aliases = SimulatedMachine.CATCH_ALL + "alias vfio_pci:v000015B3d0000101Esv*sd*bc*sc*i* mlx5_vfio_pci\n";
        try (SimulatedMachine v = new SimulatedMachine(other, aliases)) {
            v.sim.driver("mlx5_vfio_pci", "mlx5_vfio_pci", false, "vfio", "override-only", "15b3:101e");
            TreeMap<String, String> before = v.snapshot();
            BindingException.InvalidArgument e = assertThrows(BindingException.InvalidArgument.class,
                    () -> v.engine.rebind(NIC, opts().withDriver("mlx5_vfio_pci")));
            assertTrue(e.getMessage().contains("'mlx5_vfio_pci' does not drive 0000:03:00.0"), e.getMessage());
            assertTrue(e.getMessage().contains("vfio drivers for it: vfio_pci"), e.getMessage());
            assertEquals(before, v.snapshot(), "nothing is written" + SimulatedMachine.diff(before, v.snapshot()));
            assertEquals("vfio-pci", v.engine.rebind(NIC, opts().withDriver("vfio_pci")).driver(), "the catch-all drives anything");
            DeviceName vf = PciAddress.require("0000:04:00.1").toDeviceName();
            assertEquals("mlx5_vfio_pci", v.engine.rebind(vf, opts().withDriver("mlx5_vfio_pci")).driver());
            assertEquals("mlx5_vfio_pci", v.driver("0000:04:00.1"));
        }
    }

    @Test
    void withoutAnyVfioAliasThereIsNoVfioDriver(@TempDir Path other) throws Exception {
        try (SimulatedMachine bare = new SimulatedMachine(other, "alias pci:v00008086d000010D3sv*sd*bc*sc*i* e1000e\n")) {
            BindingException.NoVfioDriver e = assertThrows(BindingException.NoVfioDriver.class, () -> bare.engine.rebind(NIC, opts()));
            assertTrue(e.getMessage().contains("0000:03:00.0"), e.getMessage());
        }
    }

    @Test
    void anUnknownAddressIsNoSuchDevice() {
        assertThrows(BindingException.NoSuchDevice.class, () -> m.engine.rebind(PciAddress.require("0000:09:00.0").toDeviceName(), opts()));
        assertThrows(BindingException.NoSuchDevice.class, () -> m.engine.restore(PciAddress.require("09:00.0").toDeviceName(), opts()));
    }

    @Test
    void aModuleThatFailsToLoadChangesNothing() throws Exception {
        m.sim.fault("modprobe-fail vfio_pci");
        TreeMap<String, String> before = m.snapshot();
        BindingException.Failed e = assertThrows(BindingException.Failed.class, () -> m.engine.rebind(NIC, opts()));
        assertTrue(e.getMessage().startsWith("load module vfio_pci failed"), e.getMessage());
        assertEquals(before, m.snapshot());
    }

    @Test
    void aVariantDriverWinsOverTheCatchAll(@TempDir Path other) throws Exception {
        String aliases = SimulatedMachine.CATCH_ALL + "alias vfio_pci:v000015B3d0000101Dsv*sd*bc*sc*i* mlx5_vfio_pci\n";
        try (SimulatedMachine v = new SimulatedMachine(other, aliases)) {
            v.sim.driver("mlx5_vfio_pci", "mlx5_vfio_pci", false, "vfio", "override-only", "15b3:101d");
            assertEquals("mlx5_vfio_pci", v.engine.rebind(PciAddress.require("0000:04:00.0").toDeviceName(), opts()).driver());
            assertEquals("mlx5_vfio_pci", v.driver("0000:04:00.0"));
            assertTrue(v.sim.kernelLog().contains("module mlx5_vfio_pci loaded"));
        }
    }

    @Test
    void drainWaitsForTheOperationInFlightAndRefusesNewOnes() throws Exception {
        m.sim.fault("hang-unbind 0000:03:00.0");
        CompletableFuture<BindResult> inFlight = nicRebindStuckInUnbind();
        assertFalse(m.engine.drain(Duration.ofMillis(100)), "an operation is still in flight");
        assertThrows(BindingException.Busy.class, () -> m.engine.rebind(GPU, opts()));
        m.sim.clearFaults();
        assertTrue(m.engine.drain(Duration.ofSeconds(5)));
        assertEquals("vfio-pci", inFlight.get().driver());
    }
}
