package org.vfiod1;

import org.freedesktop.dbus.exceptions.DBusExecutionException;

/**
 * The errors of the vfiod contract. dbus-java names an error after its class with {@code $} as {@code .}, so
 * {@code org.vfiod1.Error.InvalidArgument} on the wire is {@link InvalidArgument} here. The message is one line
 * that says what happened to the device.
 */
public final class Error {
    private Error() {
    }

    /** A malformed address, an unknown option, an option of the wrong type, a driver that is not a vfio driver. */
    public static class InvalidArgument extends DBusExecutionException {
        private static final long serialVersionUID = 1L;

        public InvalidArgument(String message) {
            super(message);
        }
    }

    public static class NoSuchDevice extends DBusExecutionException {
        private static final long serialVersionUID = 1L;

        public NoSuchDevice(String message) {
            super(message);
        }
    }

    public static class NoVfioDriver extends DBusExecutionException {
        private static final long serialVersionUID = 1L;

        public NoVfioDriver(String message) {
            super(message);
        }
    }

    /**
     * The host uses the device, or one that would move with it (a mounted disk, an interface that is up, a node a
     * process holds open), or a VM holds it through VFIO; the message names every user. Nothing was changed.
     */
    public static class InUse extends DBusExecutionException {
        private static final long serialVersionUID = 1L;

        public InUse(String message) {
            super(message);
        }
    }

    /** Another endpoint of the IOMMU group is on a host driver; the message names it. */
    public static class GroupNotViable extends DBusExecutionException {
        private static final long serialVersionUID = 1L;

        public GroupNotViable(String message) {
            super(message);
        }
    }

    public static class Busy extends DBusExecutionException {
        private static final long serialVersionUID = 1L;

        public Busy(String message) {
            super(message);
        }
    }

    public static class Timeout extends DBusExecutionException {
        private static final long serialVersionUID = 1L;

        public Timeout(String message) {
            super(message);
        }
    }

    /** A step failed; the message names it and says whether the device was put back. */
    public static class Failed extends DBusExecutionException {
        private static final long serialVersionUID = 1L;

        public Failed(String message) {
            super(message);
        }
    }
}
