package org.vfiod.daemon.binding;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vfiod.daemon.aliases.AliasMatch;
import org.vfiod.daemon.sim.SimulatedKernel;
import org.vfiod.daemon.sim.SimulatedSysfs;
import org.vfiod.daemon.sysfs.DeviceName;

/**
 * Issue 18's safety on the CDX, platform and fsl-mc buses, on the simulated kernel: the seed's rule on vfio_cdx
 * aliases, platform's fallback driver and its reset requirement, the DPRC container as the unit of assignment, and
 * the refusals that must come before any write (no IOMMU group, a driver without unbind).
 */
class OtherBusesTest {
    static final BindOptions OPTS = BindOptions.defaults().withTimeout(Duration.ofSeconds(5));
    static final String CDX_CATCH_ALL = "alias vfio_cdx:v*d*sv*sd*c* vfio_cdx\n";
    static final DeviceName CDX_NIC = new DeviceName("cdx", SimulatedSysfs.CDX_NIC);
    static final DeviceName CDX_DMA = new DeviceName("cdx", SimulatedSysfs.CDX_DMA);
    static final DeviceName VIRTIO = new DeviceName("platform", SimulatedSysfs.VIRTIO_MMIO);
    static final DeviceName NO_GROUP = new DeviceName("platform", SimulatedSysfs.VIRTIO_MMIO_NO_GROUP);
    static final DeviceName XGMAC = new DeviceName("platform", SimulatedSysfs.XGMAC);
    static final DeviceName PINCTRL = new DeviceName("platform", SimulatedSysfs.PINCTRL);
    static final DeviceName DPRC = new DeviceName("fsl-mc", SimulatedSysfs.DPRC);

    @TempDir
    Path dir;
    SimulatedMachine m;

    @AfterEach
    void tearDown() {
        if (m != null) m.close();
    }

    private SimulatedMachine machine(String modulesAlias) throws Exception {
        m = SimulatedMachine.allBuses(dir, SimulatedMachine.CATCH_ALL + modulesAlias);
        return m;
    }

    private long writes() throws Exception {
        Path log = m.sim.root().resolve(SimulatedKernel.CONTROL_DIR).resolve("writes");
        return Files.exists(log) ? Files.readAllLines(log).size() : 0;
    }

    private long journals() throws Exception {
        Path j = dir.resolve("run/journal");
        if (!Files.isDirectory(j)) return 0;
        try (Stream<Path> s = Files.list(j)) {
            return s.filter(p -> p.getFileName().toString().endsWith(".journal")).count();
        }
    }

    /** A call refused before anything is written: the tree byte for byte as it was, no write, no journal. */
    private BindingException refusedUntouched(ThrowingCall call) throws Exception {
        TreeMap<String, String> before = m.snapshot();
        long writesBefore = writes();
        BindingException e = assertThrows(BindingException.class, call::run);
        assertEquals("", SimulatedMachine.diff(before, m.snapshot()), e.getMessage());
        assertEquals(writesBefore, writes(), "no kernel write: " + e.getMessage());
        assertEquals(0, journals());
        return e;
    }

    interface ThrowingCall {
        void run() throws Exception;
    }

    // ---- CDX: the seed's rule, as for PCI ----------------------------------------------------------------

    @Test
    void aCdxDeviceGoesToVfioCdxByItsAliasAndBack() throws Exception {
        machine(CDX_CATCH_ALL);
        BindResult r = m.engine.rebind(CDX_NIC, OPTS);
        assertEquals("vfio-cdx", assertInstanceOf(BindResult.Moved.class, r).driver());
        assertEquals("vfio-cdx", m.driver(CDX_NIC.name()));
        assertEquals("vfio-cdx", m.override(CDX_NIC.name()));
        assertInstanceOf(BindResult.Moved.class, m.engine.restore(CDX_NIC, OPTS));
        assertEquals("cdx-sim-net", m.driver(CDX_NIC.name()));
        assertEquals("", m.override(CDX_NIC.name()));
        assertEquals(0, journals());
    }

    @Test
    void aVariantAliasPlacedAfterTheCatchAllStillWinsByFewerWildcards() throws Exception {
        machine(CDX_CATCH_ALL + "alias vfio_cdx:v10EEd8084sv*sd*c* vfio_cdx_variant\n");
        BindResult r = m.engine.rebind(CDX_NIC, OPTS);
        assertEquals("vfio-cdx-variant", assertInstanceOf(BindResult.Moved.class, r).driver());
        assertEquals("vfio-cdx-variant", m.driver(CDX_NIC.name()));
        // the other device is not the variant's: the catch-all takes it
        assertEquals("vfio-cdx", assertInstanceOf(BindResult.Moved.class, m.engine.rebind(CDX_DMA, OPTS)).driver());
    }

