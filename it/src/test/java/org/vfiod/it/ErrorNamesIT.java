package org.vfiod.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Arrays;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Every error name of the contract, as a client sees it on the wire (gdbus prints the name), each produced by a
 * call that should produce it. Calls are made as root unless the test is about authorization, so polkit lets them
 * through to the check under test.
 */
@ExtendWith(RealComponents.class)
class ErrorNamesIT {
    static final String NIC = "0000:03:00.0";
    static final String GPU = "0000:01:00.0";

    @Test
    void invalidArgumentForAMalformedAddress(Env env) {
        env.vfiod();
        SysfsSnapshot before = env.snapshot();
        env.manager(User.ROOT, "Rebind", "0000:03:00", "{}").assertError(Env.INVALID_ARGUMENT, "is not a device address");
        env.manager(User.ROOT, "DeviceByAddress", "eth0").assertError(Env.INVALID_ARGUMENT, "is not a device address");
        before.assertUnchanged("InvalidArgument");
    }

    @Test
    void noSuchDeviceForAnAbsentAddress(Env env) {
        env.vfiod();
        SysfsSnapshot before = env.snapshot();
        env.manager(User.ROOT, "DeviceByAddress", "0000:09:00.0").assertError(Env.NO_SUCH_DEVICE, "0000:09:00.0");
        env.manager(User.ROOT, "Rebind", "0000:09:00.0", "{}").assertError(Env.NO_SUCH_DEVICE, "0000:09:00.0");
        env.manager(User.ROOT, "Restore", "0000:09:00.0", "{}").assertError(Env.NO_SUCH_DEVICE, "0000:09:00.0");
        before.assertUnchanged("NoSuchDevice");
    }

    @Test
    void noVfioDriverWhenTheAliasesHaveNoVfioLine(Env env) {
        // a kernel without vfio-pci: modules.alias has ordinary aliases only
        var mods = env.modulesDir("modules-without-vfio", """
                alias pci:v00008086d000010D3sv*sd*bc*sc*i* e1000e
                alias pci:v00001002d000073BFsv*sd*bc*sc*i* amdgpu
                """);
        env.startVfiodWith(env.vfiodArgs(env.address(), mods), true);
        SysfsSnapshot before = env.snapshot();
        env.manager(User.ROOT, "Rebind", NIC, "{}").assertError(Env.NO_VFIO_DRIVER, NIC);
        assertEquals("", env.deviceProperty(NIC, "VfioDriver"));
        assertEquals("e1000e", env.driverOf(NIC));
        before.assertUnchanged("NoVfioDriver");
    }

    @Test
    void noVfioDriverWhenResolvingAModaliasNoAliasMatches(Env env) {
        env.vfiod();
        // the only vfio_ alias is for pci: a USB modalias matches none
        env.manager(User.OUTSIDER, "Resolve", "usb:v046Dp0825d0010dcEFdsc02dp01ic0Eisc01ip00in00")
                .assertError(Env.NO_VFIO_DRIVER, "no vfio_ alias matches");
        // and a PCI one does, for anybody: Resolve is read-only
        String pci = env.deviceProperty(NIC, "Modalias");
        assertTrue(env.manager(User.OUTSIDER, "Resolve", pci).assertOk().out().contains("'module': <'vfio_pci'>"));
    }

    @Test
    void groupNotViableForAGpuWhoseAudioFunctionStaysOnTheHost(Env env) {
        env.vfiod();
        SysfsSnapshot before = env.snapshot();
        env.manager(User.ROOT, "Rebind", GPU, "{}").assertError(Env.GROUP_NOT_VIABLE, "0000:01:00.1", "snd_hda_intel");
        assertEquals("amdgpu", env.driverOf(GPU));
        before.assertUnchanged("GroupNotViable");
        // with the group option both functions move
        assertEquals("vfio-pci", Env.string(env.manager(User.ROOT, "Rebind", GPU, "{'group': <true>}").assertOk()));
        assertEquals("vfio-pci", env.driverOf(GPU));
        assertEquals("vfio-pci", env.driverOf("0000:01:00.1"));
        assertEquals("pcieport", env.driverOf("0000:00:01.0"), "the bridge stays on its driver");
    }

