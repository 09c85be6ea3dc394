package org.vfiod.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.vfiod.daemon.sim.SimulatedSysfs;

/**
 * Issue 14: polkitd killed (SIGKILL) in the middle of a check, then started again. The test rule
 * 48-vfiod-slow-check-test.rules (installed by scripts/setup-test-system) makes a check about 0000:0f:00.0 take 8 s;
 * while vfiod waits on it, polkitd is killed. The caller must get a clear AccessDenied at once (not a hang until
 * vfiod's 25 s limit, not success) and nothing may change; with polkitd started again (a new process under a new
 * unique name) the next Rebind is asked of the new instance, authorized, and done.
 */
@ExtendWith(RealComponents.class)
class PolkitCrashIT {
    static final String SLOW = "0000:0f:00.0";
    static final String NIC = "0000:03:00.0";
    static final Path SLOW_RULE = Path.of("/etc/polkit-1/rules.d/48-vfiod-slow-check-test.rules");

    @Test
    void polkitdKilledInTheMiddleOfACheckDeniesThatCallAndTheNextInstanceAnswers(Env env) throws Exception {
        if (!Files.exists(SLOW_RULE)) fail(SLOW_RULE + " is missing: run scripts/setup-test-system");
        env.sim().device(SimulatedSysfs.Device.of(SLOW, 0x8086, 0x10d3, 0x020000, 15, "e1000e"));
        env.vfiod();
        String before = env.bus().owner(Polkitd.BUS_NAME);
        SysfsSnapshot untouched = env.snapshot();

        // a member of vfio, whom the test rule allows: polkitd answers root (uid 0) without running any rule
        Proc call = env.managerInBackground(User.MEMBER, "Rebind", SLOW, "{}");
        long polkitd = env.polkitd().pid();
        awaitChild(polkitd, "sleep", Duration.ofSeconds(20));
        long t0 = System.nanoTime();
        env.polkitd().kill();
        int exit = call.exitCode(Duration.ofSeconds(20));
        long ms = (System.nanoTime() - t0) / 1_000_000;
        String out = call.output() + call.errors();
        assertNotEquals(0, exit, "the Rebind must not succeed without an answer from polkit: " + out);
        assertTrue(out.contains(Env.ACCESS_DENIED) && out.contains("authorization unavailable"), out);
        assertTrue(out.contains("nothing was changed"), out);
        // the bus tells vfiod at once that polkitd went away without replying; vfiod does not wait out its 25 s
        assertTrue(ms < 5000, "the caller got its answer " + ms + " ms after polkitd died");
        untouched.assertUnchanged("a Rebind whose polkit check died with polkitd");
        assertEquals("e1000e", env.driverOf(SLOW));
        // reads never needed polkit
        assertEquals("e1000e", env.deviceProperty(SLOW, "Driver"));

        Polkitd again = env.restartPolkitd();
        assertNotEquals(polkitd, again.pid());
        String after = env.bus().owner(Polkitd.BUS_NAME);
        assertNotEquals(before, after, "a new polkitd has a new unique name");
        assertEquals("vfio-pci", Env.string(env.manager(User.ROOT, "Rebind", NIC, "{}").assertOk()));
        assertEquals("vfio-pci", env.driverOf(NIC));
        // a caller the rules allow only through polkit's rules (not as root) is authorized by the new instance
        assertEquals("e1000e", Env.string(env.manager(User.MEMBER, "Restore", NIC, "{}").assertOk()));
        env.manager(User.OUTSIDER, "Rebind", NIC, "{}").assertError(Env.ACCESS_DENIED);
        assertEquals("e1000e", env.driverOf(NIC));
        // and the slow device's own check, now answered in full, goes through
        assertEquals("vfio-pci", Env.string(env.manager(User.MEMBER, "Rebind", SLOW, "{}").assertOk()));
        assertTrue(env.vfiod().alive(), env.vfiod()::log);
    }

    /** Waits until {@code parent} has a child process named {@code comm} (polkitd's rule has spawned its sleep). */
    static void awaitChild(long parent, String comm, Duration limit) throws InterruptedException {
        long until = System.nanoTime() + limit.toNanos();
        while (System.nanoTime() < until) {
            try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
                boolean found = procs.filter(p -> p.getFileName().toString().matches("\\d+")).anyMatch(p -> {
                    try {
                        String stat = Files.readString(p.resolve("stat"));
                        String name = stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
                        long ppid = Long.parseLong(stat.substring(stat.lastIndexOf(')') + 2).split(" ")[1]);
                        return ppid == parent && name.equals(comm);
                    } catch (IOException | RuntimeException gone) {
                        return false;
                    }
                });
                if (found) return;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            Thread.sleep(20);
        }
        fail("polkitd (pid " + parent + ") never ran the slow rule's " + comm + " within " + limit.toMillis() + " ms");
    }
}
