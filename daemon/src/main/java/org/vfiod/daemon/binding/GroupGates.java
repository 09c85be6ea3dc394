package org.vfiod.daemon.binding;

import java.time.Duration;
import org.slf4j.LoggerFactory;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * One gate per IOMMU group: operations on a group run one at a time, different groups in parallel. A gate whose
 * kernel write hangs stays shut until the write returns, so nothing else is started on that group meanwhile.
 */
final class GroupGates {
    private final ConcurrentHashMap<String, Gate> gates = new ConcurrentHashMap<>();

    final class Gate {
        private final String name;
        private final Semaphore permit = new Semaphore(1, true);
        private volatile String hungWrite;
        /** Set while the holder's write hangs: only that write's return opens the gate again. */
        private volatile boolean wedged;

        Gate(String name) {
            this.name = name;
        }

        String name() {
            return name;
        }

        void release() {
            // a wedged gate is released by the write that hung, once it returns
            if (!wedged) permit.release();
        }

        /**
         * Keeps the gate shut until {@code write} completes, whoever held it; then runs {@code afterReturn} (the
         * rollback) before anyone else may enter. The future returned completes once the gate is open again.
         */
        CompletableFuture<Void> wedge(String what, CompletableFuture<?> write, Runnable afterReturn) {
            wedged = true;
            hungWrite = what;
            CompletableFuture<Void> reopened = new CompletableFuture<>();
            write.whenComplete((r, e) -> {
                try {
                    afterReturn.run();
                } catch (RuntimeException | Error failure) {
                    LoggerFactory.getLogger(GroupGates.class).error("putting {} back after a hung write failed", name, failure);
                } finally {
                    hungWrite = null;
                    permit.release();
                    reopened.complete(null);
                }
            });
            return reopened;
        }
    }

    /** Refuses at once when a write on this group still hangs in the kernel: nothing on it could start anyway. */
    void refuseIfHung(String key) throws BindingException.Busy {
        Gate gate = gates.get(key);
        String hung = gate == null ? null : gate.hungWrite;
        if (hung != null) throw new BindingException.Busy(key + " is blocked: " + hung + " has not returned from the kernel");
    }

    Gate enter(String key, Instant deadline) throws BindingException.Busy {
        Gate gate = gates.computeIfAbsent(key, Gate::new);
        try {
            while (true) {
                String hung = gate.hungWrite;
                if (hung != null) {
                    throw new BindingException.Busy(key + " is blocked: " + hung + " has not returned from the kernel");
                }
                if (gate.permit.tryAcquire(50, TimeUnit.MILLISECONDS)) {
                    gate.wedged = false;
                    return gate;
                }
                if (Instant.now().isAfter(deadline)) {
                    throw new BindingException.Busy("another operation on " + key + " is still running");
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new BindingException.Busy("interrupted while waiting for " + key);
        }
    }

    static Duration remaining(Instant deadline) {
        Duration d = Duration.between(Instant.now(), deadline);
        return d.isNegative() ? Duration.ZERO : d;
    }
}
