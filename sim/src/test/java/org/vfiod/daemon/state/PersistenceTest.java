package org.vfiod.daemon.state;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vfiod.daemon.aliases.AliasIndex;
import org.vfiod.daemon.aliases.AliasSources;
import org.vfiod.daemon.binding.PollingDriverWaiter;
import org.vfiod.daemon.binding.RebindEngine;
import org.vfiod.daemon.sim.SimulatedKernel;
import org.vfiod.daemon.sim.SimulatedSysfs;
import org.vfiod.daemon.sysfs.DeviceName;
import org.vfiod.daemon.sysfs.DriverName;
import org.vfiod.daemon.sysfs.PciAddress;
import org.vfiod.daemon.sysfs.Sysfs;

class PersistenceTest {
    @TempDir
    Path dir;
    SimulatedSysfs sim;
    Sysfs sysfs;
    AliasIndex index;
    RebindEngine engine;
    Path config;
    Path udev;
    Persistence persistence;
    List<DeviceName> changed = new ArrayList<>();

    @BeforeEach
    void setUp() throws Exception {
        sim = SimulatedSysfs.sampleMachine(dir.resolve("sys"));
        // the PF 0000:04:00.0 creates VFs of device id 101e
        Path pf = sim.root().resolve("devices/pci0000:00/0000:04:00.0");
        Files.writeString(pf.resolve("sriov_vf_device"), "101e\n");
        Files.writeString(pf.resolve("sriov_drivers_autoprobe"), "1\n");
        SimulatedKernel kernel = new SimulatedKernel(sim.root());
        sysfs = new Sysfs(sim.root(), kernel);
        Path modules = Files.createDirectories(dir.resolve("modules"));
        Files.writeString(modules.resolve("modules.alias"), "alias vfio_pci:v*d*sv*sd*bc*sc*i* vfio_pci\n");
        index = AliasIndex.load(AliasSources.forModulesDir(modules, List.of()));
        engine = new RebindEngine(sysfs, () -> index, kernel, new PollingDriverWaiter(sysfs), new org.vfiod.daemon.binding.JournalStore(dir.resolve("run/journal")),
                org.vfiod.daemon.sim.SimulatedHost.scanner(sysfs.root(), dir.resolve("host")));
        config = dir.resolve("etc");
        udev = dir.resolve("udev");
        persistence = new Persistence(new RuleStore(config), sysfs, engine, () -> index, Optional.of(udev), changed::add);
    }

    @AfterEach
    void tearDown() {
        persistence.close();
        engine.close();
    }

    private String driver(String address) throws Exception {
        return sysfs.currentDriver(PciAddress.require(address).toDeviceName()).orElse("");
    }

    private void rule(String name, String text) throws Exception {
        Files.createDirectories(config.resolve(RuleStore.FOLDER));
        Files.writeString(config.resolve(RuleStore.FOLDER).resolve(name), text);
    }

    @Test
    void persistWritesAReadableRuleAtomicallyAndForgetRemovesIt() throws Exception {
        RuleStore store = persistence.store();
        store.persist(PciAddress.require("0000:03:00.0").toDeviceName(), Optional.of(new DriverName("vfio-pci")), true);
        Path file = config.resolve("devices.d/pci-0000:03:00.0.conf");
        String text = Files.readString(file);
        assertTrue(text.startsWith("# vfiod: keep this device on VFIO"), text);
        assertTrue(text.contains("\nmatch address 0000:03:00.0\ndriver vfio-pci\ngroup yes\n"), text);
        try (Stream<Path> files = Files.list(file.getParent())) {
            assertEquals(List.of(file), files.toList(), "no temporary file is left behind");
        }
        assertTrue(persistence.covers(sysfs.read(PciAddress.require("0000:03:00.0").toDeviceName()).orElseThrow()));
        assertTrue(store.forget(PciAddress.require("0000:03:00.0").toDeviceName()).existedBefore());
        assertFalse(Files.exists(file));
        assertFalse(persistence.covers(sysfs.read(PciAddress.require("0000:03:00.0").toDeviceName()).orElseThrow()));
        assertFalse(store.forget(PciAddress.require("0000:03:00.0").toDeviceName()).existedBefore());
    }

