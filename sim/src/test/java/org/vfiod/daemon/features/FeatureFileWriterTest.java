package org.vfiod.daemon.features;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vfiod.daemon.aliases.AliasIndex;
import org.vfiod.daemon.aliases.AliasSources;
import org.vfiod.daemon.binding.BindOptions;
import org.vfiod.daemon.binding.JournalStore;
import org.vfiod.daemon.binding.PollingDriverWaiter;
import org.vfiod.daemon.binding.RebindEngine;
import org.vfiod.daemon.model.DeviceEvents;
import org.vfiod.daemon.model.DeviceRegistry;
import org.vfiod.daemon.sim.SimulatedEventSource;
import org.vfiod.daemon.sim.SimulatedHost;
import org.vfiod.daemon.sim.SimulatedKernel;
import org.vfiod.daemon.sim.SimulatedSysfs;
import org.vfiod.daemon.sysfs.DeviceName;
import org.vfiod.daemon.sysfs.PciAddress;
import org.vfiod.daemon.sysfs.Sysfs;
import org.vfiod.daemon.udev.DeviceEvent;
import org.vfiod.daemon.udev.HardwareNames;

/**
 * The NFD feature file against the registry on a simulated kernel: written at start, then kept equal to the devices
 * on VFIO as they move, come and go, atomically, once per burst.
 */
class FeatureFileWriterTest {
    static final DeviceName NIC = PciAddress.require("0000:03:00.0").toDeviceName();
    static final DeviceName GPU = PciAddress.require("0000:01:00.0").toDeviceName();

    @TempDir
    Path dir;
    SimulatedSysfs sim;
    SimulatedKernel kernel;
    Sysfs sysfs;
    AliasIndex index;
    RebindEngine engine;
    DeviceRegistry registry;
    DeviceEvents events;
    SimulatedEventSource source;
    FeatureFileWriter writer;
    Path file;

    @BeforeEach
    void setUp() throws Exception {
        sim = SimulatedSysfs.sampleMachine(dir.resolve("sys"));
        kernel = new SimulatedKernel(sim.root());
        sysfs = new Sysfs(sim.root(), kernel);
        Path modules = Files.createDirectories(dir.resolve("modules"));
        Files.writeString(modules.resolve("modules.alias"), "alias vfio_pci:v*d*sv*sd*bc*sc*i* vfio_pci\n"
                + "alias vfio_pci:v000015B3d0000101Dsv*sd*bc*sc*i* mlx5_vfio_pci\n");
        sim.driver("mlx5_vfio_pci", "mlx5_vfio_pci", false, "vfio", "override-only", "15b3:101d");
        index = AliasIndex.load(AliasSources.forModulesDir(modules, List.of()));
        engine = new RebindEngine(sysfs, () -> index, kernel, new PollingDriverWaiter(sysfs), new JournalStore(dir.resolve("run/journal")),
                SimulatedHost.scanner(sysfs.root(), dir.resolve("host")));
        registry = new DeviceRegistry(sysfs, () -> index, engine::onVfioDriver, HardwareNames.NONE, d -> false, a -> "");
        registry.populate(sysfs.readAll());
        events = new DeviceEvents(registry, a -> { });
        // the tree is watched: a move's writes reach the registry as uevents do on a real kernel
        source = new SimulatedEventSource(sim.root(), true);
        source.start(java.util.Set.of("pci"), events);
        // a folder that does not exist yet, as on a node where NFD was never installed
        file = dir.resolve("etc/kubernetes/node-feature-discovery/features.d/vfiod");
        writer = new FeatureFileWriter(file, registry::all, Duration.ofMillis(100));
        registry.listen(writer);
        writer.start();
    }

    @AfterEach
    void tearDown() {
        writer.close();
        source.close();
        events.close();
        engine.close();
    }

    /** The labels once the registry and the writer are idle, as NFD would read them. */
    private Map<String, String> labels() throws Exception {
        assertTrue(events.awaitIdle(Duration.ofSeconds(30)), "events not applied in time");
        writer.awaitIdle(Duration.ofSeconds(30));
        Map<String, String> out = new TreeMap<>();
        for (String line : Files.readAllLines(file)) {
            if (line.startsWith("#") || line.isBlank()) continue;
            String[] kv = line.split("=", 2);
            out.put(kv[0], kv[1]);
        }
        return out;
    }

    private BindOptions opts() {
        return BindOptions.defaults().withTimeout(Duration.ofSeconds(5));
    }

    private void moved(DeviceName device) {
        // what Operations does after a move: the events would do it too, a little later
        registry.refreshWithGroup(device);
    }

    @Test
    void writtenAtStartWithNothingOnVfio() throws Exception {
        assertEquals(Map.of("vfiod.org/vfio.count", "0"), labels());
        try (Stream<Path> files = Files.list(file.getParent())) {
            assertEquals(List.of(file), files.toList(), "no temporary file is left behind");
        }
    }

