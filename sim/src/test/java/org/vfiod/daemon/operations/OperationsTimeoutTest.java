package org.vfiod.daemon.operations;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicReference;
import org.freedesktop.dbus.types.UInt32;
import org.freedesktop.dbus.types.Variant;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vfiod.daemon.access.Grants;
import org.vfiod.daemon.access.PosixAclAccess;
import org.vfiod.daemon.access.VfioNodes;
import org.vfiod.daemon.aliases.AliasIndex;
import org.vfiod.daemon.aliases.AliasSources;
import org.vfiod.daemon.auth.AuthResult;
import org.vfiod.daemon.auth.CallerCredentials;
import org.vfiod.daemon.binding.JournalStore;
import org.vfiod.daemon.binding.PollingDriverWaiter;
import org.vfiod.daemon.binding.RebindEngine;
import org.vfiod.daemon.bus.Caller;
import org.vfiod.daemon.model.DeviceRegistry;
import org.vfiod.daemon.sim.SimulatedHost;
import org.vfiod.daemon.sim.SimulatedKernel;
import org.vfiod.daemon.sim.SimulatedSysfs;
import org.vfiod.daemon.sysfs.DeviceName;
import org.vfiod.daemon.sysfs.PciAddress;
import org.vfiod.daemon.sysfs.Sysfs;
import org.vfiod.daemon.udev.HardwareNames;
import org.vfiod1.Error;

/** What a caller and every reader see of a device while the kernel holds it past a call's timeout. */
class OperationsTimeoutTest {
    private static final DeviceName NIC = PciAddress.require("0000:03:00.0").toDeviceName();
    private static final Caller ROOT = new Caller(":1.7", "org.vfiod.rebind");

    @TempDir
    Path dir;
    SimulatedSysfs sim;
    RebindEngine engine;
    DeviceRegistry registry;
    Operations operations;
    ExecutorService authPool = Executors.newCachedThreadPool();

    @BeforeEach
    void setUp() throws Exception {
        sim = SimulatedSysfs.sampleMachine(dir.resolve("sys"));
        SimulatedKernel kernel = new SimulatedKernel(sim.root());
        Sysfs sysfs = new Sysfs(sim.root(), kernel);
        Path modules = Files.createDirectories(dir.resolve("modules"));
        Files.writeString(modules.resolve("modules.alias"), "alias vfio_pci:v*d*sv*sd*bc*sc*i* vfio_pci\n");
        AliasIndex index = AliasIndex.load(AliasSources.forModulesDir(modules, List.of()));
        engine = new RebindEngine(sysfs, () -> index, kernel, new PollingDriverWaiter(sysfs), new JournalStore(dir.resolve("run/journal")),
                SimulatedHost.scanner(sysfs.root(), dir.resolve("host")));
        registry = new DeviceRegistry(sysfs, () -> index, engine::onVfioDriver, HardwareNames.NONE, d -> false, a -> "");
        registry.populate(sysfs.readAll());
        operations = new Operations(engine, (bus, action, details, interactive) -> new AuthResult.Granted(),
                bus -> Optional.of(new CallerCredentials(0, 1)), authPool, registry, 4, null, new AtomicReference<>(index),
                () -> index, dir.resolve("proc"),
                new Grants(sysfs, new VfioNodes(dir.resolve("dev"), new PosixAclAccess()), engine::onVfioDriver),
                uid -> Optional.of("root"));
    }

    @AfterEach
    void tearDown() {
        engine.close();
        authPool.shutdownNow();
    }

    private String state() {
        return String.valueOf(registry.get(NIC).orElseThrow().properties().get("State").getValue());
    }

    private static Map<String, Variant<?>> timeout(long ms) {
        return Map.of("timeout", new Variant<>(new UInt32(ms)));
    }

    @Test
    void aDeviceStaysBusyPastTheTimeoutUntilTheKernelReturnedAndItIsBack() throws Exception {
        sim.fault("hang-unbind 0000:03:00.0");
        assertThrows(Error.Timeout.class, () -> operations.rebind(ROOT, NIC, timeout(300)));
        // the caller has its answer, but the unbind still hangs and vfiod will move the NIC once it returns
        assertEquals("busy", state());
        // a call refused meanwhile does not end the first one's busy state, and is answered without reading the
        // device: the kernel holds its lock, which a FIFO in place of driver_override plays here (a read blocks)
        Path override;
        try (var files = Files.walk(sim.root().resolve("devices"))) {
            override = files.filter(f -> f.endsWith("0000:03:00.0/driver_override")).findFirst().orElseThrow();
        }
        String value = Files.readString(override);
        Files.delete(override);
        assertEquals(0, new ProcessBuilder("mkfifo", override.toString()).start().waitFor());
        long start = System.nanoTime();
        assertThrows(Error.Busy.class, () -> operations.restore(ROOT, NIC, timeout(300)));
        long ms = (System.nanoTime() - start) / 1_000_000;
        assertTrue(ms < 400, "Busy after " + ms + " ms: it waited for a read of the held device");
        assertEquals("busy", state());
        // a reader that did block gets EOF once a writer has come and gone; then the attribute is a file again
        try (java.io.RandomAccessFile rw = new java.io.RandomAccessFile(override.toFile(), "rw")) {
            rw.getFD();
        }
        Files.delete(override);
        Files.writeString(override, value);
        Thread.sleep(300);
        assertEquals("busy", state());
        sim.clearFaults();
        long until = System.nanoTime() + 5_000_000_000L;
        while (state().equals("busy") && System.nanoTime() < until) Thread.sleep(20);
        assertEquals("host", state());
        assertEquals("e1000e", String.valueOf(registry.get(NIC).orElseThrow().properties().get("Driver").getValue()));
    }
}
