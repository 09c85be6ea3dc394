package org.vfiod.daemon.binding;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Why a Rebind or Restore did not happen, one subclass per D-Bus error of the contract. The message says what
 * happened to the device, in one line.
 */
public abstract sealed class BindingException extends Exception {
    private static final long serialVersionUID = 1L;

    BindingException(String message) {
        super(message);
    }

    /** The request itself is wrong (bad address, unknown driver, ...). Nothing was touched. */
    public static final class InvalidArgument extends BindingException {
        private static final long serialVersionUID = 1L;

        public InvalidArgument(String message) {
            super(message);
        }
    }

    public static final class NoSuchDevice extends BindingException {
        private static final long serialVersionUID = 1L;

        public NoSuchDevice(String message) {
            super(message);
        }
    }

    public static final class NoVfioDriver extends BindingException {
        private static final long serialVersionUID = 1L;

        public NoVfioDriver(String message) {
            super(message);
        }
    }

    /** The host uses the device (or one that would move with it), or a VM holds it; the message names every user. */
    public static final class InUse extends BindingException {
        private static final long serialVersionUID = 1L;

        public InUse(String message) {
            super(message);
        }
    }

    public static final class GroupNotViable extends BindingException {
        private static final long serialVersionUID = 1L;

        public GroupNotViable(String message) {
            super(message);
        }
    }

    public static final class Busy extends BindingException {
        private static final long serialVersionUID = 1L;

        public Busy(String message) {
            super(message);
        }
    }

    /**
     * The caller's time ran out while the kernel (a write, a module load) was still working. {@link #settled} completes
     * once vfiod is done with the devices: the kernel returned and the move was finished or put back. Until then the
     * devices are still being moved, whatever the caller was told.
     */
    public static final class Timeout extends BindingException {
        private static final long serialVersionUID = 1L;
        private final transient CompletableFuture<Void> settled;

        /** A timeout after which nothing is left running. */
        public Timeout(String message) {
            this(message, CompletableFuture.completedFuture(null));
        }

        public Timeout(String message, CompletableFuture<Void> settled) {
            super(message);
            this.settled = settled;
        }

        public CompletionStage<Void> settled() {
            return settled == null ? CompletableFuture.completedFuture(null) : settled.minimalCompletionStage();
        }
    }

    /** A step failed; the message names it, and says whether the device was put back. */
    public static final class Failed extends BindingException {
        private static final long serialVersionUID = 1L;

        public Failed(String message) {
            super(message);
        }
    }
}