    @Test
    void followsDevicesAsTheyMoveToVfioAndBack() throws Exception {
        engine.rebind(NIC, opts());
        moved(NIC);
        assertEquals(Map.of("vfiod.org/vfio.count", "1",
                "vfiod.org/vfio-8086-10d3.count", "1",
                "vfiod.org/vfio-8086-10d3.driver", "vfio-pci"), labels());

        engine.rebind(GPU, opts().withGroup(true));
        moved(GPU);
        engine.rebind(PciAddress.require("0000:04:00.0").toDeviceName(), opts());
        moved(PciAddress.require("0000:04:00.0").toDeviceName());
        Map<String, String> l = labels();
        assertEquals("4", l.get("vfiod.org/vfio.count"));
        assertEquals("1", l.get("vfiod.org/vfio-1002-73bf.count"));
        assertEquals("1", l.get("vfiod.org/vfio-1002-ab28.count"), "the GPU's audio function moved with its group");
        assertEquals("mlx5_vfio_pci", l.get("vfiod.org/vfio-15b3-101d.driver"), "the variant driver is named");

        engine.restore(NIC, opts());
        moved(NIC);
        l = labels();
        assertEquals("3", l.get("vfiod.org/vfio.count"));
        assertTrue(!l.containsKey("vfiod.org/vfio-8086-10d3.count"), "a model no longer on VFIO has no label: " + l);
    }

    @Test
    void followsDevicesAsTheyComeAndGo() throws Exception {
        engine.rebind(NIC, opts());
        moved(NIC);
        assertEquals("1", labels().get("vfiod.org/vfio-8086-10d3.count"));
        // a second card of the same model is plugged in and given to VFIO, then unplugged
        sim.device(SimulatedSysfs.Device.of("0000:05:00.0", 0x8086, 0x10d3, 0x020000, 7, "e1000e"));
        source.inject(new DeviceEvent(DeviceEvent.Action.ADD, "pci", "0000:05:00.0", Optional.empty(), Map.of()));
        assertTrue(events.awaitIdle(Duration.ofSeconds(30)));
        DeviceName second = PciAddress.require("0000:05:00.0").toDeviceName();
        engine.rebind(second, opts());
        moved(second);
        assertEquals("2", labels().get("vfiod.org/vfio-8086-10d3.count"));
        sim.unplug("0000:05:00.0");
        source.inject(new DeviceEvent(DeviceEvent.Action.REMOVE, "pci", "0000:05:00.0", Optional.empty(), Map.of()));
        Map<String, String> l = labels();
        assertEquals("1", l.get("vfiod.org/vfio-8086-10d3.count"));
        assertEquals("1", l.get("vfiod.org/vfio.count"));
    }

    @Test
    void aFolderThatCannotBeWrittenIsTriedAgainAtTheNextChange() throws Exception {
        Path blocker = Files.writeString(dir.resolve("blocked"), "a file where the folder should be\n");
        Path blocked = blocker.resolve("vfiod");
        try (FeatureFileWriter w = new FeatureFileWriter(blocked, registry::all, Duration.ofMillis(50))) {
            registry.listen(w);
            w.start();
            w.awaitIdle(Duration.ofSeconds(30));
            assertEquals(0, w.writes());
            Files.delete(blocker);
            engine.rebind(NIC, opts());
            moved(NIC);
            assertTrue(events.awaitIdle(Duration.ofSeconds(30)));
            w.awaitIdle(Duration.ofSeconds(30));
            assertEquals(1, w.writes());
            assertTrue(Files.readString(blocked).contains("vfiod.org/vfio-8086-10d3.count=1\n"), Files.readString(blocked));
        }
    }

    @Test
    void aBurstOfChangesIsOneWriteAndAnUnchangedFileIsNotRewritten() throws Exception {
        // vfio-pci loaded, for the devices that come up on it
        engine.rebind(NIC, opts());
        moved(NIC);
        labels();
        // a writer that waits a second for the rest of a burst, as the daemon's waits 300 ms: the 40 devices' changes
        // reach the registry one by one, over more than 100 ms on a loaded machine
        Path burstFile = dir.resolve("burst/vfiod");
        FeatureFileWriter slow = new FeatureFileWriter(burstFile, registry::all, Duration.ofSeconds(1));
        try (slow) {
            registry.listen(slow);
            slow.start();
            slow.awaitIdle(Duration.ofSeconds(30));
            int before = slow.writes();
            for (int i = 0; i < 40; i++) {
                sim.device(SimulatedSysfs.Device.of(String.format("0000:%02x:00.0", 0x10 + i), 0x8086, 0x10d3, 0x020000, 100 + i, "vfio-pci"));
            }
            for (int i = 0; i < 40; i++) {
                source.inject(new DeviceEvent(DeviceEvent.Action.ADD, "pci", String.format("0000:%02x:00.0", 0x10 + i), Optional.empty(), Map.of()));
            }
            assertTrue(events.awaitIdle(Duration.ofSeconds(30)));
            slow.awaitIdle(Duration.ofSeconds(30));
            assertTrue(Files.readString(burstFile).contains("vfiod.org/vfio-8086-10d3.count=41\n"), Files.readString(burstFile));
            int burst = slow.writes() - before;
            assertTrue(burst >= 1 && burst <= 2, "40 devices added at once: " + burst + " writes");
        }
        Map<String, String> l = labels();
        assertEquals("41", l.get("vfiod.org/vfio-8086-10d3.count"), l.toString());

        // a change the file does not show (a host device's driver going and coming back) writes nothing
        int now = writer.writes();
        kernel.write(sim.root().resolve("bus/pci/drivers/amdgpu/unbind"), "0000:01:00.0");
        labels();
        kernel.write(sim.root().resolve("bus/pci/drivers/amdgpu/bind"), "0000:01:00.0");
        labels();
        assertEquals(now, writer.writes());
    }
}
