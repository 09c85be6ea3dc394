package org.vfiod.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class WatchdogTest {
    private final AtomicInteger pings = new AtomicInteger();

    @Test
    void aRoundPingsOnlyWhenEveryLoopAnswers() {
        AtomicBoolean eventsAlive = new AtomicBoolean(true);
        Watchdog w = new Watchdog(List.of(new Watchdog.Loop("bus", limit -> true),
                new Watchdog.Loop("events", limit -> eventsAlive.get())), () -> pings.incrementAndGet() > 0, Duration.ofSeconds(30));
        assertEquals(List.of(), w.round());
        assertEquals(1, pings.get());
        eventsAlive.set(false);
        assertEquals(List.of("events"), w.round());
        assertEquals(1, pings.get(), "pinged with a wedged loop");
    }

    @Test
    void aLoopThatThrowsCountsAsWedged() {
        Watchdog w = new Watchdog(List.of(new Watchdog.Loop("bus", limit -> {
            throw new IllegalStateException("closed");
        })), () -> pings.incrementAndGet() > 0, Duration.ofSeconds(30));
        assertEquals(List.of("bus"), w.round());
        assertEquals(0, pings.get());
    }

    /**
     * A worker thread as the device-event worker is: it takes work and finishes it. The watchdog feeds while it
     * does, and stops once a piece of work never finishes.
     */
    @Test
    void aWedgedWorkerStopsThePings() throws Exception {
        Semaphore work = new Semaphore(0), done = new Semaphore(0);
        AtomicBoolean wedge = new AtomicBoolean();
        Thread worker = new Thread(() -> {
            try {
                while (true) {
                    work.acquire();
                    if (wedge.get()) Thread.sleep(Long.MAX_VALUE);
                    done.release();
                }
            } catch (InterruptedException e) {
                // the end of the test
            }
        }, "worker");
        worker.setDaemon(true);
        worker.start();
        Watchdog.Loop loop = new Watchdog.Loop("worker", limit -> {
            work.release();
            try {
                return done.tryAcquire(limit.toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                return false;
            }
        });
        Watchdog w = new Watchdog(List.of(loop), () -> pings.incrementAndGet() > 0, Duration.ofMillis(200));
        w.start();
        try {
            Thread.sleep(1000);
            int fed = pings.get();
            assertTrue(fed >= 5, "only " + fed + " pings in 1 s with rounds every 100 ms");
            wedge.set(true);
            Thread.sleep(300);
            int atWedge = pings.get();
            Thread.sleep(1000);
            assertEquals(atWedge, pings.get(), "pings went on with the worker wedged");
        } finally {
            w.close();
            worker.interrupt();
        }
    }

    @Test
    void theTimeoutIsSystemdsForThisProcessOnly() {
        assertEquals(Optional.of(Duration.ofSeconds(30)), Watchdog.timeout(Map.of("WATCHDOG_USEC", "30000000"), 42));
        assertEquals(Optional.of(Duration.ofSeconds(30)), Watchdog.timeout(Map.of("WATCHDOG_USEC", "30000000", "WATCHDOG_PID", "42"), 42));
        assertEquals(Optional.empty(), Watchdog.timeout(Map.of("WATCHDOG_USEC", "30000000", "WATCHDOG_PID", "41"), 42));
        assertEquals(Optional.empty(), Watchdog.timeout(Map.of(), 42));
        assertEquals(Optional.empty(), Watchdog.timeout(Map.of("WATCHDOG_USEC", "0"), 42));
        assertEquals(Optional.empty(), Watchdog.timeout(Map.of("WATCHDOG_USEC", "soon"), 42));
    }
}
