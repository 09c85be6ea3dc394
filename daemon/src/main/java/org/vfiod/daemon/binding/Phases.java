package org.vfiod.daemon.binding;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Where one call's time went: named phases, each the wall time since the previous lap, summed when a name comes
 * again (the journal is written after each step). It is logged with the call, so that a slow Rebind can be taken
 * apart where it ran (a guest under emulation) instead of guessed at. Laps come from the caller's thread and the
 * operation's thread one after the other, never at once; the lock only makes each lap visible to the next thread.
 */
public final class Phases {
    /** Keeps nothing: for calls nobody times (a rule applied at start, a reconcile). */
    public static final Phases NONE = new Phases(false);

    private final boolean on;
    private final long start = System.nanoTime();
    private long last = start;
    private final Map<String, Long> nanos = new LinkedHashMap<>();

    private Phases(boolean on) {
        this.on = on;
    }

    public static Phases start() {
        return new Phases(true);
    }

    /** Ends the phase {@code name} now: the time since the previous lap (or the start) is added to it. */
    public synchronized void lap(String name) {
        if (!on) return;
        long now = System.nanoTime();
        nanos.merge(name, now - last, Long::sum);
        last = now;
    }

    /** The time of one phase so far, in nanoseconds (0 if it never ran). */
    public synchronized long nanosOf(String name) {
        return nanos.getOrDefault(name, 0L);
    }

    /** "230.1 ms: credentials 0.1, authorize 41.0, ..., other 0.3": the phases in their order, in ms. */
    public synchronized String describe() {
        long total = last - start;
        StringBuilder b = new StringBuilder(ms(total)).append(" ms:");
        String sep = " ";
        for (Map.Entry<String, Long> e : nanos.entrySet()) {
            b.append(sep).append(e.getKey()).append(' ').append(ms(e.getValue()));
            sep = ", ";
        }
        return b.toString();
    }

    private static String ms(long nanos) {
        long tenths = Math.round(nanos / 100_000.0);
        return tenths / 10 + "." + tenths % 10;
    }
}
