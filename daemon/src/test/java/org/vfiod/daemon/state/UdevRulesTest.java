package org.vfiod.daemon.state;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vfiod.daemon.aliases.AliasIndex;
import org.vfiod.daemon.aliases.AliasSources;
import org.vfiod.daemon.sysfs.Device;
import org.vfiod.daemon.sysfs.PciAddress;
import org.vfiod.daemon.sysfs.PciInfo;

/** Which rules reach the boot: udev applies a line to whatever it matches, with none of the daemon's checks. */
class UdevRulesTest {
    static final Device BOOT_GPU = device("0000:00:02.0", 0x8086, 0x9a49, 0x030000, true);
    static final Device GPU = device("0000:01:00.0", 0x1002, 0x73bf, 0x030000, false);
    static final Device NIC = device("0000:03:00.0", 0x8086, 0x10d3, 0x020000, false);
    static final Device VF = device("0000:04:00.1", 0x15b3, 0x101e, 0x020000, false);
    static final List<Device> PRESENT = List.of(BOOT_GPU, GPU, NIC, VF);

    @TempDir
    Path dir;
    AliasIndex aliases;

    @BeforeEach
    void setUp() throws Exception {
        Files.writeString(dir.resolve("modules.alias"), "alias vfio_pci:v*d*sv*sd*bc*sc*i* vfio_pci\n"
                + "alias vfio_pci:v000015B3d0000101Esv*sd*bc*sc*i* mlx5_vfio_pci\n"
                + "alias pci:v00008086d000010D3sv*sd*bc*sc*i* e1000e\n");
        aliases = AliasIndex.load(AliasSources.forModulesDir(dir, List.of()));
    }

    static Device device(String address, int vendor, int device, int classCode, boolean bootVga) {
        String modalias = String.format("pci:v%08Xd%08Xsv%08Xsd%08Xbc%02Xsc%02Xi%02X", vendor, device, vendor, 1,
                classCode >> 16, (classCode >> 8) & 0xff, classCode & 0xff);
        return new Device(PciAddress.require(address).toDeviceName(), modalias, Optional.of("host"), Optional.empty(),
                OptionalInt.of(1), List.of(), bootVga, false, false,
                Optional.of(new PciInfo(vendor, device, classCode, vendor, 1, Optional.empty(), List.of())));
    }

    private PersistentRule rule(String name, String kind, String value, String driver) {
        Optional<DeviceMatch> m = DeviceMatch.parse(kind, value, new StringBuilder());
        return new PersistentRule(dir.resolve(name), m.orElseThrow(), Optional.ofNullable(driver), false);
    }

    private UdevRules.Boot boot(PersistentRule... rules) {
        return UdevRules.lines(List.of(rules), PRESENT, aliases, module -> module.replace('_', '-'));
    }

    @Test
    void aGoodRuleGetsItsLine() {
        UdevRules.Boot b = boot(rule("nic.conf", "address", "0000:03:00.0", null), rule("vf.conf", "id", "15b3:101e", "mlx5_vfio_pci"));
        assertEquals(List.of(new UdevRules.Line(NIC_MATCH, "vfio-pci", "vfio_pci"),
                new UdevRules.Line(new DeviceMatch.Id(0x15b3, 0x101e, OptionalInt.empty(), OptionalInt.empty()), "mlx5-vfio-pci", "mlx5_vfio_pci")),
                b.lines());
        assertEquals(List.of(), b.left());
    }

    static final DeviceMatch NIC_MATCH = new DeviceMatch.Address(PciAddress.require("0000:03:00.0"));

    @Test
    void aRuleOnTheBootVgaDeviceGetsNoLine() {
        UdevRules.Boot b = boot(rule("igpu.conf", "address", "0000:00:02.0", null), rule("vga.conf", "class", "0300", null),
                rule("nic.conf", "address", "0000:03:00.0", null));
        assertEquals(List.of(new UdevRules.Line(NIC_MATCH, "vfio-pci", "vfio_pci")), b.lines(), "the good rule still has its line");
        assertEquals(2, b.left().size(), b.left().toString());
        assertTrue(b.left().get(0).startsWith("igpu.conf: refused: it covers 0000:00:02.0, the boot VGA device"), b.left().toString());
        assertTrue(b.left().get(1).startsWith("vga.conf: refused: it covers 0000:00:02.0, the boot VGA device"), b.left().toString());
    }

    @Test
    void aDriverThatIsNoVfioDriverGetsNoLine() {
        UdevRules.Boot b = boot(rule("nic.conf", "id", "8086:10d3", "e1000e"));
        assertEquals(List.of(), b.lines());
        assertEquals(List.of("nic.conf: refused: driver e1000e is not a vfio driver known to the module aliases"), b.left());
    }

    @Test
    void aVariantDriverOnHardwareItDoesNotKnowGetsNoLine() {
        UdevRules.Boot b = boot(rule("nic.conf", "address", "0000:03:00.0", "mlx5_vfio_pci"),
                rule("nic-model.conf", "id", "8086:10d3", "mlx5_vfio_pci"));
        assertEquals(List.of(), b.lines());
        assertTrue(b.left().get(0).startsWith("nic.conf: refused: driver mlx5_vfio_pci does not drive pci:v00008086d000010D3"), b.left().toString());
        assertTrue(b.left().get(1).startsWith("nic-model.conf: refused: driver mlx5_vfio_pci does not drive pci:v00008086d000010D3"), b.left().toString());
    }

    @Test
    void anAddressLineForAVariantDriverIsKeptToTheModelThere() {
        UdevRules.Boot b = boot(rule("vf.conf", "address", "0000:04:00.1", null), rule("nic.conf", "address", "0000:03:00.0", "vfio_pci"));
        String text = UdevRules.render("/etc/vfiod/devices.d", b.lines(), List.of());
        // another card in that slot at the next boot must not get mlx5_vfio_pci; vfio_pci drives any card
        assertTrue(text.contains("KERNEL==\"0000:04:00.1\", ATTR{vendor}==\"0x15b3\", ATTR{device}==\"0x101e\", "
                + "ATTR{driver_override}=\"mlx5-vfio-pci\", RUN{builtin}+=\"kmod load mlx5_vfio_pci\"\n"), text);
        assertTrue(text.contains("KERNEL==\"0000:03:00.0\", ATTR{driver_override}=\"vfio-pci\""), text);
    }

    @Test
    void aClassRuleGetsALineOnlyForADriverThatDrivesAnyDeviceOfTheClass() {
        // today class 0200 holds only what mlx5_vfio_pci drives here: at boot it may hold anything
        List<Device> onlyVfs = List.of(VF);
        UdevRules.Boot variant = UdevRules.lines(List.of(rule("nics.conf", "class", "0200", "mlx5_vfio_pci")), onlyVfs, aliases, m -> m);
        assertEquals(List.of(), variant.lines());
        assertTrue(variant.left().get(0).contains("mlx5_vfio_pci does not drive every device class 0200 may cover at boot"), variant.left().toString());
        // without a driver the aliases choose per device: one module for the whole class, or no line
        UdevRules.Boot chosen = UdevRules.lines(List.of(rule("nics.conf", "class", "0200", null)), onlyVfs, aliases, m -> m);
        assertEquals(List.of(), chosen.lines());
        assertTrue(chosen.left().get(0).contains("no one vfio driver drives every device of class 0200"), chosen.left().toString());
        UdevRules.Boot catchAll = UdevRules.lines(List.of(rule("nics.conf", "class", "0200", "vfio-pci")), PRESENT, aliases, m -> m);
        assertEquals(1, catchAll.lines().size(), catchAll.left().toString());
    }
}
