package org.vfiod.daemon;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Feeds systemd's watchdog (WatchdogSec= in vfiod.service) only while vfiod's loops work: each round asks every
 * loop to show it is alive within a limit (the bus reader answers a round trip through the bus, the event worker
 * finishes what it was given), and pings only if all did. A wedged loop stops the pings, and systemd kills and
 * restarts vfiod. A process that is merely alive, as vfiod was with a dead bus reader, proves nothing.
 */
final class Watchdog implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Watchdog.class);

    /** A loop, and how to ask it: true if it showed it works within the limit given. */
    record Loop(String name, Predicate<Duration> aliveWithin) {
    }

    /** Where pings go: systemd's notify socket, or a test's list. */
    @FunctionalInterface
    interface Pings {
        boolean ping();
    }

    private final List<Loop> loops;
    private final Pings pings;
    private final Duration probeLimit;
    private final Thread thread;
    private volatile boolean closed;

    /**
     * Rounds every half of {@code timeout} (as sd_watchdog_enabled(3) advises), each loop given a quarter, so that a
     * round with both loops at their limit still pings in time.
     */
    Watchdog(List<Loop> loops, Pings pings, Duration timeout) {
        this.loops = List.copyOf(loops);
        this.pings = pings;
        this.probeLimit = timeout.dividedBy(4);
        Duration every = timeout.dividedBy(2);
        this.thread = new Thread(() -> run(every), "watchdog");
        thread.setDaemon(true);
    }

    /** The watchdog timeout systemd asks for, if it asks this process ({@code WATCHDOG_USEC}, {@code WATCHDOG_PID}). */
    static Optional<Duration> timeout(Map<String, String> env, long pid) {
        String usec = env.get("WATCHDOG_USEC"), forPid = env.get("WATCHDOG_PID");
        try {
            if (usec == null || (forPid != null && Long.parseLong(forPid) != pid)) return Optional.empty();
            long micros = Long.parseLong(usec);
            return micros > 0 ? Optional.of(Duration.ofNanos(micros * 1000)) : Optional.empty();
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }

    void start() {
        thread.start();
    }

    /** One round: the loops that did not show they work (none: a ping was sent). */
    List<String> round() {
        List<String> wedged = new ArrayList<>();
        for (Loop l : loops) {
            boolean alive;
            try {
                alive = l.aliveWithin().test(probeLimit);
            } catch (RuntimeException e) {
                alive = false;
            }
            if (!alive) wedged.add(l.name());
        }
        if (wedged.isEmpty() && !pings.ping()) LOG.warn("cannot notify systemd's watchdog");
        return wedged;
    }

    private void run(Duration every) {
        List<String> lastWedged = List.of();
        while (!closed) {
            long start = System.nanoTime();
            List<String> wedged = round();
            if (!wedged.isEmpty() && !wedged.equals(lastWedged)) {
                LOG.error("not feeding the watchdog: {} did not answer within {} ms", String.join(" and ", wedged), probeLimit.toMillis());
            }
            lastWedged = wedged;
            long left = every.toNanos() - (System.nanoTime() - start);
            if (left > 0) {
                try {
                    Thread.sleep(left / 1_000_000, (int) (left % 1_000_000));
                } catch (InterruptedException e) {
                    return;
                }
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        thread.interrupt();
    }
}