    @Test
    void coldplugMovesEveryCoveredDeviceAndWritesTheBootRules() throws Exception {
        rule("nic.conf", "# the NIC goes to VMs\nmatch address 0000:03:00.0\n");
        rule("gpu.conf", "match id 1002:73bf\ngroup yes\n");
        persistence.coldplug(sysfs.readAll());
        assertEquals("vfio-pci", driver("0000:03:00.0"));
        assertEquals("vfio-pci", driver("0000:01:00.0"));
        assertEquals("vfio-pci", driver("0000:01:00.1"), "group yes moves the audio function too");
        assertTrue(changed.contains(PciAddress.require("0000:03:00.0").toDeviceName()));
        String rules = Files.readString(udev.resolve(UdevRules.FILE_NAME));
        assertTrue(rules.contains("ACTION==\"add\", SUBSYSTEM==\"pci\", KERNEL==\"0000:03:00.0\", ATTR{driver_override}=\"vfio-pci\", RUN{builtin}+=\"kmod load vfio_pci\"\n"), rules);
        assertTrue(rules.contains("ATTR{vendor}==\"0x1002\", ATTR{device}==\"0x73bf\", ATTR{driver_override}=\"vfio-pci\""), rules);
    }

    @Test
    void aRulesDriverPolicyPutsAVariantDeviceOnVfioPciAtStartAndAtBoot() throws Exception {
        Files.writeString(dir.resolve("modules/modules.alias"), "alias vfio_pci:v*d*sv*sd*bc*sc*i* vfio_pci\n"
                + "alias vfio_pci:v000015B3d0000101Dsv*sd*bc*sc*i* mlx5_vfio_pci\n");
        index = AliasIndex.load(AliasSources.forModulesDir(dir.resolve("modules"), List.of()));
        sim.driver("mlx5_vfio_pci", "mlx5_vfio_pci", false, "vfio", "override-only", "15b3:101d");
        rule("pf.conf", "match id 15b3:101d\ndriver-policy prefer-vfio-pci\n");
        rule("both.conf", "match address 0000:03:00.0\ndriver vfio-pci\ndriver-policy prefer-vfio-pci\n");
        persistence.coldplug(sysfs.readAll());
        assertEquals("vfio-pci", driver("0000:04:00.0"), "the policy, not the variant driver mlx5_vfio_pci");
        String rules = Files.readString(udev.resolve(UdevRules.FILE_NAME));
        assertTrue(rules.contains("ATTR{vendor}==\"0x15b3\", ATTR{device}==\"0x101d\", ATTR{driver_override}=\"vfio-pci\", RUN{builtin}+=\"kmod load vfio_pci\""), rules);
        List<RuleStore.Problem> problems = persistence.store().current().problems();
        assertEquals(1, problems.size(), problems.toString());
        assertTrue(problems.get(0).toString().endsWith("both.conf: driver and driver-policy both given: a named driver leaves nothing to choose; keep one"),
                problems.toString());
        assertEquals("e1000e", driver("0000:03:00.0"), "a rule with both is not applied");
    }

    @Test
    void withoutThePolicyTheBootRuleNamesTheVariantDriver() throws Exception {
        Files.writeString(dir.resolve("modules/modules.alias"), "alias vfio_pci:v*d*sv*sd*bc*sc*i* vfio_pci\n"
                + "alias vfio_pci:v000015B3d0000101Dsv*sd*bc*sc*i* mlx5_vfio_pci\n");
        index = AliasIndex.load(AliasSources.forModulesDir(dir.resolve("modules"), List.of()));
        sim.driver("mlx5_vfio_pci", "mlx5_vfio_pci", false, "vfio", "override-only", "15b3:101d");
        rule("pf.conf", "match id 15b3:101d\n");
        persistence.coldplug(sysfs.readAll());
        assertEquals("mlx5_vfio_pci", driver("0000:04:00.0"));
        assertTrue(Files.readString(udev.resolve(UdevRules.FILE_NAME)).contains("RUN{builtin}+=\"kmod load mlx5_vfio_pci\""));
    }

