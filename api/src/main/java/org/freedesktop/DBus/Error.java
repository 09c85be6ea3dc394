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
}
