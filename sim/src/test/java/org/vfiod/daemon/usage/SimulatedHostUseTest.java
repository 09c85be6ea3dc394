package org.vfiod.daemon.usage;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vfiod.daemon.sim.SimulatedSysfs;
import org.vfiod.daemon.sysfs.PciAddress;
import org.vfiod.daemon.sysfs.Sysfs;

/** The scanner on the simulated kernel's sample machine, with the daemon's {@link FakeHost} beside it. */
class SimulatedHostUseTest {
    @TempDir
    Path dir;

    @Test
    void theSampleMachinesGpuItsNicAndAVmHoldingTheGroupOfAVfAreSeen() throws IOException {
        SimulatedSysfs sim = SimulatedSysfs.sampleMachine(dir.resolve("sys"));
        Sysfs sysfs = new Sysfs(sim.root(), (file, value) -> { });
        FakeHost host = new FakeHost(sysfs.root(), dir);
        Path gpu = sysfs.deviceDir(PciAddress.require("0000:01:00.0").toDeviceName()).orElseThrow();
        Path nic = sysfs.deviceDir(PciAddress.require("0000:03:00.0").toDeviceName()).orElseThrow();
        Path vf = sysfs.deviceDir(PciAddress.require("0000:04:00.1").toDeviceName()).orElseThrow();
        FakeHost.node(gpu.resolve("drm/card1"), "226:1", "dri/card1", null);
        FakeHost.netInterface(nic, "enp3s0", 2, true);
        host.ipv4Address(2, "192.168.1.20/24");
        host.ipv4DefaultRoute("enp3s0");
        host.process(812, "Xwayland", FakeHost.HOST_NAMESPACE);
        host.open(812, 14, "/dev/dri/card1");
        host.process(4321, "qemu-system-x86_64", FakeHost.HOST_NAMESPACE);
        host.open(4321, 21, "/dev/vfio/5");
        List<String> uses = host.scanner().scan(List.of(new DeviceFolder(gpu, false), new DeviceFolder(nic, false),
                new DeviceFolder(vf, true))).stream().map(HostUse::describe).toList();
        assertEquals(List.of(
                "enp3s0 is up with 192.168.1.20/24 and carries the default route",
                "/dev/dri/card1 is open by pid 812 (Xwayland)",
                "/dev/vfio/5 is open by pid 4321 (qemu-system-x86_64)"), uses);
    }
}
