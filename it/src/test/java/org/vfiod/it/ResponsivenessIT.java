package org.vfiod.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A Rebind stuck in the kernel holds one bus thread, not the service: read-only calls on other devices (and on
 * the stuck one) still answer. The bound is generous on purpose; this checks they complete, it is no benchmark.
 */
@ExtendWith(RealComponents.class)
class ResponsivenessIT {
    static final String NIC = "0000:03:00.0";
    static final Duration BOUND = Duration.ofSeconds(5);

    @Test
    void readOnlyCallsAnswerWhileARebindHangs(Env env) throws IOException {
        env.vfiod();
        env.fault("hang-unbind " + NIC);
        Proc rebind = env.managerInBackground(User.ROOT, "Rebind", NIC, "{'timeout': <uint32 20000>}");

        // wait until the Rebind is inside the hanging unbind: driver_override written, still on e1000e
        long until = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!Files.readString(env.deviceDir(NIC).resolve("driver_override")).strip().equals("vfio-pci")) {
            assertTrue(rebind.alive(), () -> "the Rebind ended early: " + rebind.output() + rebind.errors());
            assertTrue(System.nanoTime() < until, "the Rebind never reached the unbind");
            PrivateSystemBus.sleep(20);
        }
        assertEquals("e1000e", env.driverOf(NIC));

        for (int i = 0; i < 3; i++) {
            timed("Get Driver of the GPU", () -> assertEquals("amdgpu", env.deviceProperty("0000:01:00.0", "Driver")));
            timed("Get State of the hung device", () -> assertEquals("busy", env.deviceProperty(NIC, "State")));
            timed("GetAll of the VF", () -> env.call(User.OUTSIDER, Env.devicePath("0000:04:00.1"),
                    "org.freedesktop.DBus.Properties.GetAll", Env.DEVICE_IFACE).assertOk());
            timed("ListDevices", () -> env.manager(User.MEMBER, "ListDevices").assertOk());
            timed("GetManagedObjects", () -> env.call(User.ROOT, Env.MANAGER,
                    "org.freedesktop.DBus.ObjectManager.GetManagedObjects").assertOk());
        }
        assertTrue(rebind.alive(), "the reads above were meant to happen while the Rebind hangs");

        // the kernel returns: the Rebind finishes, in time, and succeeds
        env.clearFaults();
        Reply r = Cmd.collect(rebind, User.ROOT, java.util.List.of("gdbus", "call", "Rebind"), Duration.ofSeconds(30));
        assertEquals("('vfio-pci',)", r.assertOk().out().strip());
        assertEquals("vfio-pci", env.driverOf(NIC));
    }

    private static void timed(String what, Runnable call) {
        long t0 = System.nanoTime();
        call.run();
        Duration took = Duration.ofNanos(System.nanoTime() - t0);
        assertTrue(took.compareTo(BOUND) < 0, what + " took " + took.toMillis() + " ms while a Rebind hangs");
    }
}
