package org.freedesktop.DBus;

import org.freedesktop.dbus.exceptions.DBusExecutionException;

/**
 * Standard D-Bus error names. dbus-java's own classes go on the wire as {@code org.freedesktop.dbus.errors.*}
 * (lower case), which sd-bus and GLib do not recognise; these classes give the standard names.
 */
public final class Error {
    private Error() {
    }

    /** {@code org.freedesktop.DBus.Error.AccessDenied}: polkit said no, or could not be asked. */
    public static class AccessDenied extends DBusExecutionException {
        private static final long serialVersionUID = 1L;

        public AccessDenied(String message) {
            super(message);
        }
    }

    public static class UnknownProperty extends DBusExecutionException {
        private static final long serialVersionUID = 1L;

        public UnknownProperty(String message) {
            super(message);
        }
    }

    public static class UnknownInterface extends DBusExecutionException {
        private static final long serialVersionUID = 1L;

        public UnknownInterface(String message) {
            super(message);
        }
    }

    public static class PropertyReadOnly extends DBusExecutionException {
        private static final long serialVersionUID = 1L;

        public PropertyReadOnly(String message) {
            super(message);
        }
    }

    /** {@code org.freedesktop.DBus.Error.UnknownMethod}: no such method on the object (or interface). */
    public static class UnknownMethod extends DBusExecutionException {
        private static final long serialVersionUID = 1L;

        public UnknownMethod(String message) {
            super(message);
        }
    }

    /** {@code org.freedesktop.DBus.Error.UnknownObject}: no object at the path. */
    public static class UnknownObject extends DBusExecutionException {
        private static final long serialVersionUID = 1L;

        public UnknownObject(String message) {
            super(message);
        }
    }

    /** {@code org.freedesktop.DBus.Error.InvalidArgs}: the arguments do not have the signature the method takes. */
    public static class InvalidArgs extends DBusExecutionException {
        private static final long serialVersionUID = 1L;

        public InvalidArgs(String message) {
            super(message);
        }
    }
}