    @Test
    void inUseForTheBootGpuWhoseFramebuffersScanOutOfIt(Env env) {
        env.vfiod();
        SysfsSnapshot before = env.snapshot();
        env.manager(User.ROOT, "Rebind", "0000:00:02.0", "{}").assertError(Env.IN_USE,
                "0000:00:02.0 is the boot VGA device: efi-framebuffer.0 and vtcon1 (the framebuffer console) scan out of it");
        before.assertUnchanged("InUse");
    }

    @Test
    void timeoutWhenUnbindHangsThenBusyForTheNextCall(Env env) {
        env.vfiod();
        // load vfio_pci first (moving the VF), so that the time limit below is spent in the hanging unbind, not on
        // the module load of a busy machine
        env.manager(User.ROOT, "Rebind", "0000:04:00.1", "{}").assertOk();
        env.fault("hang-unbind " + NIC);
        long t0 = System.nanoTime();
        env.manager(User.ROOT, "Rebind", NIC, "{'timeout': <uint32 1000>}")
                .assertError(Env.TIMEOUT, "unbind " + NIC + " from e1000e did not return within 1000 ms");
        assertTrue(Duration.ofNanos(System.nanoTime() - t0).toSeconds() < 20, "the Timeout came long after the time limit");
        // the unbind is still stuck in the "kernel": nothing else may start on that device's group
        env.manager(User.ROOT, "Rebind", NIC, "{'timeout': <uint32 300>}").assertError(Env.BUSY, "has not returned from the kernel");
        env.device(User.ROOT, NIC, "Restore", "{}").assertError(Env.BUSY);
        assertEquals("e1000e", env.driverOf(NIC), "the hung unbind has not happened");

        // once the kernel returns, the device is put back where it was, driver and override, before anyone else gets
        // the group; its object follows
        env.clearFaults();
        for (int i = 0; i < 100 && !(env.driverOf(NIC).equals("e1000e") && env.overrideOf(NIC).equals("(null)")
                && "e1000e".equals(env.deviceProperty(NIC, "Driver"))); i++) {
            PrivateSystemBus.sleep(50);
        }
        assertEquals("e1000e", env.driverOf(NIC), "the device was left where the kernel dropped it");
        assertEquals("(null)", env.overrideOf(NIC));
        assertEquals("e1000e", env.deviceProperty(NIC, "Driver"));
        // and usable again
        String driver = null;
        for (int i = 0; i < 100 && driver == null; i++) {
            Reply r = env.manager(User.ROOT, "Rebind", NIC, "{}");
            if (r.ok()) driver = Env.string(r);
            else if (Env.BUSY.equals(r.errorName())) PrivateSystemBus.sleep(50);
            else r.assertOk();
        }
        assertEquals("vfio-pci", driver);
        assertEquals("vfio-pci", env.driverOf(NIC));
    }

    @Test
    void failedWhenTheVfioProbeFailsAndTheDeviceIsRolledBack(Env env) {
        env.vfiod();
        env.fault("probe-fail vfio-pci");
        String message = env.manager(User.ROOT, "Rebind", NIC, "{}").assertError(Env.FAILED, "rolled back");
        assertTrue(message.contains(NIC + " on e1000e"), message);
        assertEquals("e1000e", env.driverOf(NIC), "back on its host driver");
        assertEquals("(null)", env.overrideOf(NIC), "driver_override put back");
        assertEquals("e1000e", env.deviceProperty(NIC, "Driver"));
        assertEquals("host", env.deviceProperty(NIC, "State"));
    }

    @Test
    void accessDeniedForACallerPolkitRefuses(Env env) {
        env.vfiod();
        SysfsSnapshot before = env.snapshot();
        env.manager(User.OUTSIDER, "Rebind", NIC, "{}").assertError(Env.ACCESS_DENIED, "not authorized");
        before.assertUnchanged("AccessDenied");
    }

    @Test
    void theContractHasNoErrorThisClassDoesNotProduce() {
        // the tests above cover these; a new error in the contract must get a test here too
        assertEquals(Set.of("InvalidArgument", "NoSuchDevice", "NoVfioDriver", "InUse", "GroupNotViable", "Busy", "Timeout", "Failed"),
                Arrays.stream(org.vfiod1.Error.class.getDeclaredClasses()).map(Class::getSimpleName).collect(Collectors.toSet()));
    }
}
