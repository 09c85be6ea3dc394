package org.vfiod.daemon.bus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** An Error on a vital thread ends the process; the test's ending records the exit code instead of halting. */
class FatalErrorsTest {
    private final LinkedBlockingQueue<Integer> ended = new LinkedBlockingQueue<>();
    private final FatalErrors fatal = new FatalErrors(ended::add);

    @Test
    void anErrorThatEndsAThreadEndsTheProcess() throws Exception {
        Thread t = fatal.threads("bus-reader").newThread(() -> {
            throw new OutOfMemoryError("Java heap space");
        });
        t.start();
        assertEquals(FatalErrors.EXIT_FATAL, ended.poll(10, TimeUnit.SECONDS));
    }

    @Test
    void anErrorInASlowPoolTaskEndsTheProcess() throws Exception {
        ExecutorService pool = Executors.newCachedThreadPool(fatal.threads("slow-call"));
        try {
            pool.execute(() -> {
                throw new StackOverflowError();
            });
            assertEquals(FatalErrors.EXIT_FATAL, ended.poll(10, TimeUnit.SECONDS));
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void asTheDefaultHandlerItCoversThreadsMadeElsewhere() throws Exception {
        Thread.UncaughtExceptionHandler previous = Thread.getDefaultUncaughtExceptionHandler();
        try {
            fatal.installAsDefault();
            // a thread as the device-event worker or the udev thread makes its own: no handler of its own
            Thread t = new Thread(() -> {
                throw new OutOfMemoryError("Java heap space");
            }, "device-events");
            t.start();
            assertEquals(FatalErrors.EXIT_FATAL, ended.poll(10, TimeUnit.SECONDS));
        } finally {
            Thread.setDefaultUncaughtExceptionHandler(previous);
        }
    }

    @Test
    void anExceptionIsLoggedOnly() throws Exception {
        Thread t = fatal.threads("alias-watch").newThread(() -> {
            throw new IllegalStateException("a bug, not a dying JVM");
        });
        t.start();
        t.join(10_000);
        assertTrue(ended.isEmpty());
    }
}
