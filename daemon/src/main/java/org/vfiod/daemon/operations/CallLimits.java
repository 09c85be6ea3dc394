package org.vfiod.daemon.operations;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Semaphore;
import org.vfiod.daemon.auth.CallerCredentials;
import org.vfiod1.Error;

/**
 * How many slow calls may be in flight, so that no user can starve another. Each uid has its own allowance, which
 * covers everything its calls do (waiting for polkit included): a user who keeps calling, or whose polkit check
 * waits minutes for a password, gets Busy alone. An authorized change takes nothing shared: polkit has said yes,
 * and its uid's allowance bounds it, so no user, authorized or not, can make another authorized caller wait. The
 * only shared slots are those of the calls anyone may make without authorization (dry runs and Users(), which read
 * all of /proc); root takes none of those either: nobody else's calls may make the administrator wait.
 */
final class CallLimits {
    /** Calls of one uid in flight at once, other than root's. */
    static final int PER_UID = 4;

    /** What a call holds while it runs; closing it gives it back. */
    interface Permit extends AutoCloseable {
        @Override
        void close();
    }

    private static final Permit NOTHING = () -> { };

    private final int rootCalls;
    private final Semaphore examinations;
    private final Map<Long, Integer> inFlight = new HashMap<>();

    /** {@code rootCalls}: root's own allowance; {@code examinations}: dry runs and Users() calls in flight at once. */
    CallLimits(int rootCalls, int examinations) {
        this.rootCalls = rootCalls;
        this.examinations = new Semaphore(examinations);
    }

    /** A call of {@code who} starts: counted against its uid's allowance, or Busy for that uid only. */
    Permit admit(CallerCredentials who) {
        long uid = who.uid();
        int allowed = who.isRoot() ? rootCalls : PER_UID;
        synchronized (inFlight) {
            int n = inFlight.getOrDefault(uid, 0);
            if (n >= allowed) {
                throw new Error.Busy("uid " + uid + " has " + n + " calls in flight already; try again once one has returned");
            }
            inFlight.put(uid, n + 1);
        }
        return new Once(() -> {
            synchronized (inFlight) {
                inFlight.computeIfPresent(uid, (k, v) -> v == 1 ? null : v - 1);
            }
        });
    }

    /** A shared slot for a dry run (of {@code who}) or, with null, for a Users() call, whose caller is not known. */
    Permit examination(CallerCredentials who) {
        return who != null && who.isRoot() ? NOTHING : take(examinations, "too many dry runs and Users calls in flight; try again shortly");
    }

    /** Calls of {@code uid} in flight now, for tests. */
    int inFlight(long uid) {
        synchronized (inFlight) {
            return inFlight.getOrDefault(uid, 0);
        }
    }

    private static Permit take(Semaphore slots, String busy) {
        if (!slots.tryAcquire()) throw new Error.Busy(busy);
        return new Once(slots::release);
    }

    /** A permit that gives back only once, however often it is closed. */
    private static final class Once implements Permit {
        private Runnable release;

        Once(Runnable release) {
            this.release = release;
        }

        @Override
        public synchronized void close() {
            if (release != null) release.run();
            release = null;
        }
    }
}
