package org.vfiod.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * systemd's watchdog as vfiod sees it under WatchdogSec=: WATCHDOG_USEC and a NOTIFY_SOCKET, here a datagram socket
 * of the test's read by python3 (Java cannot read AF_UNIX datagrams). vfiod pings while its loops work and stops
 * when the device-event worker is wedged for real: the worker re-reads a device after an event, and the test has
 * made that device's modalias a FIFO, whose open blocks until someone writes it, as a read of a hung device's
 * attribute can block in a real sysfs.
 */
@ExtendWith(RealComponents.class)
class WatchdogIT {
    static final String NIC = "0000:03:00.0";
    static final String PING = "WATCHDOG=1";
    /** Rounds every second, each loop given half a second. */
    static final long WATCHDOG_USEC = 2_000_000;
    /** How long the pings are counted while healthy, and while wedged: three watchdog intervals. */
    static final long WINDOW_MS = 3 * WATCHDOG_USEC / 1000;

    private static final String RECEIVER = String.join("\n",
            "import socket, sys",
            "s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)",
            "s.bind(sys.argv[1])",
            "print('listening', flush=True)",
            "while True:",
            "    print(s.recv(4096).decode(), flush=True)");

    private static long pings(Proc receiver, int from, int to) {
        return receiver.lines().subList(from, to).stream().filter(PING::equals).count();
    }

    @Test
    void thePingsStopWhileTheEventWorkerIsWedged(Env env) throws Exception {
        Path socket = env.dir().resolve("notify.sock");
        Proc receiver = Proc.start("notify", List.of("python3", "-c", RECEIVER, socket.toString()), Map.of(), null, false);
        try {
            receiver.awaitLine("listening"::equals, Duration.ofSeconds(10), "the receiver's start");
            VfiodProcess vfiod = env.startVfiodWith(List.of(), Map.of("NOTIFY_SOCKET", socket.toString(),
                    "WATCHDOG_USEC", Long.toString(WATCHDOG_USEC)), env.vfiodArgs(env.address(), env.defaultModulesDir()), true);
            receiver.awaitLine(PING::equals, Duration.ofSeconds(10), "a first " + PING);
            // as long a window as the wedged one below, for the figures: how many pings a healthy vfiod sends in it
            int healthyFrom = receiver.lineCount();
            Thread.sleep(WINDOW_MS);
            long healthy = pings(receiver, healthyFrom, receiver.lineCount());

            Path modalias = env.deviceDir(NIC).resolve("modalias");
            Files.delete(modalias);
            assertEquals(0, Cmd.run(User.ROOT, "mkfifo", modalias.toString()).exit());
            // an unbind behind vfiod's back: the event makes the worker re-read the device, and block on the FIFO
            Files.delete(env.deviceDir(NIC).resolve("driver"));
            Files.delete(env.sysfsRoot().resolve("bus/pci/drivers/e1000e").resolve(NIC));
            vfiod.awaitLog("not feeding the watchdog: the device-event worker", Duration.ofSeconds(10));
            int wedgedAt = receiver.lineCount();
            Thread.sleep(WINDOW_MS);
            int wedgedUntil = receiver.lineCount();
            long wedged = pings(receiver, wedgedAt, wedgedUntil);
            // the bus reader still answers: only the event loop was wedged
            Reply answered = env.manager(User.ROOT, "ListDevices");

            // the FIFO written: the worker reads it and goes on, and so do the pings
            Proc writer = Cmd.start(User.ROOT, List.of("sh", "-c", "printf 'pci:v00008086d000010D3sv00008086sd0000A01Fbc02sc00i00' > " + modalias));
            Optional<String> again = receiver.findLine(PING::equals, Duration.ofSeconds(10), receiver.lineCount());
            writer.stop(Duration.ofSeconds(1));
            boolean pass = healthy > 0 && wedged == 0 && answered.ok() && again.isPresent();
            new Figures("watchdog").put("pings_while_healthy", healthy).put("pings_while_wedged", wedged)
                    .put("window_ms", WINDOW_MS).put("resumed", again.isPresent()).put("result", pass ? "pass" : "fail").write();
            assertTrue(healthy > 0, "no ping in " + WINDOW_MS + " ms while healthy: " + receiver.lines());
            assertEquals(wedgedAt, wedgedUntil, "pings while the worker was wedged: " + receiver.lines());
            answered.assertOk();
            assertTrue(again.isPresent(), "no ping once the worker was free again; vfiod log:\n" + vfiod.log());
        } finally {
            receiver.stop(Duration.ofSeconds(1));
        }
    }
}