    @Test
    void aDriverPolicyThatIsNoneIsAMistake() throws Exception {
        rule("typo.conf", "match address 0000:03:00.0\ndriver-policy vfio-pci\n");
        persistence.coldplug(sysfs.readAll());
        List<RuleStore.Problem> problems = persistence.store().current().problems();
        assertEquals(1, problems.size(), problems.toString());
        assertTrue(problems.get(0).toString().endsWith("typo.conf:2: driver-policy takes one of best-match, prefer-vfio-pci"), problems.toString());
    }

    @Test
    void aMistakeInOneFileIsReportedWithItsLineAndTheRestStillApplies() throws Exception {
        rule("a-broken.conf", "match address 0000:03:00.0\ndriverr vfio-pci\n");
        rule("b-bad-address.conf", "match address 0000:03:00.9\n");
        rule("c-good.conf", "match id 1002:73bf\ngroup yes\n");
        persistence.coldplug(sysfs.readAll());
        List<RuleStore.Problem> problems = persistence.store().current().problems();
        assertEquals(2, problems.size(), problems.toString());
        assertTrue(problems.get(0).toString().endsWith("a-broken.conf:2: unknown keyword 'driverr' (match, driver, driver-policy, group, owner)"), problems.toString());
        assertTrue(problems.get(1).toString().endsWith("b-bad-address.conf:1: '0000:03:00.9' is not a PCI address"), problems.toString());
        assertEquals("e1000e", driver("0000:03:00.0"), "the broken rule is not applied");
        assertEquals("vfio-pci", driver("0000:01:00.0"), "the good rule is");
    }

    @Test
    void aRuleTheDaemonWouldRefuseIsRefusedOnceAtLoadAndNeverReachesTheBootRules() throws Exception {
        rule("igpu.conf", "match address 0000:00:02.0\n");
        rule("vga.conf", "match class 0300\ndriver e1000e\n");
        rule("nic-host.conf", "match id 8086:10d3\ndriver e1000e\n");
        rule("vf.conf", "match id 15b3:101e\n");
        try (LoggedLines log = new LoggedLines(RuleStore.class)) {
            // loaded twice at start, as the daemon does (before the registry, then by coldplug), and again on a change
            persistence.store().reload();
            persistence.coldplug(sysfs.readAll());
            persistence.store().reload();
            persistence.rulesChanged();
            List<String> refused = log.lines().stream().filter(l -> l.contains("refused")).toList();
            assertEquals(3, refused.size(), "logged once each, at the load that found them:\n" + log.all());
            assertTrue(refused.get(0).contains("igpu.conf: refused, as vfiod refuses the move it asks for: it covers 0000:00:02.0, the boot VGA device"), refused.toString());
            assertTrue(refused.get(1).contains("nic-host.conf: refused, as vfiod refuses the move it asks for: driver e1000e is not a vfio driver"), refused.toString());
            assertTrue(refused.get(2).contains("vga.conf: refused"), refused.toString());
        }
        assertEquals("i915", driver("0000:00:02.0"));
        assertEquals("e1000e", driver("0000:03:00.0"));
        assertEquals("vfio-pci", driver("0000:04:00.1"), "the good rule applies");
        assertFalse(persistence.covers(sysfs.read(PciAddress.require("0000:00:02.0").toDeviceName()).orElseThrow()),
                "a refused rule is not in effect: the device is not Persistent");
        String rules = Files.readString(udev.resolve(UdevRules.FILE_NAME));
        assertFalse(rules.contains("0000:00:02.0"), rules);
        assertFalse(rules.contains("e1000e"), rules);
        assertFalse(rules.contains("class"), rules);
        assertTrue(rules.contains("ATTR{vendor}==\"0x15b3\", ATTR{device}==\"0x101e\", ATTR{driver_override}=\"vfio-pci\", RUN{builtin}+=\"kmod load vfio_pci\"\n"), rules);
    }