    @Test
    void aTieOnVfioCdxAliasesGoesToTheFirstLineAndIsReported() throws Exception {
        String variant = "alias vfio_cdx:v10EEd8085sv*sd*c* vfio_cdx_variant\n";
        String other = "alias vfio_cdx:v10EEd*sv10EEsd*c* vfio_cdx_other\n";
        machine(CDX_CATCH_ALL + other + variant);
        AliasMatch match = m.index.resolve(m.device(CDX_DMA.name()).modalias()).orElseThrow();
        assertEquals("vfio_cdx_other", match.module());
        assertEquals(3, match.wildcards());
        assertEquals(List.of("vfio_cdx_variant"), match.tiedWith(), "the tie is reported");
        assertEquals("vfio-cdx-other", assertInstanceOf(BindResult.Moved.class, m.engine.rebind(CDX_DMA, OPTS)).driver());
        m.close();

        // the same two lines the other way round: the order of the file decides, not the module's name
        dir = Files.createDirectories(dir.resolve("reversed"));
        machine(CDX_CATCH_ALL + variant + other);
        assertEquals(List.of("vfio_cdx_other"), m.index.resolve(m.device(CDX_DMA.name()).modalias()).orElseThrow().tiedWith());
        assertEquals("vfio-cdx-variant", assertInstanceOf(BindResult.Moved.class, m.engine.rebind(CDX_DMA, OPTS)).driver());
    }

    @Test
    void theCdxBusDeviceIsNoDevice() throws Exception {
        machine(CDX_CATCH_ALL);
        assertTrue(m.sysfs.devices().contains(CDX_NIC));
        assertTrue(m.sysfs.devices().stream().noneMatch(d -> d.name().equals("cdx-00")), "cdx-00 has only enable and reset");
    }

    // ---- platform: the fallback driver and its reset -------------------------------------------------------

    @Test
    void aPlatformDeviceGoesToTheFallbackDriverNamedAsSuch() throws Exception {
        machine("");
        BindResult.Moved r = assertInstanceOf(BindResult.Moved.class, m.engine.rebind(XGMAC, OPTS));
        assertEquals("vfio-platform", r.driver());
        assertEquals("vfio-platform", m.driver(XGMAC.name()));
        String steps = String.join("\n", r.steps());
        assertTrue(steps.contains("fallback") && steps.contains("vfio-platform"), "the answer names the fallback: " + steps);
        assertInstanceOf(BindResult.Moved.class, m.engine.restore(XGMAC, OPTS));
        assertEquals("calxedaxgmac", m.driver(XGMAC.name()));
        assertEquals("", m.override(XGMAC.name()));
    }

    @Test
    void vfioPlatformRefusingADeviceWithoutAResetIsExplainedAndRolledBack() throws Exception {
        machine("");
        BindingException e = assertThrows(BindingException.class, () -> m.engine.rebind(VIRTIO, OPTS));
        String msg = e.getMessage();
        assertTrue(msg.contains(VIRTIO.name()) && msg.contains("reset") && msg.contains("reset_required"),
                "the error says vfio-platform needs a reset: " + msg);
        assertTrue(m.sim.kernelLog().contains("No reset function found for device " + VIRTIO.name()), "the kernel refused it");
        assertEquals("virtio-mmio", m.driver(VIRTIO.name()), "back on its driver: " + msg);
        assertEquals("", m.override(VIRTIO.name()));
        assertEquals(0, journals());
        // vfio_platform loaded with reset_required=0: it binds
        m.sim.moduleParameter("vfio_platform", "reset_required", "N");
        assertEquals("vfio-platform", assertInstanceOf(BindResult.Moved.class, m.engine.rebind(VIRTIO, OPTS)).driver());
    }

    // ---- the refusals that come before any write -----------------------------------------------------------

