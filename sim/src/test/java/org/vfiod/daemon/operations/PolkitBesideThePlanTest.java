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
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.freedesktop.DBus.Error.AccessDenied;
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
import org.vfiod.daemon.sim.SimulatedKernel;
import org.vfiod.daemon.sim.SimulatedSysfs;
import org.vfiod.daemon.sysfs.DeviceName;
import org.vfiod.daemon.sysfs.PciAddress;
import org.vfiod.daemon.sysfs.Sysfs;
import org.vfiod.daemon.udev.HardwareNames;
import org.vfiod.daemon.usage.ExclusiveOpen;
import org.vfiod.daemon.usage.FakeHost;
import org.vfiod.daemon.usage.FileInterfaceAddresses;
import org.vfiod.daemon.usage.HostPaths;
import org.vfiod.daemon.usage.HostUseScanner;
import org.vfiod1.Error;

/**
 * A Rebind's plan and host-use check run beside its polkit check: a slow polkit and a slow check cost about the
 * longer of the two, not their sum; still nothing is changed for a caller polkit refuses, who learns nothing but
 * AccessDenied, and a check made long before the move (polkit asked for a password) is made again.
 */
class PolkitBesideThePlanTest {
    private static final DeviceName NIC = PciAddress.require("0000:03:00.0").toDeviceName();
    private static final Caller ROOT = new Caller(":1.7", "org.vfiod.rebind");
    /** How long the fake polkit and the fake host-use check each take, unless a test says otherwise. */
    private static final long SLOW_MS = 600;

    @TempDir
    Path dir;
    SimulatedSysfs sim;
    Sysfs sysfs;
    RebindEngine engine;
    DeviceRegistry registry;
    Operations operations;
    ExecutorService authPool = Executors.newCachedThreadPool();
    /** Host-use checks made (each asks for the host's addresses once: the NIC has an interface). */
    final AtomicInteger checks = new AtomicInteger();
    final AtomicInteger polkitChecks = new AtomicInteger();
    volatile long checkMs = SLOW_MS;
    volatile long polkitMs = SLOW_MS;
    volatile boolean allowed = true;

    @BeforeEach
    void setUp() throws Exception {
        sim = SimulatedSysfs.sampleMachine(dir.resolve("sys"));
        SimulatedKernel kernel = new SimulatedKernel(sim.root());
        sysfs = new Sysfs(sim.root(), kernel);
        Path modules = Files.createDirectories(dir.resolve("modules"));
        Files.writeString(modules.resolve("modules.alias"), "alias vfio_pci:v*d*sv*sd*bc*sc*i* vfio_pci\n");
        AliasIndex index = AliasIndex.load(AliasSources.forModulesDir(modules, List.of()));
        new FakeHost(sim.root(), dir.resolve("host"));
        FakeHost.netInterface(sysfs.deviceDir(NIC).orElseThrow(), "enp3s0", 2, true);
        Files.writeString(dir.resolve("host/ipv4-addresses"), "");
        FileInterfaceAddresses addresses = new FileInterfaceAddresses(dir.resolve("host/ipv4-addresses"));
        HostUseScanner scanner = new HostUseScanner(new HostPaths(sim.root(), dir.resolve("host/proc"), dir.resolve("host/dev")), () -> {
            checks.incrementAndGet();
            sleep(checkMs);
            return addresses.ipv4();
        }, ExclusiveOpen.NOT_CHECKED);
        engine = new RebindEngine(sysfs, () -> index, kernel, new PollingDriverWaiter(sysfs), new JournalStore(dir.resolve("run/journal")),
                scanner);
        registry = new DeviceRegistry(sysfs, () -> index, engine::onVfioDriver, HardwareNames.NONE, d -> false, a -> "");
        registry.populate(sysfs.readAll());
        operations = new Operations(engine, (bus, action, details, interactive) -> {
            polkitChecks.incrementAndGet();
            sleep(polkitMs);
            return allowed ? new AuthResult.Granted() : new AuthResult.Denied("the test says no");
        }, bus -> Optional.of(new CallerCredentials(0, 1)), authPool, registry, 4, null, new AtomicReference<>(index),
                () -> index, dir.resolve("proc"),
                new Grants(sysfs, new VfioNodes(dir.resolve("dev"), new PosixAclAccess()), engine::onVfioDriver),
                uid -> Optional.of("root"), true);
        // the first move loads vfio_pci (a plan that loads a module checks its users again under the gate) and the
        // classes: not what is timed here
        checkMs = 0;
        polkitMs = 0;
        operations.rebind(ROOT, NIC, Map.of());
        operations.restore(ROOT, NIC, Map.of());
        checkMs = SLOW_MS;
        polkitMs = SLOW_MS;
        checks.set(0);
        polkitChecks.set(0);
    }

