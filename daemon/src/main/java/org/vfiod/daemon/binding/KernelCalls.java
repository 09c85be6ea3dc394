package org.vfiod.daemon.binding;

import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Runs kernel writes on worker threads with a deadline. A remove() that never returns keeps its worker, not the
 * caller: the caller gets {@link Hung}, holding the write, so that whoever owns the group can act when it returns.
 */
final class KernelCalls implements AutoCloseable {
    @FunctionalInterface
    interface KernelCall {
        void run() throws IOException;
    }

    /** A write still in the kernel when its deadline passed. */
    static final class Hung extends Exception {
        private static final long serialVersionUID = 1L;
        final transient CompletableFuture<Void> write;
        final String what;

        Hung(String what, CompletableFuture<Void> write) {
            super(what + " is still in the kernel", null, false, false);
            this.what = what;
            this.write = write;
        }
    }

    private final ExecutorService writers = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "kernel-write");
        t.setDaemon(true);
        return t;
    });

    void run(String what, Duration limit, KernelCall call) throws IOException, Hung {
        CompletableFuture<Void> write = CompletableFuture.runAsync(() -> {
            try {
                call.run();
            } catch (IOException e) {
                throw new CompletionException(e);
            }
        }, writers);
        try {
            write.get(Math.max(1, limit.toMillis()), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            throw new Hung(what, write);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted");
        } catch (ExecutionException e) {
            Throwable cause = e.getCause() instanceof CompletionException c ? c.getCause() : e.getCause();
            if (cause instanceof IOException io) throw io;
            throw new IOException(cause);
        }
    }

    @Override
    public void close() {
        writers.shutdownNow();
    }
}
