package org.vfiod.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Issue 14: the bus daemon restarted in the middle of a move. On a bus of its own (with its own polkitd), vfiod
 * moves the NIC while its unbind hangs; the bus is killed. vfiod must exit with its documented code (4, "lost the
 * bus connection", so systemd restarts it); then a new bus, polkitd and vfiod start, the journal reconciles, and
 * the NIC is on its prior driver or the asked one, never driverless, with no journal left, and serves calls again.
 * (systemd's restart itself is tested in the guest.)
 */
@ExtendWith(RealComponents.class)
class BusRestartIT {
    static final String NIC = "0000:03:00.0";
    static final int EXIT_BUS_LOST = 4;

    @Test
    void busKilledMidMove(Env env) throws Exception {
        PrivateSystemBus first = env.extraBus();
        Polkitd firstPolkitd = Polkitd.start(first, env.dir().resolve("polkitd-first.log"));
        VfiodProcess v = null;
        boolean journaled;
        try {
            v = env.startVfiodWith(env.vfiodArgs(first.address(), env.defaultModulesDir()), true);
            // load vfio_pci first (vfiod never unloads a module), so the tree compares the devices only
            call(first, "Rebind", NIC).assertOk();
            call(first, "Restore", NIC).assertOk();
            SysfsSnapshot before = env.snapshot();

            env.fault("hang-unbind " + NIC);
            int overrides = overrideWrites(env);
            Proc rebind = Cmd.start(User.ROOT, gdbus(first, "Rebind", NIC));
            long until = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            while (overrideWrites(env) == overrides) {
                if (System.nanoTime() > until) fail("the Rebind never reached the kernel:\n" + v.log());
                Thread.sleep(20);
            }
            Thread.sleep(200);
            first.kill();
            assertEquals(EXIT_BUS_LOST, v.exitCode(Duration.ofSeconds(30)), v::log);
            assertTrue(v.log().contains("lost the bus connection"), v::log);
            rebind.awaitExit(Duration.ofSeconds(10));
            env.clearFaults();
            journaled = env.journalCount() > 0;
            System.out.println("BusRestartIT: the vfiod that lost its bus left " + (journaled ? "its journal" : "no journal")
                    + "; the NIC was on '" + env.driverOf(NIC) + "'");
        } finally {
            firstPolkitd.close();
        }

        PrivateSystemBus second = env.extraBus();
        try (Polkitd secondPolkitd = Polkitd.start(second, env.dir().resolve("polkitd-second.log"))) {
            VfiodProcess again = env.startVfiodWith(env.vfiodArgs(second.address(), env.defaultModulesDir()), true);
            String driver = env.driverOf(NIC);
            assertTrue(Set.of("e1000e", "vfio-pci").contains(driver), "the NIC is on '" + driver + "'\n" + again.log());
            if (driver.equals("e1000e")) assertEquals("(null)", env.overrideOf(NIC), "put back as it was");
            else assertEquals("vfio-pci", env.overrideOf(NIC), "kept as the completed move left it");
            assertEquals(0, env.journalCount(), "the journal is reconciled and gone:\n" + again.log());
            if (journaled) assertTrue(again.log().contains("reconcile:"), again::log);
            // serves again: the move is made, and undone
            assertEquals("vfio-pci", Env.string(call(second, "Rebind", NIC).assertOk()));
            assertEquals("e1000e", Env.string(call(second, "Restore", NIC).assertOk()));
            assertEquals("(null)", env.overrideOf(NIC));
            again.close();
        }
    }

    private static List<String> gdbus(PrivateSystemBus bus, String member, String address) {
        return new ArrayList<>(List.of("gdbus", "call", "--address", bus.address(), "--timeout", "60", "--dest", Env.BUS_NAME,
                "--object-path", Env.MANAGER, "--method", Env.MANAGER_IFACE + "." + member, "--", address, "{}"));
    }

    private static Reply call(PrivateSystemBus bus, String member, String address) {
        return Cmd.run(User.ROOT, Duration.ofSeconds(70), gdbus(bus, member, address));
    }

    private static int overrideWrites(Env env) throws IOException {
        Path writes = env.sysfsRoot().resolve(".vfiod-sim/writes");
        if (!Files.exists(writes)) return 0;
        return (int) Files.readAllLines(writes).stream().filter(l -> l.contains(NIC + "/driver_override vfio-pci")).count();
    }
}
