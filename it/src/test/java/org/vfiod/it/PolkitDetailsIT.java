package org.vfiod.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.vfiod.daemon.sim.SimulatedSysfs;

/**
 * polkit is told which device a call is about, so a rule can scope by it: the installed test copy of
 * packaging/polkit/49-vfiod-scoped.rules.example lets group vfio move GPUs but never an NVMe controller, though the
 * group rule after it (50) would allow everything.
 */
@ExtendWith(RealComponents.class)
class PolkitDetailsIT {
    static final String NVME = "0000:05:00.0";
    static final String GPU = "0000:01:00.0";

    @Test
    void aRuleCanRefuseTheMemberAnNvmeByItsClass(Env env) throws Exception {
        env.sim().driver("nvme", "nvme", true, "144d:a808")
                .device(SimulatedSysfs.Device.of(NVME, 0x144d, 0xa808, 0x010802, 6, "nvme"));
        env.vfiod();
        SysfsSnapshot before = env.snapshot();
        env.manager(User.MEMBER, "Rebind", NVME, "{}").assertError(Env.ACCESS_DENIED, "not authorized");
        before.assertUnchanged("the member's Rebind of an NVMe controller");
        assertEquals("nvme", env.driverOf(NVME));

        // the same member, a GPU (with its audio function, its group): allowed
        assertEquals("vfio-pci", Env.string(env.manager(User.MEMBER, "Rebind", GPU, "{'group': <true>}").assertOk()));
        // and root, the NVMe
        assertEquals("vfio-pci", Env.string(env.manager(User.ROOT, "Rebind", NVME, "{}").assertOk()));
    }
}
