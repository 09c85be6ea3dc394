package org.vfiod.cli;

import org.freedesktop.dbus.exceptions.DBusException;
import org.freedesktop.dbus.exceptions.DBusExecutionException;
import org.freedesktop.dbus.exceptions.NotConnected;
import org.vfiod1.Error;

/**
 * The exit codes of vfioctl, and the one mapping from whatever went wrong to a code and a one-line message. The
 * codes are a contract with scripts: see {@code vfioctl --help}, cli/README.md and vfioctl(1).
 */
final class Exit {
    /** Done as asked (a dry run that would succeed included). */
    static final int OK = 0;
    /** The daemon tried and the operation failed: Failed, Timeout, GroupNotViable, NoVfioDriver, no reply. */
    static final int FAILED = 1;
    /** No such device (NoSuchDevice). */
    static final int NO_DEVICE = 2;
    /** Not authorized (AccessDenied: polkit said no or could not be asked). */
    static final int NOT_AUTHORIZED = 3;
    /** vfiod is not running, or the bus cannot be reached. */
    static final int UNAVAILABLE = 4;
    /** Busy: too many operations in flight, try again. */
    static final int BUSY = 5;
    /** In use: the host uses the device (or one of its group), or a VM holds it (InUse); nothing was changed. */
    static final int IN_USE = 6;
    /** Usage: unknown command or option, bad argument (vfiod's InvalidArgument included). */
    static final int USAGE = 64;
    /** A bug in vfioctl. */
    static final int INTERNAL = 70;

    private Exit() {
    }

    /** What a failure means for the caller: the exit code and the message for {@code vfioctl: <message>}. */
    record Failure(int code, String message) {
    }

    /** The daemon is not there or the bus cannot be reached; thrown by the connector. */
    static final class Unavailable extends Exception {
        private static final long serialVersionUID = 1L;

        Unavailable(String message, Throwable cause) {
            super(message, cause);
        }
    }

    static Failure of(Throwable t) {
        String m = message(t);
        if (t instanceof UsageException) return new Failure(USAGE, m);
        if (t instanceof Unavailable) return new Failure(UNAVAILABLE, m);
        if (t instanceof Error.NoSuchDevice) return new Failure(NO_DEVICE, m);
        if (t instanceof Error.InvalidArgument) return new Failure(USAGE, m);
        if (t instanceof Error.Busy) return new Failure(BUSY, m);
        if (t instanceof Error.InUse) {
            return new Failure(IN_USE, "in use, nothing was changed: " + m + " (stop using it first; --force takes it anyway, an admin's decision)");
        }
        if (t instanceof Error.Failed || t instanceof Error.Timeout || t instanceof Error.GroupNotViable
                || t instanceof Error.NoVfioDriver) {
            return new Failure(FAILED, m);
        }
        // dbus-java turns org.freedesktop.DBus.Error.AccessDenied into its own class; the api's class is the
        // daemon-side spelling, accepted here too so that nothing depends on which one a future dbus-java picks
        if (t instanceof org.freedesktop.dbus.errors.AccessDenied || t instanceof org.freedesktop.DBus.Error.AccessDenied) {
            return new Failure(NOT_AUTHORIZED, m);
        }
        if (t instanceof org.freedesktop.dbus.errors.ServiceUnknown) {
            return new Failure(UNAVAILABLE, "vfiod is not running: nobody owns org.vfiod on the bus");
        }
        if (t instanceof NotConnected) return new Failure(UNAVAILABLE, "lost the connection to the bus: " + m);
        if (t instanceof org.freedesktop.dbus.errors.NoReply) {
            return new Failure(FAILED, "vfiod did not reply (" + m + "); the device may still be changing: check with 'vfioctl show'");
        }
        if (t instanceof DBusExecutionException || t instanceof DBusException) return new Failure(FAILED, m);
        if (t instanceof java.io.IOException) return new Failure(FAILED, m);
        return new Failure(INTERNAL, "internal error: " + oneLine(t.toString()));
    }

    /** The exception's message on one line, or its class name when it has none. */
    static String message(Throwable t) {
        String m = t.getMessage();
        if (m == null || m.isBlank()) m = t.getClass().getSimpleName();
        return oneLine(m);
    }

    /** Folds line breaks into spaces and replaces other control characters, so a message is one safe line. */
    static String oneLine(String s) {
        StringBuilder b = new StringBuilder(s.length());
        boolean space = false;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\n' || c == '\r' || c == '\t') {
                if (!space) b.append(' ');
                space = true;
                continue;
            }
            space = false;
            b.append(c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0) ? '?' : c);
        }
        return b.toString().strip();
    }
}
