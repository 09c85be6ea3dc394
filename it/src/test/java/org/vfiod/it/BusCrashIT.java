package org.vfiod.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.vfiod.daemon.sim.SimulatedSysfs;

/**
 * {@link CrashIT} on the other buses: a vfiod killed with a real SIGKILL right after each kernel write of a move of a
 * CDX device, a platform device and the fsl-mc container dprc.1 (its objects follow it), then started again. Every
 * device must end where it was, byte for byte in sysfs, and no write of the killed vfiod is made again. The moves
 * are called on the device objects, found by their Subsystem and Address.
 */
@ExtendWith(RealComponents.class)
class BusCrashIT {
    static final Duration EXIT_LIMIT = Duration.ofSeconds(30);
    static final int SIGKILLED = 128 + 9;

    @Test
    void aCdxRebindAndRestoreKilledAfterAnyWriteAreRolledBack(Env env) {
        String path = prepare(env, "cdx", SimulatedSysfs.CDX_NIC);
        killAfterEachWrite(env, path, "Rebind", Map.of(SimulatedSysfs.CDX_NIC, "cdx-sim-net"));
        rebind(env, path);
        killAfterEachWrite(env, path, "Restore", Map.of(SimulatedSysfs.CDX_NIC, "vfio-cdx"));
    }

    @Test
    void aPlatformRebindKilledAfterAnyWriteIsRolledBack(Env env) {
        String path = prepare(env, "platform", SimulatedSysfs.XGMAC);
        killAfterEachWrite(env, path, "Rebind", Map.of(SimulatedSysfs.XGMAC, "calxedaxgmac"));
    }

    @Test
    void aDprcRebindAndRestoreKilledAfterAnyWriteAreRolledBackWithTheirObjects(Env env) {
        String path = prepare(env, "fsl-mc", SimulatedSysfs.DPRC);
        Map<String, String> host = new LinkedHashMap<>();
        host.put(SimulatedSysfs.DPRC, "fsl_mc_dprc");
        host.put("dpio.1", "fsl_mc_dpio");
        host.put("dpmcp.1", "fsl_mc_allocator");
        host.put("dpni.1", "fsl_dpaa2_eth");
        killAfterEachWrite(env, path, "Rebind", host);
        rebind(env, path);
        Map<String, String> vfio = new LinkedHashMap<>();
        for (String d : host.keySet()) vfio.put(d, "vfio-fsl-mc");
        killAfterEachWrite(env, path, "Restore", vfio);
    }