    @Test
    void aVariantDriverIsKeptToTheHardwareItsAliasesName() throws Exception {
        Path modules = dir.resolve("modules");
        Files.writeString(modules.resolve("modules.alias"), "alias vfio_pci:v*d*sv*sd*bc*sc*i* vfio_pci\n"
                + "alias vfio_pci:v000015B3d0000101Esv*sd*bc*sc*i* mlx5_vfio_pci\n");
        index = AliasIndex.load(AliasSources.forModulesDir(modules, List.of()));
        sim.driver("mlx5_vfio_pci", "mlx5_vfio_pci", false, "vfio", "override-only", "15b3:101e");
        rule("nic.conf", "match address 0000:03:00.0\ndriver mlx5_vfio_pci\n");
        rule("vf.conf", "match id 15b3:101e\ndriver mlx5_vfio_pci\n");
        persistence.coldplug(sysfs.readAll());
        assertEquals("e1000e", driver("0000:03:00.0"));
        assertEquals("mlx5_vfio_pci", driver("0000:04:00.1"));
        List<RuleStore.Problem> problems = persistence.store().current().problems();
        assertEquals(1, problems.size(), problems.toString());
        assertTrue(problems.get(0).toString().contains("nic.conf: refused, as vfiod refuses the move it asks for: driver mlx5_vfio_pci does not drive pci:v00008086d000010D3"), problems.toString());
        String rules = Files.readString(udev.resolve(UdevRules.FILE_NAME));
        assertFalse(rules.contains("0000:03:00.0"), rules);
        assertTrue(rules.contains("ATTR{device}==\"0x101e\", ATTR{driver_override}=\"mlx5_vfio_pci\", RUN{builtin}+=\"kmod load mlx5_vfio_pci\""), rules);
    }

    @Test
    void hotplugOfACoveredDeviceLandsOnVfio() throws Exception {
        rule("nics.conf", "match id 8086:10d3\n");
        persistence.coldplug(sysfs.readAll());
        sim.device(SimulatedSysfs.Device.of("0000:05:00.0", 0x8086, 0x10d3, 0x020000, 9, "e1000e"));
        persistence.onAdded(PciAddress.require("0000:05:00.0").toDeviceName());
        persistence.awaitIdle(Duration.ofSeconds(10));
        assertEquals("vfio-pci", driver("0000:05:00.0"));
    }

    @Test
    void aRuleForTheVfsTurnsOffAutoprobeOnTheirPf() throws Exception {
        rule("vfs.conf", "match id 15b3:101e\n");
        persistence.coldplug(sysfs.readAll());
        Path pf = sim.root().resolve("devices/pci0000:00/0000:04:00.0");
        assertEquals("0", Files.readString(pf.resolve("sriov_drivers_autoprobe")).strip());
        assertEquals("vfio-pci", driver("0000:04:00.1"));
        assertEquals("mlx5_core", driver("0000:04:00.0"), "the PF itself stays on its host driver");
        String rules = Files.readString(udev.resolve(UdevRules.FILE_NAME));
        assertTrue(rules.contains("KERNEL==\"0000:04:00.0\", ATTR{sriov_drivers_autoprobe}=\"0\""), rules);
    }

    @Test
    void withoutRulesThereIsNoBootRuleFile() throws Exception {
        persistence.coldplug(sysfs.readAll());
        assertFalse(Files.exists(udev.resolve(UdevRules.FILE_NAME)));
    }
}
