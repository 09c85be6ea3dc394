package org.vfiod.daemon.usage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HostUseScannerTest {
    private static final String OTHER_NAMESPACE = "mnt:[4026532999]";

    @TempDir
    Path dir;
    FakeHost host;

    @BeforeEach
    void setUp() throws IOException {
        host = new FakeHost(dir);
        // processes with the ordinary descriptors of a busy host, none on anything of interest
        host.process(1, "systemd", FakeHost.HOST_NAMESPACE);
        host.open(1, 0, "/dev/null");
        host.open(1, 3, "socket:[1234]");
        host.process(200, "bash", FakeHost.HOST_NAMESPACE);
        host.open(200, 0, "/dev/pts/0");
        host.open(200, 1, "/dev/dri/card10");
    }

    private List<String> scan(Path device, boolean onVfio) throws IOException {
        return host.scanner().scan(device, onVfio).stream().map(HostUse::describe).toList();
    }

    @Test
    void nothingUsesADeviceWhoseDisksNetworkAndNodesAreIdle() throws IOException {
        Path device = host.device("0000:03:00.0");
        Path disk = FakeHost.disk(device, "nvme/nvme0/nvme0n1", "259:0");
        FakeHost.partition(disk, "nvme0n1p1", "259:1", 1);
        FakeHost.netInterface(device, "enp3s0", 3, false);
        FakeHost.node(device.resolve("drm/card1"), "226:1", "dri/card1", null);
        host.mount("259:7", "/dev/nvme1n1p1", "/");
        host.swap("/dev/nvme1n1p2");
        host.ipv4DefaultRoute("eth9");
        assertEquals(List.of(), scan(device, false));
    }

    @Test
    void aPartitionMountedHereIsNamedWithItsMountPoint() throws IOException {
        Path device = host.device("0000:03:00.0");
        Path disk = FakeHost.disk(device, "nvme/nvme0/nvme0n1", "259:0");
        FakeHost.partition(disk, "nvme0n1p1", "259:1", 1);
        FakeHost.partition(disk, "nvme0n1p2", "259:2", 2);
        host.mount("259:2", "/dev/nvme0n1p2", "/");
        assertEquals(List.of("nvme0n1p2 is mounted at /"), scan(device, false));
    }

    @Test
    void aMountInAnotherNamespaceOnlyIsFoundThroughOneOfItsProcesses() throws IOException {
        Path device = host.device("0000:03:00.0");
        Path disk = FakeHost.disk(device, "host0/target0:0:0/0:0:0:0/block/sda", "8:0");
        FakeHost.partition(disk, "sda1", "8:1", 1);
        host.process(500, "containerd-shim", OTHER_NAMESPACE);
        host.process(501, "postgres", OTHER_NAMESPACE);
        host.mountIn(500, "8:1", "/dev/sda1", "/var/lib/data");
        host.mountIn(501, "8:1", "/dev/sda1", "/var/lib/data");
        assertEquals(List.of("sda1 is mounted at /var/lib/data"), scan(device, false));
    }

    @Test
    void mountsInSeveralNamespacesAreListedTogetherSorted() throws IOException {
        Path device = host.device("0000:03:00.0");
        FakeHost.partition(FakeHost.disk(device, "virtio1/block/vda", "254:0"), "vda1", "254:1", 1);
        host.mount("254:1", "/dev/vda1", "/srv/my files");
        host.process(500, "sshd", OTHER_NAMESPACE);
        host.mountIn(500, "254:1", "/dev/vda1", "/home");
        assertEquals(List.of("vda1 is mounted at /home, /srv/my files"), scan(device, false));
    }

    @Test
    void aBtrfsMountIsKnownByItsSourceForItsNumberIsAnonymous() throws IOException {
        Path device = host.device("0000:03:00.0");
        FakeHost.partition(FakeHost.disk(device, "nvme/nvme0/nvme0n1", "259:0"), "nvme0n1p2", "259:2", 2);
        host.mount("0:45", "/dev/nvme0n1p2", "/home");
        assertEquals(List.of("nvme0n1p2 is mounted at /home"), scan(device, false));
    }

    @Test
    void activeSwapIsMatchedByTheBlockName() throws IOException {
        Path device = host.device("0000:03:00.0");
        Path disk = FakeHost.disk(device, "nvme/nvme0/nvme0n1", "259:0");
        FakeHost.partition(disk, "nvme0n1p3", "259:3", 3);
        FakeHost.partition(disk, "nvme0n1p13", "259:13", 13);
        host.swap("/dev/nvme0n1p3");
        host.swap("/swapfile");
        assertEquals(List.of("nvme0n1p3 is active swap"), scan(device, false));
    }

    @Test
    void aPartitionBeneathDeviceMapperIsHeldByIt() throws IOException {
        Path device = host.device("0000:03:00.0");
        Path disk = FakeHost.disk(device, "host0/target0:0:0/0:0:0:0/block/sda", "8:0");
        Path sda1 = FakeHost.partition(disk, "sda1", "8:1", 1);
        host.holder(sda1, "dm-0");
        Path sda2 = FakeHost.partition(disk, "sda2", "8:2", 2);
        host.holder(sda2, "md127");
        host.holder(sda2, "dm-1");
        assertEquals(List.of("sda1 is held by dm-0", "sda2 is held by dm-1, md127"), scan(device, false));
    }

    @Test
    void anExclusiveOpenNothingElseExplainsIsTheKernelsAnswer() throws IOException {
        Path device = host.device("0000:03:00.0");
        FakeHost.disk(device, "virtio1/block/vda", "254:0");
        host.busy.add("vda");
        assertEquals(List.of("vda is open exclusively (by the kernel's answer: EBUSY)"), scan(device, false));
    }

    @Test
    void aMountedPartitionExplainsItsOwnAndItsDisksExclusiveHold() throws IOException {
        Path device = host.device("0000:03:00.0");
        Path disk = FakeHost.disk(device, "nvme/nvme0/nvme0n1", "259:0");
        FakeHost.partition(disk, "nvme0n1p2", "259:2", 2);
        host.mount("259:2", "/dev/nvme0n1p2", "/");
        host.busy.add("nvme0n1");
        host.busy.add("nvme0n1p2");
        assertEquals(List.of("nvme0n1p2 is mounted at /"), scan(device, false));
    }

    /**
     * A platform device's folder is walked as a PCI device's: its interface is found; and so is a nested device's
     * (an MFD's or a simple-pm-bus's platform children go when their parent's driver lets go).
     */
    @Test
    void aPlatformDevicesInterfaceIsFoundAndSoIsANestedDevicesOne() throws IOException {
        Path bus = java.nio.file.Files.createDirectories(host.sys.resolve("bus/platform"));
        Path soc = java.nio.file.Files.createDirectories(host.sys.resolve("devices/platform/soc"));
        Path eth = java.nio.file.Files.createDirectories(soc.resolve("fff51000.ethernet"));
        java.nio.file.Files.createSymbolicLink(eth.resolve("subsystem"), eth.relativize(bus));
        FakeHost.netInterface(eth, "eth0", 2, true);
        host.ipv4Address(2, "192.0.2.10/24");
        assertEquals(List.of("eth0 is up with 192.0.2.10/24"), scan(eth, false));
        assertEquals(List.of("eth0 is up with 192.0.2.10/24"), scan(soc, false));
    }

    /**
     * A platform PCIe host controller takes its whole PCI hierarchy with it: the disk of a PCI device beneath it is
     * found. Beneath a PCI bridge, a nested PCI device stays, and is not counted for the bridge.
     */
    @Test
    void thePciDevicesBeneathAPlatformHostControllerAreWalkedButNotThoseBeneathABridge() throws IOException {
        Path controller = java.nio.file.Files.createDirectories(host.sys.resolve("devices/platform/soc/40000000.pcie"));
        Path nvme = java.nio.file.Files.createDirectories(controller.resolve("pci0000:00/0000:00:00.0/0000:01:00.0"));
        Path disk = FakeHost.disk(nvme, "nvme/nvme0/nvme0n1", "259:0");
        FakeHost.partition(disk, "nvme0n1p2", "259:2", 2);
        host.mount("259:2", "/dev/nvme0n1p2", "/");
        assertEquals(List.of("nvme0n1p2 is mounted at /"), scan(controller, false));
        assertEquals(List.of(), scan(controller.resolve("pci0000:00/0000:00:00.0"), false));
    }

    @Test
    void anInterfaceUpWithAddressesAndTheDefaultRouteIsInService() throws IOException {
        Path device = host.device("0000:03:00.0");
        FakeHost.netInterface(device, "enp3s0", 3, true);
        host.ipv4Address(3, "10.0.0.5/24");
        host.ipv4Address(4, "10.9.9.9/8");
        host.ipv6Address(3, "enp3s0", "20010db8000000000000000000000005", 64, "00");
        host.ipv6Address(3, "enp3s0", "fe80000000000000021122fffe334455", 64, "20");
        host.ipv4Route("enp3s0", "0000000A", "00FFFFFF");
        host.ipv4DefaultRoute("enp3s0");
        assertEquals(List.of("enp3s0 is up with 10.0.0.5/24, 2001:db8::5/64 and carries the default route"), scan(device, false));
    }

    @Test
    void anInterfaceUpWithOnlyItsLinkLocalAddressIsNotInService() throws IOException {
        Path device = host.device("0000:03:00.0");
        FakeHost.netInterface(device, "enp3s0", 3, true);
        host.ipv6Address(3, "enp3s0", "fe80000000000000021122fffe334455", 64, "20");
        assertEquals(List.of(), scan(device, false));
    }

    @Test
    void addressesOfAnInterfaceThatIsDownDoNotCount() throws IOException {
        Path device = host.device("0000:03:00.0");
        FakeHost.netInterface(device, "enp3s0", 3, false);
        host.ipv4Address(3, "10.0.0.5/24");
        assertEquals(List.of(), scan(device, false));
    }

    @Test
    void anInterfaceAdministrativelyUpWithoutCarrierStillCountsByItsFlags() throws IOException {
        Path device = host.device("0000:03:00.0");
        Path iface = FakeHost.netInterface(device, "enp3s0", 3, true);
        Files.writeString(iface.resolve("operstate"), "down\n");
        host.ipv4Address(3, "10.0.0.5/24");
        assertEquals(List.of("enp3s0 is up with 10.0.0.5/24"), scan(device, false));
    }

    @Test
    void theIpv6DefaultRouteAloneMakesAnInterfaceInServiceButAnUnreachableOneDoesNot() throws IOException {
        Path device = host.device("0000:03:00.0");
        FakeHost.netInterface(device, "enp3s0", 3, true);
        FakeHost.netInterface(device, "enp3s0d1", 4, true);
        host.ipv6DefaultRoute("enp3s0", false);
        host.ipv6DefaultRoute("enp3s0d1", true);
        assertEquals(List.of("enp3s0 carries the IPv6 default route"), scan(device, false));
        host.ipv4DefaultRoute("enp3s0");
        assertEquals(List.of("enp3s0 carries the IPv4 and IPv6 default routes"), scan(device, false));
    }

    @Test
    void aBridgePortIsEnslavedToItsBridge() throws IOException {
        Path device = host.device("0000:03:00.0");
        Path iface = FakeHost.netInterface(device, "enp3s0", 3, true);
        host.master(iface, "br0");
        assertEquals(List.of("enp3s0 is enslaved to br0"), scan(device, false));
    }

    @Test
    void openDrmFramebufferAndSoundNodesNameTheirProcesses() throws IOException {
        Path device = host.device("0000:03:00.0");
        FakeHost.node(device.resolve("drm/card1"), "226:1", "dri/card1", null);
        FakeHost.node(device.resolve("drm/renderD128"), "226:128", "dri/renderD128", null);
        FakeHost.node(device.resolve("graphics/fb1"), "29:1", "fb1", null);
        Files.createDirectories(device.resolve("sound/card1"));
        FakeHost.node(device.resolve("sound/card1/pcmC1D3p"), "116:7", "snd/pcmC1D3p", null);
        FakeHost.node(device.resolve("sound/card1/controlC1"), "116:5", "snd/controlC1", null);
        host.process(812, "Xwayland", FakeHost.HOST_NAMESPACE);
        host.open(812, 14, "/dev/dri/card1");
        host.open(812, 15, "/dev/dri/card1");
        host.open(812, 16, "/dev/dri/renderD128");
        host.process(90, "firefox", FakeHost.HOST_NAMESPACE);
        host.open(90, 30, "/dev/dri/renderD128");
        host.process(1500, "pipewire", FakeHost.HOST_NAMESPACE);
        host.open(1500, 40, "/dev/snd/controlC1");
        host.process(1600, "plymouthd", FakeHost.HOST_NAMESPACE);
        host.open(1600, 5, "/dev/fb1");
        assertEquals(List.of(
                "/dev/dri/card1 is open by pid 812 (Xwayland)",
                "/dev/dri/renderD128 is open by pid 90 (firefox)",
                "/dev/dri/renderD128 is open by pid 812 (Xwayland)",
                "/dev/fb1 is open by pid 1600 (plymouthd)",
                "/dev/snd/controlC1 is open by pid 1500 (pipewire)"), scan(device, false));
    }

    /** vfio's unsafe no-IOMMU mode names the group's node noiommu-N: a VM holding it is found as well. */
    @Test
    void aVmHoldingTheNoIommuGroupOfADeviceOnVfioIsNamed() throws IOException {
        Path device = host.device("0000:03:00.0");
        host.iommuGroup(device, 12);
        host.process(4321, "qemu-system-aarch64", FakeHost.HOST_NAMESPACE);
        host.open(4321, 21, "/dev/vfio/noiommu-12");
        assertEquals(List.of("/dev/vfio/noiommu-12 is open by pid 4321 (qemu-system-aarch64)"), scan(device, true));
        assertEquals(List.of(), scan(device, false), "a device off vfio has no group node to hold");
    }

    @Test
    void aVmHoldingTheGroupAndTheCdevOfADeviceOnVfioIsNamed() throws IOException {
        Path device = host.device("0000:03:00.0");
        host.iommuGroup(device, 12);
        FakeHost.node(device.resolve("vfio-dev/vfio0"), "511:0", "vfio/devices/vfio0", null);
        host.process(4321, "qemu-system-x86_64", FakeHost.HOST_NAMESPACE);
        host.open(4321, 20, "/dev/vfio/vfio");
        host.open(4321, 21, "/dev/vfio/12");
        host.process(4400, "qemu-system-x86_64", FakeHost.HOST_NAMESPACE);
        host.open(4400, 22, "/dev/vfio/devices/vfio0");
        assertEquals(List.of(
                "/dev/vfio/12 is open by pid 4321 (qemu-system-x86_64)",
                "/dev/vfio/devices/vfio0 is open by pid 4400 (qemu-system-x86_64)"), scan(device, true));
        List<HostUse> uses = host.scanner().scan(device, true);
        assertEquals(List.of(HostUse.VfioNodeOpen.class, HostUse.VfioNodeOpen.class), uses.stream().map(Object::getClass).toList());
    }

    @Test
    void theVfioCdevIsFoundWithoutAUeventNamingIt() throws IOException {
        Path device = host.device("0000:03:00.0");
        Path cdev = Files.createDirectories(device.resolve("vfio-dev/vfio3"));
        Files.writeString(cdev.resolve("dev"), "511:3\n");
        host.process(4321, "qemu-system-x86_64", FakeHost.HOST_NAMESPACE);
        host.open(4321, 21, "/dev/vfio/devices/vfio3");
        assertEquals(List.of("/dev/vfio/devices/vfio3 is open by pid 4321 (qemu-system-x86_64)"), scan(device, true));
    }

    @Test
    void theGroupOfADeviceOnItsHostDriverIsNotItsConcern() throws IOException {
        Path device = host.device("0000:03:00.0");
        host.iommuGroup(device, 12);
        host.process(4321, "qemu-system-x86_64", FakeHost.HOST_NAMESPACE);
        host.open(4321, 21, "/dev/vfio/12");
        assertEquals(List.of(), scan(device, false));
    }

    @Test
    void aNestedPciDeviceIsNotWalked() throws IOException {
        Path bridge = host.device("0000:00:1c.0");
        Path child = Files.createDirectories(bridge.resolve("0000:03:00.0"));
        FakeHost.partition(FakeHost.disk(child, "nvme/nvme0/nvme0n1", "259:0"), "nvme0n1p2", "259:2", 2);
        host.mount("259:2", "/dev/nvme0n1p2", "/");
        assertEquals(List.of(), scan(bridge, false));
        assertEquals(List.of("nvme0n1p2 is mounted at /"), scan(child, false));
    }

    @Test
    void severalDevicesGiveOneListByKindWithoutDuplicates() throws IOException {
        Path gpu = host.device("0000:03:00.0");
        Path audio = host.device("0000:03:00.1");
        FakeHost.node(gpu.resolve("drm/card1"), "226:1", "dri/card1", null);
        FakeHost.node(audio.resolve("sound/card1/controlC1"), "116:5", "snd/controlC1", null);
        Path iface = FakeHost.netInterface(audio, "enp3s0f1", 7, true);
        host.master(iface, "bond0");
        host.process(812, "Xwayland", FakeHost.HOST_NAMESPACE);
        host.open(812, 14, "/dev/dri/card1");
        host.open(812, 40, "/dev/snd/controlC1");
        List<HostUse> uses = host.scanner().scan(List.of(new DeviceFolder(gpu, false), new DeviceFolder(audio, false),
                new DeviceFolder(gpu, false), new DeviceFolder(audio, false)));
        assertEquals(List.of(
                "enp3s0f1 is enslaved to bond0",
                "/dev/dri/card1 is open by pid 812 (Xwayland)",
                "/dev/snd/controlC1 is open by pid 812 (Xwayland)"), uses.stream().map(HostUse::describe).toList());
    }

    @Test
    void everyKindInOneDeviceComesInTheOrderOfKinds() throws IOException {
        Path device = host.device("0000:03:00.0");
        Path disk = FakeHost.disk(device, "nvme/nvme0/nvme0n1", "259:0");
        FakeHost.partition(disk, "nvme0n1p1", "259:1", 1);
        Path p2 = FakeHost.partition(disk, "nvme0n1p2", "259:2", 2);
        FakeHost.partition(disk, "nvme0n1p3", "259:3", 3);
        FakeHost.partition(disk, "nvme0n1p4", "259:4", 4);
        // each kind on a partition before the one of the kind before it, so that only sorting puts them in order
        host.holder(p2, "dm-0");
        host.swap("/dev/nvme0n1p3");
        host.mount("259:4", "/dev/nvme0n1p4", "/");
        host.busy.add("nvme0n1p1");
        Path iface = FakeHost.netInterface(device, "enp3s0", 3, true);
        host.ipv4Address(3, "10.0.0.5/24");
        host.master(iface, "br0");
        FakeHost.node(device.resolve("drm/card1"), "226:1", "dri/card1", null);
        host.process(812, "Xwayland", FakeHost.HOST_NAMESPACE);
        host.open(812, 14, "/dev/dri/card1");
        assertEquals(List.of(
                "nvme0n1p4 is mounted at /",
                "nvme0n1p3 is active swap",
                "nvme0n1p2 is held by dm-0",
                "nvme0n1p1 is open exclusively (by the kernel's answer: EBUSY)",
                "enp3s0 is up with 10.0.0.5/24",
                "enp3s0 is enslaved to br0",
                "/dev/dri/card1 is open by pid 812 (Xwayland)"), scan(device, false));
    }

    @Test
    void aProcessWhoseCommandIsGoneIsStillNamedByItsPid() throws IOException {
        Path device = host.device("0000:03:00.0");
        FakeHost.node(device.resolve("drm/card1"), "226:1", "dri/card1", null);
        host.process(812, "Xwayland", FakeHost.HOST_NAMESPACE);
        host.open(812, 14, "/dev/dri/card1");
        Files.delete(host.proc.resolve("812/comm"));
        assertEquals(List.of("/dev/dri/card1 is open by pid 812 (?)"), scan(device, false));
    }

    @Test
    void aFolderOutsideTheSysfsRootIsRefused() throws IOException {
        Path elsewhere = Files.createDirectories(dir.resolve("elsewhere/0000:03:00.0"));
        assertThrows(IllegalArgumentException.class, () -> host.scanner().scan(elsewhere, false));
    }

    @Test
    void processesThatHideTheirDescriptorsMakeOneWarningPerCheckSayingItIsPartial() throws IOException {
        Path device = host.device("0000:01:00.0");
        FakeHost.node(device.resolve("drm/card1"), "226:1", "dri/card1", null);
        host.process(300, "Xorg", FakeHost.HOST_NAMESPACE);
        host.open(300, 5, "/dev/dri/card1");
        host.process(301, "qemu", FakeHost.HOST_NAMESPACE);
        HostUseScanner scanner = host.scanner(ProcessTableTest.refusing(java.util.Set.of(300, 301)));
        try (org.vfiod.daemon.state.LoggedLines log = new org.vfiod.daemon.state.LoggedLines(HostUseScanner.class)) {
            // Xorg's use is hidden: the answer cannot show it, the log says why
            assertEquals(List.of(), scanner.scan(device, false).stream().map(HostUse::describe).toList());
            List<String> warnings = log.lines().stream().filter(l -> l.startsWith("WARN")).toList();
            assertEquals(1, warnings.size(), log.all());
            String w = warnings.get(0);
            assertTrue(w.contains("partial") && w.contains("2 of 4 processes") && w.contains("CAP_DAC_READ_SEARCH"), w);
        }
        // with every folder readable the use shows, and nothing is said
        try (org.vfiod.daemon.state.LoggedLines log = new org.vfiod.daemon.state.LoggedLines(HostUseScanner.class)) {
            assertEquals(1, host.scanner().scan(device, false).size());
            assertEquals(List.of(), log.lines().stream().filter(l -> l.startsWith("WARN")).toList());
        }
    }
}
