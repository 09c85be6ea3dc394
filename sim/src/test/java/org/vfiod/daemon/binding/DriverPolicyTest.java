package org.vfiod.daemon.binding;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vfiod.daemon.sysfs.DeviceName;
import org.vfiod.daemon.sysfs.PciAddress;

/** The driver policy on the simulated kernel: prefer-vfio-pci puts a device a variant driver claims on vfio-pci. */
class DriverPolicyTest {
    static final DeviceName PF = PciAddress.require("0000:04:00.0").toDeviceName();
    static final DeviceName VF = PciAddress.require("0000:04:00.1").toDeviceName();
    static final DeviceName GPU = PciAddress.require("0000:01:00.0").toDeviceName();
    /** mlx5_vfio_pci claims the PF (15b3:101d) and the VF (15b3:101e); the catch-all, anything. */
    static final String VARIANTS = SimulatedMachine.CATCH_ALL
            + "alias vfio_pci:v000015B3d0000101Dsv*sd*bc*sc*i* mlx5_vfio_pci\n"
            + "alias vfio_pci:v000015B3d0000101Esv*sd*bc*sc*i* mlx5_vfio_pci\n"
            + "alias vfio_pci:v00001002d000073BFsv*sd*bc*sc*i* amd_vfio_pci\n"
            + "alias vfio_pci:v00001002d0000AB28sv*sd*bc*sc*i* amd_vfio_pci\n";

    @TempDir
    Path dir;

    private static BindOptions opts() {
        return BindOptions.defaults().withTimeout(Duration.ofSeconds(5));
    }

    private SimulatedMachine machine(String aliases, DriverPolicy policy) throws Exception {
        SimulatedMachine m = new SimulatedMachine(dir, aliases, false, policy);
        m.sim.driver("mlx5_vfio_pci", "mlx5_vfio_pci", false, "vfio", "override-only", "15b3:101d", "15b3:101e");
        m.sim.driver("amd_vfio_pci", "amd_vfio_pci", false, "vfio", "override-only", "1002:73bf", "1002:ab28");
        return m;
    }

    @Test
    void theDefaultPolicyPutsAVariantDeviceOnVfioPciAndSaysWhy() throws Exception {
        try (SimulatedMachine m = machine(VARIANTS, DriverPolicy.PREFER_VFIO_PCI)) {
            BindResult.Planned dry = assertInstanceOf(BindResult.Planned.class, m.engine.rebind(PF, opts().withDryRun(true)));
            assertEquals("vfio_pci", dry.driver(), "a dry run names the module until it is loaded");
            assertEquals("0000:04:00.0: vfio-pci instead of the variant driver mlx5_vfio_pci, by the driver policy prefer-vfio-pci"
                    + " (a consumer that lists only vfio-pci devices, such as KubeVirt's device plugin, sees it)", dry.steps().get(0));
            assertTrue(dry.steps().contains("load module vfio_pci"), dry.steps().toString());

            BindResult.Moved moved = assertInstanceOf(BindResult.Moved.class, m.engine.rebind(PF, opts()));
            assertEquals("vfio-pci", moved.driver());
            assertEquals("vfio-pci", m.driver("0000:04:00.0"));
            assertEquals("vfio-pci", m.override("0000:04:00.0"));
            assertTrue(moved.steps().get(0).contains("by the driver policy prefer-vfio-pci"), moved.steps().toString());
            assertTrue(!m.sim.kernelLog().contains("module mlx5_vfio_pci loaded"), "the variant module is not even loaded");
        }
    }

    @Test
    void withoutThePolicyTheVariantDriverWinsAndNothingIsNoted() throws Exception {
        try (SimulatedMachine m = machine(VARIANTS, DriverPolicy.BEST_MATCH)) {
            BindResult.Planned dry = assertInstanceOf(BindResult.Planned.class, m.engine.rebind(PF, opts().withDryRun(true)));
            assertEquals("load module mlx5_vfio_pci", dry.steps().get(0));
            assertEquals("mlx5_vfio_pci", m.engine.rebind(PF, opts()).driver());
            assertEquals("mlx5_vfio_pci", m.driver("0000:04:00.0"));
        }
    }

