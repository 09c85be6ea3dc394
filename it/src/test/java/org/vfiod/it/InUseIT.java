package org.vfiod.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.vfiod.daemon.usage.FakeHost;

/**
 * vfiod never takes a device the host uses, nor gives back one a VM holds: InUse names every user and nothing is
 * written; a dry run says the same; Users() lists them without moving anything; force (an admin's, through
 * org.vfiod.force) takes it anyway. The host around the simulated tree is a fake /proc in the test's folder.
 */
@ExtendWith(RealComponents.class)
class InUseIT {
    static final String NIC = "0000:03:00.0";

    @Test
    void aNicThatIsUpWithAnAddressAndTheDefaultRouteIsNotTaken(Env env) throws Exception {
        FakeHost host = new FakeHost(env.sysfsRoot(), env.hostDir());
        FakeHost.netInterface(env.deviceDir(NIC), "enp3s0", 2, true);
        Files.writeString(env.sysfsRoot().resolve(".vfiod-sim/ipv4"), "2 192.0.2.10/24\n");
        host.ipv4DefaultRoute("enp3s0");
        env.vfiod();
        SysfsSnapshot before = env.snapshot();
        String user = "enp3s0 is up with 192.0.2.10/24 and carries the default route";

        env.manager(User.ROOT, "Rebind", NIC, "{}").assertError(Env.IN_USE, user, "nothing was changed");
        env.device(User.MEMBER, NIC, "Rebind", "{'dry-run': <true>}").assertError(Env.IN_USE, user);
        assertEquals("(['" + user + "'],)", env.call(User.OUTSIDER, Env.devicePath(NIC), Env.DEVICE_IFACE + ".Users")
                .assertOk().out().strip());
        // the member may move devices, but forcing is an admin's decision
        env.manager(User.MEMBER, "Rebind", NIC, "{'force': <true>}").assertError(Env.ACCESS_DENIED, "not authorized");
        before.assertUnchanged("InUse");

        // once the interface is down, it moves
        Files.writeString(env.deviceDir(NIC).resolve("net/enp3s0/operstate"), "down\n");
        Files.writeString(env.deviceDir(NIC).resolve("net/enp3s0/flags"), "0x1002\n");
        Files.writeString(env.hostDir().resolve("proc/net/route"), "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n");
        assertEquals("(@as [],)", env.call(User.OUTSIDER, Env.devicePath(NIC), Env.DEVICE_IFACE + ".Users").assertOk().out().strip());
        assertEquals("vfio-pci", Env.string(env.manager(User.MEMBER, "Rebind", NIC, "{}").assertOk()));
    }

    @Test
    void aRestoreWhileAVmHoldsTheDeviceAnswersInUseAtOnce(Env env) throws Exception {
        FakeHost host = new FakeHost(env.sysfsRoot(), env.hostDir());
        env.vfiod();
        assertEquals("vfio-pci", Env.string(env.manager(User.ROOT, "Rebind", NIC, "{}").assertOk()));
        host.process(4321, "qemu-system-x86_64", FakeHost.HOST_NAMESPACE);
        host.open(4321, 27, "/dev/vfio/3");
        SysfsSnapshot before = env.snapshot();
        long t0 = System.nanoTime();
        env.manager(User.ROOT, "Restore", NIC, "{}").assertError(Env.IN_USE, "/dev/vfio/3 is open by pid 4321 (qemu-system-x86_64)");
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertTrue(ms < 5000, "InUse took " + ms + " ms");
        before.assertUnchanged("a Restore while a VM holds the device");
        assertEquals("vfio-pci", env.deviceProperty(NIC, "Driver"));

        // the VM exits: the device goes back
        Files.delete(env.hostDir().resolve("proc/4321/fd/27"));
        assertEquals("e1000e", Env.string(env.manager(User.ROOT, "Restore", NIC, "{}").assertOk()));
    }
}