    /**
     * The other buses beside the sample machine, vfio_cdx's alias, and the move's vfio module loaded (one move there
     * and back: vfiod never unloads a module, so the snapshots compare the devices only). The device's object path.
     */
    private static String prepare(Env env, String bus, String name) {
        try {
            env.sim().withOtherBuses();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        env.modulesDir("modules", Env.VFIO_ALIAS + "alias vfio_cdx:v*d*sv*sd*c* vfio_cdx\n");
        env.vfiod();
        String path = objectPath(env, bus, name);
        env.call(User.ROOT, path, Env.DEVICE_IFACE + ".Rebind", "{}").assertOk();
        assertTrue(Env.string(env.call(User.ROOT, path, Env.DEVICE_IFACE + ".Restore", "{}").assertOk()).length() > 0);
        env.vfiod().close();
        return path;
    }

    private static void rebind(Env env, String path) {
        VfiodProcess v = env.startVfiod(List.of(), true);
        env.call(User.ROOT, path, Env.DEVICE_IFACE + ".Rebind", "{}").assertOk();
        v.close();
    }

    private static final Pattern PATH = Pattern.compile("'(/org/vfiod/devices/[^']+)'");

    /** The object of the device with this Subsystem and Address, from ListDevices. */
    private static String objectPath(Env env, String bus, String name) {
        Matcher m = PATH.matcher(env.manager(User.ROOT, "ListDevices").assertOk().out());
        List<String> seen = new ArrayList<>();
        while (m.find()) {
            String p = m.group(1);
            String sub = Env.string(env.get(User.ROOT, p, Env.DEVICE_IFACE, "Subsystem").assertOk());
            String address = Env.string(env.get(User.ROOT, p, Env.DEVICE_IFACE, "Address").assertOk());
            if (sub.equals(bus) && address.equals(name)) return p;
            seen.add(sub + ":" + address);
        }
        throw new AssertionError(bus + ":" + name + " is not among the devices: " + seen);
    }

    /** For each write k of the move (counted by making it once): start vfiod, kill it after its kth write, restart, compare. */
    private static void killAfterEachWrite(Env env, String path, String method, Map<String, String> before) {
        String name = before.keySet().iterator().next();
        int writes = cleanWrites(env, path, method);
        assertTrue(writes >= 3, method + " of " + name + " made " + writes + " writes");
        for (int k = 1; k <= writes; k++) {
            SysfsSnapshot snapshot = env.snapshot();
            VfiodProcess killed = env.startVfiod(List.of(), true);
            int base = env.simulatedWritesBy(killed.pid()).size();
            env.fault("sigkill-after-write " + (base + k));
            Proc call = env.callInBackground(User.ROOT, path, Env.DEVICE_IFACE + "." + method, "{}");
            assertEquals(SIGKILLED, killed.exitCode(EXIT_LIMIT), killed::log);
            call.awaitExit(Duration.ofSeconds(30));
            env.clearFaults();
            List<String> killedWrites = env.simulatedWritesBy(killed.pid()).subList(base, base + k);
            assertEquals(1, env.journalCount(), "the killed vfiod left its journal after write " + k);

            VfiodProcess restarted = env.startVfiod(List.of(), true);
            String line = restarted.awaitLog("reconcile:", Duration.ofSeconds(5));
            assertTrue(line.contains("rolled back") || line.contains("put back"), line);
            snapshot.assertUnchanged(method + " " + name + " killed after write " + k + " (" + killedWrites + ") and restarted");
            assertEquals(0, env.journalCount(), "the journal is gone once reconciled");
            assertEquals(before.get(name), Env.string(env.get(User.ROOT, path, Env.DEVICE_IFACE, "Driver").assertOk()), name + " after write " + k);
            // a container's objects: back on their drivers too (removed with the container's driver, added by the next)
            for (Map.Entry<String, String> d : before.entrySet()) {
                if (!d.getKey().equals(name)) assertEquals(d.getValue(), driverInTree(env, "fsl-mc", d.getKey()), d.getKey() + " after write " + k);
            }
            String recovery = Env.string(env.get(User.ROOT, path, Env.DEVICE_IFACE, "Recovery").assertOk());
            assertTrue(recovery.startsWith("put back on " + before.get(name)) && recovery.contains(" after an interrupted " + method + " of " + name),
                    recovery);
            List<String> again = env.simulatedWritesBy(restarted.pid());
            Set<String> seen = new HashSet<>();
            for (String w : again) {
                assertTrue(seen.add(w), "the reconcile made " + w + " twice: " + again);
                assertTrue(!killedWrites.contains(w), "the reconcile made " + w + " again, which the killed vfiod had made: " + killedWrites);
            }
            restarted.close();
        }
    }

    /** The writes one uninterrupted move makes, which it then undoes with the opposite move (not counted). */
    private static int cleanWrites(Env env, String path, String method) {
        VfiodProcess v = env.startVfiod(List.of(), true);
        int base = env.simulatedWritesBy(v.pid()).size();
        env.call(User.ROOT, path, Env.DEVICE_IFACE + "." + method, "{}").assertOk();
        int n = env.simulatedWritesBy(v.pid()).size() - base;
        env.call(User.ROOT, path, Env.DEVICE_IFACE + "." + (method.equals("Rebind") ? "Restore" : "Rebind"), "{}").assertOk();
        v.close();
        return n;
    }

    private static String driverInTree(Env env, String bus, String name) {
        Path link = env.sysfsRoot().resolve("bus").resolve(bus).resolve("devices").resolve(name).resolve("driver");
        try {
            return Files.isSymbolicLink(link) ? Files.readSymbolicLink(link).getFileName().toString() : "";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
