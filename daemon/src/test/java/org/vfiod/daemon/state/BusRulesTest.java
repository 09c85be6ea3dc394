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
import org.vfiod.daemon.sysfs.DeviceName;
import org.vfiod.daemon.sysfs.DriverName;

/** The rules of the other buses: by bus and name, by compatible string, and the boot lines udev gets for them. */
class BusRulesTest {
    private static final DeviceName MMIO = new DeviceName("platform", "a000000.virtio_mmio");
    private static final Device MMIO_DEVICE = platform(MMIO, "virtio,mmio");
    private static final Device ETH = platform(new DeviceName("platform", "fff51000.ethernet"), "altr,socfpga-stmmac", "snps,dwmac");

    @TempDir
    Path config;
    RuleStore store;
    AliasIndex aliases;

    @BeforeEach
    void setUp() throws Exception {
        store = new RuleStore(config);
        Path modules = Files.createDirectories(config.resolve("modules"));
        Files.writeString(modules.resolve("modules.alias"), "alias vfio_pci:v*d*sv*sd*bc*sc*i* vfio_pci\n");
        aliases = AliasIndex.load(AliasSources.forModulesDir(modules, List.of()));
    }

    static Device platform(DeviceName name, String... compatible) {
        return new Device(name, "of:NxT(null)C" + compatible[0], Optional.of("host"), Optional.empty(), OptionalInt.of(3),
                List.of(name), false, false, false, Optional.empty(), Optional.empty(), List.of(compatible));
    }

    private RuleStore.Loaded write(String name, String text) throws Exception {
        Files.createDirectories(store.folder());
        Files.writeString(store.folder().resolve(name), text);
        return store.reload();
    }

    @Test
    void aRuleNamesADeviceOfAnyBusByBusAndName() throws Exception {
        RuleStore.Loaded loaded = write("mmio.conf", "match bus platform name a000000.virtio_mmio\n");
        assertEquals(List.of(), loaded.problems());
        assertEquals(new DeviceMatch.Named(MMIO), loaded.rules().get(0).match());
        assertTrue(store.covers(MMIO_DEVICE));
        assertEquals(Optional.empty(), store.ruleFor(ETH));
        // a PCI device by bus and name is the same device its address names
        assertEquals(List.of(), write("nic.conf", "match bus pci name 0000:03:00.0\n").problems());
    }

    @Test
    void aCompatibleStringMatchesInAnyPlaceOfTheDevicesList() throws Exception {
        write("dwmac.conf", "match compatible snps,dwmac\ndriver vfio-platform\n");
        assertTrue(store.covers(ETH), "the second of its compatible strings");
        assertEquals(Optional.empty(), store.ruleFor(MMIO_DEVICE));
        // the device's own rule comes before a compatible one
        write("eth.conf", "match bus platform name fff51000.ethernet\n");
        assertEquals("eth.conf", store.ruleFor(ETH).orElseThrow().file().getFileName().toString());
    }

    @Test
    void namesAndStringsUdevWouldReadAsPatternsOrBusesVfiodDoesNotKnowAreRefused() throws Exception {
        List<RuleStore.Problem> problems = write("a.conf", "match bus platform name a*.virtio_mmio\n").problems();
        assertTrue(problems.get(0).reason().contains("is not a platform device name"), problems.toString());
        problems = write("a.conf", "match bus ccw name 0.0.1234\n").problems();
        assertTrue(problems.get(0).reason().contains("'ccw' is not a bus vfiod knows (pci, cdx, platform, fsl-mc, amba)"), problems.toString());
        problems = write("a.conf", "match compatible virtio,mmio\"\n").problems();
        assertTrue(problems.get(0).reason().contains("compatible takes one device-tree compatible string"), problems.toString());
        problems = write("a.conf", "match bus platform a000000.virtio_mmio\n").problems();
        assertTrue(problems.get(0).reason().startsWith("match needs a kind and a value"), problems.toString());
    }

    @Test
    void persistingAPlatformDeviceWritesItsBusAndName() throws Exception {
        store.persist(MMIO, Optional.of(new DriverName("vfio-platform")), false);
        Path f = RuleStore.addressFile(store.folder(), MMIO);
        assertEquals("platform-a000000.virtio_mmio.conf", f.getFileName().toString());
        assertTrue(Files.readString(f).contains("\nmatch bus platform name a000000.virtio_mmio\ndriver vfio-platform\n"), Files.readString(f));
        assertTrue(store.covers(MMIO_DEVICE));
        store.forget(MMIO);
        assertTrue(Files.notExists(f));
    }

    @Test
    void theFallbackDriverIsAcceptedForItsOwnBusOnly() {
        PersistentRule ok = new PersistentRule(config.resolve("a.conf"), new DeviceMatch.Named(MMIO), Optional.of("vfio-platform"), false);
        assertEquals(Optional.empty(), RuleRefusals.of(ok, List.of(MMIO_DEVICE), aliases));
        PersistentRule wrong = new PersistentRule(config.resolve("b.conf"), new DeviceMatch.Named(MMIO), Optional.of("vfio-fsl-mc"), false);
        assertEquals(Optional.of("driver vfio-fsl-mc is not the vfio driver of the platform bus"), RuleRefusals.of(wrong, List.of(MMIO_DEVICE), aliases));
    }

    @Test
    void theBootLinesMatchTheBusTheNameAndEachPlaceOfTheCompatibleList() {
        PersistentRule byName = new PersistentRule(config.resolve("mmio.conf"), new DeviceMatch.Named(MMIO), Optional.empty(), false);
        PersistentRule byCompatible = new PersistentRule(config.resolve("dwmac.conf"), new DeviceMatch.Compatible("snps,dwmac"),
                Optional.empty(), false);
        UdevRules.Boot boot = UdevRules.lines(List.of(byName, byCompatible), List.of(MMIO_DEVICE, ETH), aliases, m -> m);
        assertEquals(List.of(), boot.left());
        String text = UdevRules.render("/etc/vfiod/devices.d", boot.lines(), List.of());
        assertTrue(text.contains("ACTION==\"add\", SUBSYSTEM==\"platform\", KERNEL==\"a000000.virtio_mmio\", "
                + "ATTR{driver_override}=\"vfio-platform\", RUN{builtin}+=\"kmod load vfio_platform\"\n"), text);
        for (int i = 0; i < UdevRules.COMPATIBLE_PLACES; i++) {
            assertTrue(text.contains("ACTION==\"add\", SUBSYSTEM==\"platform\", ENV{OF_COMPATIBLE_" + i + "}==\"snps,dwmac\", "
                    + "ATTR{driver_override}=\"vfio-platform\", RUN{builtin}+=\"kmod load vfio_platform\"\n"), text);
        }
        assertTrue(!text.contains("SUBSYSTEM==\"pci\""), text);
    }
}
