package org.vfiod.daemon.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import org.freedesktop.dbus.DBusPath;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vfiod.daemon.aliases.AliasIndex;
import org.vfiod.daemon.aliases.AliasSources;
import org.vfiod.daemon.binding.PollingDriverWaiter;
import org.vfiod.daemon.binding.RebindEngine;
import org.vfiod.daemon.sim.SimulatedEventSource;
import org.vfiod.daemon.sim.SimulatedKernel;
import org.vfiod.daemon.sim.SimulatedSysfs;
import org.vfiod.daemon.sysfs.DeviceName;
import org.vfiod.daemon.sysfs.PciAddress;
import org.vfiod.daemon.sysfs.Sysfs;
import org.vfiod.daemon.udev.DeviceEvent;
import org.vfiod.daemon.udev.DeviceEvent.Action;
import org.vfiod.daemon.udev.HardwareNames;

/** Event handling with an injected source: whatever arrives, the registry ends equal to the simulated sysfs, and its listeners hear each change. */
class DeviceEventsTest {
    @TempDir
    Path dir;
    SimulatedSysfs sim;
    SimulatedKernel kernel;
    Sysfs sysfs;
    AliasIndex index;
    RebindEngine engine;
    RecordingListener heard;
    DeviceRegistry registry;
    DeviceEvents events;
    SimulatedEventSource source;

    @BeforeEach
    void setUp() throws Exception {
        sim = SimulatedSysfs.sampleMachine(dir.resolve("sys"));
        kernel = new SimulatedKernel(sim.root());
        sysfs = new Sysfs(sim.root(), kernel);
        Path modules = Files.createDirectories(dir.resolve("modules"));
        Files.writeString(modules.resolve("modules.alias"), "alias vfio_pci:v*d*sv*sd*bc*sc*i* vfio_pci\n");
        index = AliasIndex.load(AliasSources.forModulesDir(modules, List.of()));
        engine = new RebindEngine(sysfs, () -> index, kernel, new PollingDriverWaiter(sysfs), new org.vfiod.daemon.binding.JournalStore(dir.resolve("run/journal")),
                org.vfiod.daemon.sim.SimulatedHost.scanner(sysfs.root(), dir.resolve("host")));
        heard = new RecordingListener();
        registry = new DeviceRegistry(sysfs, () -> index, engine::onVfioDriver, HardwareNames.NONE, d -> false, a -> "");
        registry.listen(heard);
        events = new DeviceEvents(registry, a -> { });
        source = new SimulatedEventSource(sim.root(), false);
        source.start(java.util.Set.of("pci"), events);
        settle();
        heard.clear();
    }

    @AfterEach
    void tearDown() {
        source.close();
        events.close();
        engine.close();
    }

    private void settle() throws InterruptedException {
        assertTrue(events.awaitIdle(Duration.ofSeconds(30)), "events not applied in time");
    }

    private static DeviceEvent ev(Action action, String name) {
        return new DeviceEvent(action, "pci", name, Optional.empty(), Map.of());
    }

    /** The registry, compared with one built from scratch on the same tree. */
    private void assertEqualsSysfs() throws Exception {
        settle();
        DeviceRegistry fresh = new DeviceRegistry(sysfs, () -> index, engine::onVfioDriver, HardwareNames.NONE, d -> false, a -> "");
        fresh.rescan();
        assertEquals(fresh.snapshot(), registry.snapshot());
        // the view bus calls read (without the lock) is the registry itself
        assertEquals(fresh.paths(), registry.paths());
    }

    private String driverProperty(String address) {
        return (String) registry.snapshot().get(PciAddress.require(address).toDeviceName()).get("Driver").getValue();
    }

    @Test
    void startExportsEveryDevice() throws Exception {
        assertEquals(7, registry.snapshot().size());
        assertEqualsSysfs();
    }

    @Test
    void addAndRemoveComeAndGoWithTheirSignals() throws Exception {
        sim.device(SimulatedSysfs.Device.of("0000:05:00.0", 0x8086, 0x10d3, 0x020000, 7, "e1000e"));
        source.inject(ev(Action.ADD, "0000:05:00.0"));
        settle();
        assertTrue(registry.paths().contains(new DBusPath("/org/vfiod/devices/pci_0000_3a05_3a00_2e0")));
        assertEquals(List.of("added 0000:05:00.0"), heard.heard());
        heard.clear();
        sim.unplug("0000:05:00.0");
        source.inject(ev(Action.REMOVE, "0000:05:00.0"));
        settle();
        assertFalse(registry.paths().contains(new DBusPath("/org/vfiod/devices/pci_0000_3a05_3a00_2e0")));
        assertEquals(List.of("removed 0000:05:00.0"), heard.heard());
        assertEqualsSysfs();
    }

    @Test
    void someoneElsesUnbindAndBindShowWithinOneEvent() throws Exception {
        kernel.write(sim.root().resolve("bus/pci/drivers/e1000e/unbind"), "0000:03:00.0");
        source.inject(ev(Action.UNBIND, "0000:03:00.0"));
        settle();
        assertEquals("", driverProperty("0000:03:00.0"));
        assertEquals("changed 0000:03:00.0 {Driver=, State=unbound}", heard.heard().get(0));
        kernel.write(sim.root().resolve("bus/pci/drivers/e1000e/bind"), "0000:03:00.0");
        source.inject(ev(Action.BIND, "0000:03:00.0"));
        settle();
        assertEquals("e1000e", driverProperty("0000:03:00.0"));
        assertEqualsSysfs();
    }

