package org.vfiod.daemon.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.freedesktop.dbus.types.Variant;
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
import org.vfiod.daemon.sim.SimulatedEventSource;
import org.vfiod.daemon.sim.SimulatedHost;
import org.vfiod.daemon.sim.SimulatedKernel;
import org.vfiod.daemon.sim.SimulatedSysfs;
import org.vfiod.daemon.sysfs.DeviceName;
import org.vfiod.daemon.sysfs.KernelBus;
import org.vfiod.daemon.sysfs.Sysfs;
import org.vfiod.daemon.udev.HardwareNames;

/**
 * The registry follows the other buses through the simulated kernel's events, as it follows PCI: a CDX device's
 * move, and a DPRC's, whose objects the kernel removes and adds again while the container changes drivers.
 */
class OtherBusesEventsTest {
    static final BindOptions OPTS = BindOptions.defaults().withTimeout(Duration.ofSeconds(5));

    @TempDir
    Path dir;
    SimulatedSysfs sim;
    Sysfs sysfs;
    AliasIndex index;
    RebindEngine engine;
    DeviceRegistry registry;
    DeviceEvents events;
    SimulatedEventSource source;

    @BeforeEach
    void setUp() throws Exception {
        sim = SimulatedSysfs.allBuses(dir.resolve("sys"));
        SimulatedKernel kernel = new SimulatedKernel(sim.root());
        sysfs = new Sysfs(sim.root(), kernel);
        Path modules = Files.createDirectories(dir.resolve("modules"));
        Files.writeString(modules.resolve("modules.alias"), "alias vfio_pci:v*d*sv*sd*bc*sc*i* vfio_pci\n"
                + "alias vfio_cdx:v*d*sv*sd*c* vfio_cdx\n");
        index = AliasIndex.load(AliasSources.forModulesDir(modules, List.of()));
        engine = new RebindEngine(sysfs, () -> index, kernel, new PollingDriverWaiter(sysfs), new JournalStore(dir.resolve("run/journal")),
                SimulatedHost.scanner(sysfs.root(), dir.resolve("host")));
        registry = new DeviceRegistry(sysfs, () -> index, engine::onVfioDriver, HardwareNames.NONE, d -> false, a -> "");
        registry.populate(sysfs.readAll());
        events = new DeviceEvents(registry, a -> { });
        // the tree is watched, every bus the daemon implements, as Daemon starts its source
        source = new SimulatedEventSource(sim.root(), true);
        source.start(Stream.of(KernelBus.values()).map(KernelBus::id).collect(Collectors.toSet()), events);
    }

    @AfterEach
    void tearDown() {
        source.close();
        events.close();
        engine.close();
    }

    /**
     * Waits until the registry equals one built from scratch on the tree now, every property included: VfioDriver
     * too, which a device that did not move must change from the module's name ({@code vfio_cdx}) to its driver's
     * once another device's move loaded the module.
     */
    private void converged(String what) throws Exception {
        long until = System.nanoTime() + 20_000_000_000L;
        Map<DeviceName, Map<String, Variant<?>>> fresh = Map.of();
        while (System.nanoTime() < until) {
            assertTrue(events.awaitIdle(Duration.ofSeconds(20)));
            DeviceRegistry f = new DeviceRegistry(sysfs, () -> index, engine::onVfioDriver, HardwareNames.NONE, d -> false, a -> "");
            f.rescan();
            fresh = f.snapshot();
            if (fresh.equals(registry.snapshot())) return;
            Thread.sleep(50);
        }
        assertEquals(fresh, registry.snapshot(), what);
    }

    private String driver(DeviceName d) {
        return (String) registry.snapshot().get(d).get("Driver").getValue();
    }

    @Test
    void everyBusIsExportedAndFollowedThroughItsEvents() throws Exception {
        Set<String> buses = registry.snapshot().keySet().stream().map(DeviceName::bus).collect(Collectors.toSet());
        assertEquals(Set.of("pci", "cdx", "platform", "fsl-mc"), buses);
        DeviceName cdx = new DeviceName("cdx", SimulatedSysfs.CDX_NIC);
        engine.rebind(cdx, OPTS);
        converged("after the CDX Rebind");
        assertEquals("vfio-cdx", driver(cdx));
        // the CDX device that stayed: its VfioDriver was the module's name, vfio_cdx, until the move loaded it
        assertEquals("vfio-cdx", registry.snapshot().get(new DeviceName("cdx", SimulatedSysfs.CDX_DMA)).get("VfioDriver").getValue());
    }

    @Test
    void aDprcsObjectsLeaveAndComeBackWithTheirContainer() throws Exception {
        DeviceName dprc = new DeviceName("fsl-mc", SimulatedSysfs.DPRC);
        DeviceName dpni = new DeviceName("fsl-mc", "dpni.1");
        engine.rebind(dprc, OPTS);
        converged("after the DPRC Rebind");
        assertEquals("vfio-fsl-mc", driver(dprc));
        assertEquals("vfio-fsl-mc", driver(dpni));
        engine.restore(dprc, OPTS);
        converged("after the DPRC Restore");
        assertEquals("fsl_dpaa2_eth", driver(dpni));
    }
}
