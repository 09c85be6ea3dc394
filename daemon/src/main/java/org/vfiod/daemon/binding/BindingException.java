package org.vfiod.daemon.binding;

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

    public static final class Timeout extends BindingException {
        private static final long serialVersionUID = 1L;

        public Timeout(String message) {
            super(message);
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