    @Test
    void aCallsPolicyOverridesTheDefaultAndANamedDriverOverridesBoth() throws Exception {
        try (SimulatedMachine m = machine(VARIANTS, DriverPolicy.BEST_MATCH)) {
            assertEquals("vfio-pci", m.engine.rebind(PF, opts().withPolicy(DriverPolicy.PREFER_VFIO_PCI)).driver());
            assertEquals("vfio-pci", m.driver("0000:04:00.0"));
        }
        try (SimulatedMachine m = new SimulatedMachine(dir.resolve("b"), VARIANTS, false, DriverPolicy.PREFER_VFIO_PCI)) {
            m.sim.driver("mlx5_vfio_pci", "mlx5_vfio_pci", false, "vfio", "override-only", "15b3:101e");
            assertEquals("mlx5_vfio_pci", m.engine.rebind(VF, opts().withDriver("mlx5_vfio_pci")).driver());
            assertEquals("mlx5_vfio_pci", m.driver("0000:04:00.1"));
            assertEquals("mlx5_vfio_pci", m.engine.rebind(PF, opts().withPolicy(DriverPolicy.BEST_MATCH)).driver());
        }
    }

    @Test
    void theWholeGroupFollowsThePolicy() throws Exception {
        try (SimulatedMachine m = machine(VARIANTS, DriverPolicy.PREFER_VFIO_PCI)) {
            BindResult.Moved moved = assertInstanceOf(BindResult.Moved.class, m.engine.rebind(GPU, opts().withGroup(true)));
            assertEquals(List.of(GPU, PciAddress.require("0000:01:00.1").toDeviceName()), moved.devices());
            assertEquals("vfio-pci", m.driver("0000:01:00.0"));
            assertEquals("vfio-pci", m.driver("0000:01:00.1"));
            assertEquals(2, moved.steps().stream().filter(s -> s.contains("instead of the variant driver amd_vfio_pci")).count(), moved.steps().toString());
        }
    }

    @Test
    void aDeviceOnItsVariantDriverMovesToVfioPciUnderThePolicy() throws Exception {
        try (SimulatedMachine m = machine(VARIANTS, DriverPolicy.BEST_MATCH)) {
            m.engine.rebind(PF, opts());
            assertEquals("mlx5_vfio_pci", m.driver("0000:04:00.0"));
            BindResult.Moved moved = assertInstanceOf(BindResult.Moved.class, m.engine.rebind(PF, opts().withPolicy(DriverPolicy.PREFER_VFIO_PCI)));
            assertEquals("vfio-pci", moved.driver());
            assertEquals("vfio-pci", m.driver("0000:04:00.0"));
            assertInstanceOf(BindResult.Unchanged.class, m.engine.rebind(PF, opts().withPolicy(DriverPolicy.PREFER_VFIO_PCI)),
                    "already where the policy puts it");
        }
    }

    @Test
    void whereVfioPciDoesNotClaimTheDeviceTheVariantDriverIsUsedAndSaysSo() throws Exception {
        // vfio-pci's own aliases here take only Intel devices: it does not drive the Mellanox PF
        String aliases = "alias vfio_pci:v00008086d*sv*sd*bc*sc*i* vfio_pci\n"
                + "alias vfio_pci:v000015B3d0000101Dsv*sd*bc*sc*i* mlx5_vfio_pci\n";
        try (SimulatedMachine m = new SimulatedMachine(dir, aliases, false, DriverPolicy.PREFER_VFIO_PCI)) {
            m.sim.driver("mlx5_vfio_pci", "mlx5_vfio_pci", false, "vfio", "override-only", "15b3:101d");
            BindResult.Planned dry = assertInstanceOf(BindResult.Planned.class, m.engine.rebind(PF, opts().withDryRun(true)));
            assertEquals("0000:04:00.0: mlx5_vfio_pci despite the driver policy prefer-vfio-pci: vfio-pci's aliases do not claim "
                    + m.device("0000:04:00.0").modalias(), dry.steps().get(0));
            assertEquals("mlx5_vfio_pci", m.engine.rebind(PF, opts()).driver());
        }
    }

    @Test
    void thePolicyIsSpelledAsInRulesAndOnTheCommandLine() {
        assertEquals(DriverPolicy.PREFER_VFIO_PCI, DriverPolicy.parse("prefer-vfio-pci").orElseThrow());
        assertEquals(DriverPolicy.BEST_MATCH, DriverPolicy.parse("best-match").orElseThrow());
        assertTrue(DriverPolicy.parse("vfio-pci").isEmpty());
    }
}