    @Test
    void aDeviceWithoutAnIommuGroupIsRefusedAndNothingChanges() throws Exception {
        machine("");
        m.kernel.load(new org.vfiod.daemon.sysfs.DriverName("vfio_platform"));
        m.sim.moduleParameter("vfio_platform", "reset_required", "N");
        BindingException e = refusedUntouched(() -> m.engine.rebind(NO_GROUP, OPTS));
        assertTrue(e.getMessage().contains(NO_GROUP.name()) && e.getMessage().toLowerCase().contains("no iommu group"), e.getMessage());
        assertEquals("virtio-mmio", m.driver(NO_GROUP.name()));
    }

    @Test
    void inVfiosNoIommuModeADeviceWithoutAGroupMovesWithAWarningAndComesBackWhole() throws Exception {
        machine("");
        m.sim.noIommuMode(true);
        m.kernel.load(new org.vfiod.daemon.sysfs.DriverName("vfio_platform"));
        m.sim.moduleParameter("vfio_platform", "reset_required", "N");
        TreeMap<String, String> before = m.snapshot();
        BindResult.Moved r = assertInstanceOf(BindResult.Moved.class, m.engine.rebind(NO_GROUP, OPTS));
        assertEquals("vfio-platform", m.driver(NO_GROUP.name()));
        String steps = String.join("\n", r.steps());
        assertTrue(steps.contains("no-IOMMU") || steps.contains("noiommu"), "the answer warns: " + steps);
        assertTrue(m.device(NO_GROUP.name()).iommuGroup().isPresent(), "vfio gave it a fake group");
        assertInstanceOf(BindResult.Moved.class, m.engine.restore(NO_GROUP, OPTS));
        assertEquals("", SimulatedMachine.diff(before, m.snapshot()), "the fake group went with vfio-platform");
        assertEquals(0, journals());
    }

    @Test
    void aDriverWithoutUnbindIsRefusedBeforeAnyWrite() throws Exception {
        machine("");
        m.kernel.load(new org.vfiod.daemon.sysfs.DriverName("vfio_platform"));
        m.sim.moduleParameter("vfio_platform", "reset_required", "N");
        BindingException e = refusedUntouched(() -> m.engine.rebind(PINCTRL, OPTS));
        assertTrue(e.getMessage().contains(PINCTRL.name()) && e.getMessage().contains("pinctrl-sim") && e.getMessage().contains("unbind"),
                e.getMessage());
        assertEquals("pinctrl-sim", m.driver(PINCTRL.name()));
    }

    // ---- fsl-mc: the container ----------------------------------------------------------------------------

    @Test
    void movingTheDprcMovesItsObjectsAndBringsThemBack() throws Exception {
        machine("");
        BindResult.Moved r = assertInstanceOf(BindResult.Moved.class, m.engine.rebind(DPRC, OPTS));
        assertEquals("vfio-fsl-mc", r.driver());
        assertEquals("vfio-fsl-mc", m.driver(DPRC.name()));
        for (String o : SimulatedSysfs.DPRC_CHILDREN) {
            assertEquals("vfio-fsl-mc", m.driver(o), o + " follows its container");
            assertEquals("vfio-fsl-mc", m.override(o));
        }
        assertEquals(0, journals());
        assertInstanceOf(BindResult.Moved.class, m.engine.restore(DPRC, OPTS));
        assertEquals("fsl_mc_dprc", m.driver(DPRC.name()));
        assertEquals("fsl_dpaa2_eth", m.driver("dpni.1"));
        assertEquals("fsl_mc_dpio", m.driver("dpio.1"));
        assertEquals("fsl_mc_allocator", m.driver("dpmcp.1"));
        for (String o : SimulatedSysfs.DPRC_CHILDREN) assertEquals("", m.override(o));
        assertEquals(0, journals());
    }

    @Test
    void anObjectAloneIsRefusedNamingItsContainer() throws Exception {
        machine("");
        BindingException e = refusedUntouched(() -> m.engine.rebind(new DeviceName("fsl-mc", "dpni.1"), OPTS));
        assertTrue(e.getMessage().contains("dpni.1") && e.getMessage().contains(DPRC.name()), e.getMessage());
        // nor given back alone once the container is on vfio-fsl-mc
        m.engine.rebind(DPRC, OPTS);
        BindingException back = refusedUntouched(() -> m.engine.restore(new DeviceName("fsl-mc", "dpio.1"), OPTS));
        assertTrue(back.getMessage().contains("dpio.1") && back.getMessage().contains(DPRC.name()), back.getMessage());
        assertEquals("vfio-fsl-mc", m.driver("dpio.1"));
    }
}
