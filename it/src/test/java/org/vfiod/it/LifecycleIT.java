package org.vfiod.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** vfiod's process lifecycle on a real bus: name conflicts, --replace, SIGTERM, losing the bus. Exit codes as Daemon defines them. */
@ExtendWith(RealComponents.class)
class LifecycleIT {
    static final int EXIT_NAME_TAKEN = 3, EXIT_BUS_LOST = 4, EXIT_USAGE = 64;
    static final Duration EXIT_LIMIT = Duration.ofSeconds(30);
    static final String NIC = "0000:03:00.0";

    @Test
    void aSecondVfiodExitsWithNameTaken(Env env) {
        VfiodProcess first = env.vfiod();
        String owner = env.bus().owner(Env.BUS_NAME);
        assertNotNull(owner);
        VfiodProcess second = env.startVfiod(List.of(), false);
        assertEquals(EXIT_NAME_TAKEN, second.exitCode(EXIT_LIMIT), second::log);
        assertTrue(second.log().contains("already owned"), second::log);
        assertTrue(first.alive(), "the first vfiod must keep running");
        assertEquals(owner, env.bus().owner(Env.BUS_NAME));
        env.manager(User.ROOT, "ListDevices").assertOk();
    }

    @Test
    void replaceTakesTheNameOverAndTheFirstExitsNonZero(Env env) {
        VfiodProcess first = env.vfiod();
        String before = env.bus().owner(Env.BUS_NAME);
        VfiodProcess second = env.startVfiod(List.of("--replace"), true);
        int code = first.exitCode(EXIT_LIMIT);
        assertNotEquals(0, code, first::log);
        assertTrue(first.log().contains("lost the name"), first::log);
        assertEquals(EXIT_NAME_TAKEN, code, first::log);
        assertTrue(second.alive(), second::log);
        String after = env.bus().owner(Env.BUS_NAME);
        assertNotNull(after);
        assertNotEquals(before, after);
        // the new owner serves
        assertEquals("vfio-pci", Env.string(env.manager(User.ROOT, "Rebind", NIC, "{}").assertOk()));
        second.awaitLog("Rebind " + NIC, Duration.ofSeconds(10));
    }

    @Test
    void sigtermStopsItAndReleasesTheName(Env env) {
        VfiodProcess v = env.vfiod();
        assertTrue(env.bus().hasOwner(Env.BUS_NAME));
        v.terminate();
        int code = v.exitCode(EXIT_LIMIT);
        assertTrue(code == 0 || code == 143, () -> "exit code " + code + "\n" + v.log());
        assertTrue(v.log().contains("stopped"), () -> "exit code " + code + ", log:\n" + v.log());
        assertFalse(env.bus().hasOwner(Env.BUS_NAME), "org.vfiod still has an owner");
    }

    @Test
    void losingTheBusMakesItExitNonZero(Env env) {
        PrivateSystemBus bus = env.extraBus();
        VfiodProcess v = env.startVfiodWith(env.vfiodArgs(bus.address(), env.defaultModulesDir()), true);
        bus.kill();
        int code = v.exitCode(EXIT_LIMIT);
        assertEquals(EXIT_BUS_LOST, code, v::log);
        assertTrue(v.log().contains("lost the bus connection"), v::log);
    }

    @Test
    void anUnknownOptionIsAUsageError(Env env) {
        List<String> args = env.vfiodArgs(env.address(), env.defaultModulesDir());
        args.add("--no-such-option");
        VfiodProcess v = env.startVfiodWith(args, false);
        assertEquals(EXIT_USAGE, v.exitCode(EXIT_LIMIT), v::log);
        assertTrue(v.log().contains("unknown option --no-such-option"), v::log);
        assertFalse(env.bus().hasOwner(Env.BUS_NAME));
    }
}
