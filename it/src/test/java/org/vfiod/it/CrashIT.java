package org.vfiod.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A vfiod killed with a real SIGKILL right after each kernel write of a move (the simulator's
 * {@code sigkill-after-write N} fault point), then started again: every device must end exactly where it was
 * before the move, byte for byte in sysfs, and no write of the killed vfiod may be made again.
 */
@ExtendWith(RealComponents.class)
class CrashIT {
    static final String NIC = "0000:03:00.0";
    static final String GPU = "0000:01:00.0";
    static final Duration EXIT_LIMIT = Duration.ofSeconds(30);
    static final int SIGKILLED = 128 + 9;

    @Test
    void aRebindKilledAfterAnyWriteIsRolledBackAtTheNextStart(Env env) {
        loadVfioPci(env);
        killAfterEachWrite(env, 3, "Rebind", NIC, "e1000e");
    }

    @Test
    void aGroupRebindKilledAfterAnyWriteIsRolledBackAtTheNextStart(Env env) {
        loadVfioPci(env);
        killAfterEachWrite(env, 6, "Rebind", GPU, "amdgpu", "{'group': <true>}");
    }

    @Test
    void aRestoreKilledAfterAnyWriteIsRolledBackAtTheNextStart(Env env) {
        env.vfiod();
        assertEquals("vfio-pci", Env.string(env.manager(User.ROOT, "Rebind", NIC, "{}").assertOk()));
        env.vfiod().close();
        killAfterEachWrite(env, 3, "Restore", NIC, "vfio-pci");
    }

    /** vfiod loads a module and never unloads it: load it first, so that the snapshots compare the devices only. */
    private static void loadVfioPci(Env env) {
        env.vfiod();
        env.manager(User.ROOT, "Rebind", NIC, "{}").assertOk();
        env.manager(User.ROOT, "Restore", NIC, "{}").assertOk();
        env.vfiod().close();
    }

    /** For each write k of the move: start vfiod, kill it after its kth write, start it again, compare. */
    private static void killAfterEachWrite(Env env, int writes, String method, String address, String driverBefore, String... options) {
        String opts = options.length > 0 ? options[0] : "{}";
        for (int k = 1; k <= writes; k++) {
            SysfsSnapshot before = env.snapshot();
            VfiodProcess killed = env.startVfiod(List.of(), true);
            int base = env.simulatedWritesBy(killed.pid()).size();
            env.fault("sigkill-after-write " + (base + k));
            Proc call = env.managerInBackground(User.ROOT, method, address, opts);
            assertEquals(SIGKILLED, killed.exitCode(EXIT_LIMIT), killed::log);
            call.awaitExit(Duration.ofSeconds(30));
            env.clearFaults();
            List<String> killedWrites = env.simulatedWritesBy(killed.pid()).subList(base, base + k);
            assertEquals(1, env.journalCount(), "the killed vfiod left its journal after write " + k);

            VfiodProcess restarted = env.startVfiod(List.of(), true);
            String line = restarted.awaitLog("reconcile:", Duration.ofSeconds(5));
            assertTrue(line.contains("rolled back"), line);
            before.assertUnchanged(method + " " + address + " killed after write " + k + " (" + killedWrites + ") and restarted");
            assertEquals(0, env.journalCount(), "the journal is gone once reconciled");
            assertEquals(driverBefore, env.deviceProperty(address, "Driver"));
            String recovery = env.deviceProperty(address, "Recovery");
            assertTrue(recovery.startsWith("put back on " + driverBefore) && recovery.contains(" after an interrupted " + method + " of " + address), recovery);

            List<String> again = env.simulatedWritesBy(restarted.pid());
            Set<String> seen = new HashSet<>();
            for (String w : again) {
                assertTrue(seen.add(w), "the reconcile made " + w + " twice: " + again);
                assertTrue(!killedWrites.contains(w), "the reconcile made " + w + " again, which the killed vfiod had made: " + killedWrites);
            }
            restarted.close();
        }
    }
}
