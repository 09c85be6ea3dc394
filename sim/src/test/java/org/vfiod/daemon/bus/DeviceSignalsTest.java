package org.vfiod.daemon.bus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.freedesktop.dbus.DBusPath;
import org.freedesktop.dbus.interfaces.ObjectManager;
import org.freedesktop.dbus.interfaces.Properties;
import org.freedesktop.dbus.messages.DBusSignal;
import org.freedesktop.dbus.types.Variant;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vfiod.daemon.aliases.AliasIndex;
import org.vfiod.daemon.aliases.AliasSources;
import org.vfiod.daemon.binding.PollingDriverWaiter;
import org.vfiod.daemon.binding.RebindEngine;
import org.vfiod.daemon.binding.BindOptions;
import org.vfiod.daemon.model.DeviceRegistry;
import org.vfiod.daemon.model.DeviceState;
import org.vfiod.daemon.sim.SimulatedKernel;
import org.vfiod.daemon.sim.SimulatedSysfs;
import org.vfiod.daemon.sysfs.DeviceName;
import org.vfiod.daemon.sysfs.PciAddress;
import org.vfiod.daemon.sysfs.Sysfs;
import org.vfiod.daemon.udev.HardwareNames;
import org.vfiod1.Device;
import org.vfiod1.Manager;

/** The registry's changes, as the signals that go on the bus. */
class DeviceSignalsTest {
    private static final String NIC = "/org/vfiod/devices/pci_0000_3a03_3a00_2e0";

    @TempDir
    Path dir;
    SimulatedSysfs sim;
    SimulatedKernel kernel;
    RebindEngine engine;
    DeviceRegistry registry;
    RecordingPublisher bus = new RecordingPublisher(true);

    @BeforeEach
    void setUp() throws Exception {
        sim = SimulatedSysfs.sampleMachine(dir.resolve("sys"));
        kernel = new SimulatedKernel(sim.root());
        Sysfs sysfs = new Sysfs(sim.root(), kernel);
        Path modules = Files.createDirectories(dir.resolve("modules"));
        Files.writeString(modules.resolve("modules.alias"), "alias vfio_pci:v*d*sv*sd*bc*sc*i* vfio_pci\n");
        AliasIndex index = AliasIndex.load(AliasSources.forModulesDir(modules, List.of()));
        engine = new RebindEngine(sysfs, () -> index, kernel, new PollingDriverWaiter(sysfs), new org.vfiod.daemon.binding.JournalStore(dir.resolve("run/journal")),
                org.vfiod.daemon.sim.SimulatedHost.scanner(sysfs.root(), dir.resolve("host")));
        registry = new DeviceRegistry(sysfs, () -> index, engine::onVfioDriver, HardwareNames.NONE, d -> false, a -> "");
        registry.populate(sysfs.readAll());
        registry.listen(new DeviceSignals(bus));
    }

    @AfterEach
    void tearDown() {
        engine.close();
    }

    private List<String> names() {
        return bus.signals().stream().map(DBusSignal::getName).toList();
    }

    @Test
    void anAddedDeviceIsAnnouncedToObjectManagersAndToTheManagersListeners() throws Exception {
        sim.device(SimulatedSysfs.Device.of("0000:05:00.0", 0x8086, 0x10d3, 0x020000, 7, "e1000e"));
        registry.refresh(PciAddress.require("0000:05:00.0").toDeviceName());
        assertEquals(List.of("InterfacesAdded", "DeviceAdded"), names());
        ObjectManager.InterfacesAdded added = (ObjectManager.InterfacesAdded) bus.signals().get(0);
        assertEquals(Manager.PATH, added.getPath());
        assertEquals(new DBusPath("/org/vfiod/devices/pci_0000_3a05_3a00_2e0"), added.getSignalSource());
        assertEquals(new Variant<>("0000:05:00.0"), added.getInterfaces().get(Device.INTERFACE).get("Address"));
        assertEquals(new DBusPath("/org/vfiod/devices/pci_0000_3a05_3a00_2e0"), ((Manager.DeviceAdded) bus.signals().get(1)).getDevice());
    }

    @Test
    void aRemovedDeviceIsAnnouncedBothWays() throws Exception {
        sim.unplug("0000:03:00.0");
        registry.refresh(PciAddress.require("0000:03:00.0").toDeviceName());
        assertEquals(List.of("InterfacesRemoved", "DeviceRemoved"), names());
        ObjectManager.InterfacesRemoved removed = (ObjectManager.InterfacesRemoved) bus.signals().get(0);
        assertEquals(new DBusPath(NIC), removed.getSignalSource());
        assertEquals(List.of(Device.INTERFACE), removed.getInterfaces());
        assertEquals(new DBusPath(NIC), ((Manager.DeviceRemoved) bus.signals().get(1)).getDevice());
    }

    @Test
    void aChangedPropertyIsAPropertiesChangedOnTheDevicesPath() throws Exception {
        kernel.write(sim.root().resolve("bus/pci/drivers/e1000e/unbind"), "0000:03:00.0");
        registry.refresh(PciAddress.require("0000:03:00.0").toDeviceName());
        assertEquals(List.of("PropertiesChanged"), names());
        Properties.PropertiesChanged pc = (Properties.PropertiesChanged) bus.signals().get(0);
        assertEquals(NIC, pc.getPath());
        assertEquals(Device.INTERFACE, pc.getInterfaceName());
        assertEquals(new Variant<>(""), pc.getPropertiesChanged().get("Driver"));
        assertEquals(new Variant<>("unbound"), pc.getPropertiesChanged().get("State"));
        assertEquals(List.of(), pc.getPropertiesRemoved());
    }

    @Test
    void aVfioModuleOneMoveLoadedGivesTheDevicesThatStayedTheDriversNameAndSaysSo() throws Exception {
        DeviceName nic = PciAddress.require("0000:03:00.0").toDeviceName();
        // before: vfio_pci is not loaded, so every PCI device shows the module's name
        List<DeviceState> stayed = registry.all().stream().filter(d -> !d.name().equals(nic))
                .filter(d -> "vfio_pci".equals(d.properties().get("VfioDriver").getValue())).toList();
        assertTrue(stayed.size() >= 2, "devices showing the module's name: " + stayed.size());
        engine.rebind(nic, BindOptions.defaults());
        // the moved device's events: its read finds the module loaded
        registry.refresh(nic);
        Map<String, Object> renamed = new HashMap<>();
        for (DBusSignal s : bus.signals()) {
            if (s instanceof Properties.PropertiesChanged pc && pc.getPropertiesChanged().containsKey("VfioDriver")) {
                renamed.put(pc.getPath(), pc.getPropertiesChanged().get("VfioDriver").getValue());
            }
        }
        for (DeviceState d : stayed) {
            assertEquals("vfio-pci", renamed.get(d.path()), d.name() + " announced with the driver's name: " + renamed);
            assertEquals("vfio-pci", registry.get(d.name()).orElseThrow().properties().get("VfioDriver").getValue());
        }
        assertEquals("vfio-pci", registry.get(nic).orElseThrow().properties().get("VfioDriver").getValue());
    }
}
