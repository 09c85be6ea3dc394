package org.vfiod.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.fail;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Issue 14: a device hot-removed in the middle of a move, seen over the bus. The simulator removes the GPU's audio
 * function just before its unbind, in a group Rebind: the caller gets Failed naming it, the GPU is back on amdgpu,
 * the audio function's object leaves the bus, no journal is left, and a restarted vfiod starts cleanly.
 */
@ExtendWith(RealComponents.class)
class HotRemoveIT {
    static final String GPU = "0000:01:00.0";
    static final String AUDIO = "0000:01:00.1";

    @Test
    void aFunctionRemovedDuringAGroupMoveLeavesTheBusAndNothingBehind(Env env) throws Exception {
        VfiodProcess v = env.vfiod();
        env.fault("remove-on-write unbind " + AUDIO);
        env.manager(User.ROOT, "Rebind", GPU, "{'group': <true>}").assertError(Env.FAILED, AUDIO, "no longer present");
        env.clearFaults();
        assertFalse(env.deviceExists(AUDIO));
        assertEquals("amdgpu", env.driverOf(GPU));
        assertEquals("(null)", env.overrideOf(GPU));
        assertEquals("amdgpu", env.deviceProperty(GPU, "Driver"));
        long until = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (env.manager(User.ROOT, "ListDevices").assertOk().out().contains(Env.devicePath(AUDIO))) {
            if (System.nanoTime() > until) fail("the removed function's object is still on the bus:\n" + v.log());
            Thread.sleep(50);
        }
        env.get(User.ROOT, Env.devicePath(AUDIO), Env.DEVICE_IFACE, "Driver").assertError("org.freedesktop.DBus.Error.UnknownObject");
        assertEquals(0, env.journalCount());
        // what is left of the group moves; a restarted vfiod has nothing to reconcile and starts
        assertEquals("vfio-pci", Env.string(env.manager(User.ROOT, "Rebind", GPU, "{'group': <true>}").assertOk()));
        v.close();
        VfiodProcess again = env.startVfiod(List.of(), true);
        assertFalse(again.log().contains("reconcile:"), again::log);
        assertEquals("vfio-pci", env.deviceProperty(GPU, "Driver"));
    }
}