    @Test
    void aChangeEventPicksUpAnOverrideWrittenByHand() throws Exception {
        kernel.write(sim.root().resolve("devices/pci0000:00/0000:03:00.0/driver_override"), "vfio-pci");
        source.inject(ev(Action.CHANGE, "0000:03:00.0"));
        settle();
        assertEquals("vfio-pci", registry.snapshot().get(PciAddress.require("0000:03:00.0").toDeviceName()).get("DriverOverride").getValue());
        assertEqualsSysfs();
    }

    @Test
    void eventsForUnknownOrForeignDevicesChangeNothing() throws Exception {
        var before = registry.snapshot();
        source.inject(ev(Action.ADD, "0000:0a:00.0"));
        source.inject(ev(Action.BIND, "0000:0b:00.0"));
        source.inject(ev(Action.REMOVE, "0000:0c:00.0"));
        source.inject(ev(Action.ADD, "not-an-address"));
        source.inject(ev(Action.ADD, "../../etc"));
        source.inject(new DeviceEvent(Action.ADD, "usb", "1-1", Optional.empty(), Map.of()));
        settle();
        assertEquals(before, registry.snapshot());
        assertEquals(List.of(), heard.heard());
    }

    @Test
    void outOfOrderRemoveAndAddEndInTheKernelsState() throws Exception {
        // the device was re-plugged: the add is delivered before the stale remove
        source.inject(ev(Action.ADD, "0000:03:00.0"));
        source.inject(ev(Action.REMOVE, "0000:03:00.0"));
        settle();
        assertTrue(registry.paths().contains(new DBusPath("/org/vfiod/devices/pci_0000_3a03_3a00_2e0")));
        // the device is gone for good: a late add must not bring it back
        sim.unplug("0000:03:00.0");
        source.inject(ev(Action.REMOVE, "0000:03:00.0"));
        source.inject(ev(Action.ADD, "0000:03:00.0"));
        settle();
        assertFalse(registry.paths().contains(new DBusPath("/org/vfiod/devices/pci_0000_3a03_3a00_2e0")));
        assertEqualsSysfs();
    }

    @Test
    void aNewGroupMemberUpdatesTheOthersGroupDevices() throws Exception {
        sim.device(SimulatedSysfs.Device.of("0000:01:00.2", 0x1002, 0xab28, 0x040300, 1, null));
        source.inject(ev(Action.ADD, "0000:01:00.2"));
        settle();
        @SuppressWarnings("unchecked")
        List<DBusPath> group = (List<DBusPath>) registry.snapshot().get(PciAddress.require("0000:01:00.0").toDeviceName()).get("GroupDevices").getValue();
        assertTrue(group.contains(new DBusPath("/org/vfiod/devices/pci_0000_3a01_3a00_2e2")), group.toString());
        assertTrue(heard.heard().stream().anyMatch(h -> h.startsWith("changed 0000:01:00.0 ")), heard.heard().toString());
        assertEqualsSysfs();
    }

    @Test
    void anOverflowReReadsEverythingThatChangedSilently() throws Exception {
        kernel.write(sim.root().resolve("bus/pci/drivers/e1000e/unbind"), "0000:03:00.0");
        sim.unplug("0000:04:00.1");
        sim.device(SimulatedSysfs.Device.of("0000:06:00.0", 0x8086, 0x10d3, 0x020000, 8, "e1000e"));
        settle();
        // no event was delivered, so the registry is stale ...
        assertEquals("e1000e", driverProperty("0000:03:00.0"));
        source.injectOverflow();
        // ... until the overflow makes it read everything again
        assertEqualsSysfs();
        assertEquals("", driverProperty("0000:03:00.0"));
        assertTrue(heard.heard().contains("removed 0000:04:00.1"), heard.heard().toString());
        assertTrue(heard.heard().contains("added 0000:06:00.0"), heard.heard().toString());
    }

    @Test
    void aBurstOfTenThousandEventsEndsExact() throws Exception {
        Random random = new Random(42);
        String[] nics = {"0000:03:00.0", "0000:04:00.0", "0000:04:00.1"};
        String[] drivers = {"e1000e", "mlx5_core", "mlx5_core"};
        for (int i = 0; i < 10_000; i++) {
            int k = random.nextInt(nics.length);
            String addr = nics[k];
            boolean bound = !sysfs.currentDriver(PciAddress.require(addr).toDeviceName()).isEmpty();
            if (i % 97 == 0) {
                kernel.write(sim.root().resolve("bus/pci/drivers/" + drivers[k] + (bound ? "/unbind" : "/bind")), addr);
            }
            Action a = Action.values()[random.nextInt(Action.values().length)];
            source.inject(ev(a, random.nextInt(10) == 0 ? "0000:0f:00." + random.nextInt(8) : addr));
        }
        assertEquals(10_000, events.received());
        assertEqualsSysfs();
    }
}
