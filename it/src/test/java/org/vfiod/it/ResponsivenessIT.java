package org.vfiod.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
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

    @Test
    void theCallerGetsItsReplyWhileTheKernelHoldsTheDevice(Env env) throws Exception {
        env.vfiod();
        // the kernel holds a device's lock while its remove() or probe() runs, and every read of driver_override
        // waits for it; a FIFO in its place blocks a reader the same way, until someone writes to it
        Path override = env.deviceDir(NIC).resolve("driver_override");
        Files.delete(override);
        assertEquals(0, new ProcessBuilder("mkfifo", override.toString()).inheritIO().start().waitFor());
        try {
            long t0 = System.nanoTime();
            env.manager(User.ROOT, "Restore", NIC, "{'timeout': <uint32 1000>}").assertError(Env.TIMEOUT, "did not answer within 1000 ms");
            long ms = Duration.ofNanos(System.nanoTime() - t0).toMillis();
            // gdbus itself, a JVM-free process, costs well under a second; the goal is the timeout plus 2 s
            assertTrue(ms < 1000 + 2000, "the reply came after " + ms + " ms");
            timed("Get Driver of the held device", () -> assertEquals("e1000e", env.deviceProperty(NIC, "Driver")));
            timed("Get Driver of the GPU", () -> assertEquals("amdgpu", env.deviceProperty("0000:01:00.0", "Driver")));
        } finally {
            // the kernel lets go: every blocked reader gets its line, then the attribute is a file again
            for (int i = 0; i < 20; i++) {
                Process w = new ProcessBuilder("timeout", "0.2", "sh", "-c", "echo '(null)' > " + override).start();
                w.waitFor();
            }
            Files.deleteIfExists(override);
            Files.writeString(override, "(null)\n");
        }
        // and the device is usable again
        String driver = null;
        for (int i = 0; i < 100 && driver == null; i++) {
            Reply r = env.manager(User.ROOT, "Rebind", NIC, "{}");
            if (r.ok()) driver = Env.string(r);
            else if (Env.BUSY.equals(r.errorName())) PrivateSystemBus.sleep(50);
            else r.assertOk();
        }
        assertEquals("vfio-pci", driver);
    }

    private static void timed(String what, Runnable call) {
        long t0 = System.nanoTime();
        call.run();
        Duration took = Duration.ofNanos(System.nanoTime() - t0);
        assertTrue(took.compareTo(BOUND) < 0, what + " took " + took.toMillis() + " ms while a Rebind hangs");
    }
}
