package org.vfiod.daemon.bus;

import java.util.concurrent.ThreadFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Ends the process when a thread dies of an {@link Error} (OutOfMemoryError, StackOverflowError, ...). Without it
 * such a thread just ends: a dead bus reader left vfiod alive, owning its name and answering no one, and systemd,
 * seeing a running process, never restarted it. Installed as the JVM's default handler, it covers every thread
 * whose loop lets an Error through: the bus reader, the device-event worker, the udev thread and the slow pool's
 * workers (a task passed to {@code execute} that throws ends its worker through this handler).
 */
public final class FatalErrors implements Thread.UncaughtExceptionHandler {
    /** EX_SOFTWARE: anything but 0, 64 and 143 makes systemd restart vfiod (Restart=on-failure). */
    public static final int EXIT_FATAL = 70;
    private static final Logger LOG = LoggerFactory.getLogger(FatalErrors.class);

    /** How the process ends; the real one halts, a test's records. */
    @FunctionalInterface
    public interface Ending {
        void end(int exitCode);
    }

    private final Ending ending;

    public FatalErrors(Ending ending) {
        this.ending = ending;
    }

    /**
     * Halts, not exits: System.exit would run the shutdown hook, which waits up to 60 s for the operation in flight,
     * on a JVM whose heap or stack just failed, and may never return. A halt is what a kill -9 is, which vfiod is
     * built to survive: the journal of a move in flight puts its devices back at the next start.
     */
    public static FatalErrors halting() {
        return new FatalErrors(code -> Runtime.getRuntime().halt(code));
    }

    /** Makes this the handler of every thread that has none of its own. */
    public void installAsDefault() {
        Thread.setDefaultUncaughtExceptionHandler(this);
    }

    /** Daemon threads named {@code name} that end the process on an Error whatever the default handler is. */
    public ThreadFactory threads(String name) {
        return r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            t.setUncaughtExceptionHandler(this);
            return t;
        };
    }

    @Override
    public void uncaughtException(Thread thread, Throwable e) {
        if (!(e instanceof Error)) {
            LOG.error("thread {} ended on an unexpected exception", thread.getName(), e);
            return;
        }
        try {
            // the message first and alone: with no heap left, the stack trace may be what fails
            LOG.error("fatal: {} on thread {}; ending vfiod (exit {}) so that it is restarted", e, thread.getName(), EXIT_FATAL);
            LOG.error("the fatal error's stack", e);
        } catch (Throwable logging) {
            // nothing more to say: end anyway
        } finally {
            ending.end(EXIT_FATAL);
        }
    }
}