    @AfterEach
    void tearDown() {
        engine.close();
        authPool.shutdownNow();
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private String driver() throws Exception {
        return sysfs.currentDriver(NIC).orElse("");
    }

    private long journals() throws Exception {
        Path journal = dir.resolve("run/journal");
        if (!Files.isDirectory(journal)) return 0;
        try (Stream<Path> files = Files.list(journal)) {
            return files.count();
        }
    }

    @Test
    void aSlowPolkitAndASlowHostUseCheckCostTheLongerOfTheTwoNotTheirSum() throws Exception {
        long start = System.nanoTime();
        assertEquals("vfio-pci", operations.rebind(ROOT, NIC, Map.of()));
        long ms = (System.nanoTime() - start) / 1_000_000;
        assertEquals("vfio-pci", driver());
        assertEquals(1, polkitChecks.get(), "polkit asked once");
        // one check, beside polkit; the same plan found under the gate keeps it instead of checking again
        assertEquals(1, checks.get(), "host-use checks for one Rebind");
        assertTrue(ms >= SLOW_MS, "the Rebind took " + ms + " ms, less than polkit alone");
        assertTrue(ms < 2 * SLOW_MS - 150, "the Rebind took " + ms + " ms: polkit and the host-use check ran one after the other");
        // the same for a Restore
        start = System.nanoTime();
        assertEquals("e1000e", operations.restore(ROOT, NIC, Map.of()));
        ms = (System.nanoTime() - start) / 1_000_000;
        assertEquals(2, checks.get(), "host-use checks after the Restore");
        assertTrue(ms < 2 * SLOW_MS - 150, "the Restore took " + ms + " ms: polkit and the host-use check ran one after the other");
        assertEquals(0, journals());
    }

    @Test
    void aCallerPolkitRefusesGetsAccessDeniedAndNothingChangesOrStaysBehind() throws Exception {
        allowed = false;
        // even for a device in use: the refusal, not the plan's verdict, is what an unauthorized caller hears
        Files.writeString(dir.resolve("host/ipv4-addresses"), "2 192.0.2.10/24\n");
        AccessDenied denied = assertThrows(AccessDenied.class, () -> operations.rebind(ROOT, NIC, Map.of()));
        assertTrue(denied.getMessage().contains("the test says no"), denied.getMessage());
        Files.writeString(dir.resolve("host/ipv4-addresses"), "");
        assertThrows(AccessDenied.class, () -> operations.rebind(ROOT, NIC, Map.of()));
        assertEquals("e1000e", driver());
        assertEquals(Optional.empty(), sysfs.read(NIC).orElseThrow().driverOverride());
        assertEquals(0, journals());
        assertEquals("host", String.valueOf(registry.get(NIC).orElseThrow().properties().get("State").getValue()));
        // the refused moves hold neither the group nor the caller's allowance: the next one goes at once
        allowed = true;
        polkitMs = 0;
        checkMs = 0;
        long start = System.nanoTime();
        assertEquals("vfio-pci", operations.rebind(ROOT, NIC, Map.of()));
        long ms = (System.nanoTime() - start) / 1_000_000;
        assertTrue(ms < 500, "the authorized Rebind after two refused ones took " + ms + " ms");
    }

    @Test
    void aHostUseCheckOlderThanASecondWhenTheMoveMayGoIsMadeAgain() throws Exception {
        // polkit asked the caller for a password: who uses the device may have changed meanwhile
        polkitMs = 1_300;
        checkMs = 0;
        assertEquals("vfio-pci", operations.rebind(ROOT, NIC, Map.of()));
        assertEquals(2, checks.get(), "host-use checks for a Rebind whose polkit check took 1.3 s");
        // and one that finds the device taken into use meanwhile is refused
        operations.restore(ROOT, NIC, Map.of());
        checks.set(0);
        CheckThenUse later = new CheckThenUse();
        later.start();
        Error.InUse inUse = assertThrows(Error.InUse.class, () -> operations.rebind(ROOT, NIC, Map.of()));
        later.join();
        assertTrue(inUse.getMessage().contains("192.0.2.10/24"), inUse.getMessage());
        assertEquals("e1000e", driver());
    }

    /** Gives the NIC an address once the first host-use check is made, well before the slow polkit answers. */
    private final class CheckThenUse extends Thread {
        @Override
        public void run() {
            long until = System.nanoTime() + 5_000_000_000L;
            while (checks.get() == 0 && System.nanoTime() < until) PolkitBesideThePlanTest.sleep(5);
            try {
                Files.writeString(dir.resolve("host/ipv4-addresses"), "2 192.0.2.10/24\n");
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }
    }
}
