package org.vfiod.daemon.bus;

import org.freedesktop.dbus.exceptions.DBusException;
import org.freedesktop.dbus.messages.DBusSignal;
import org.freedesktop.dbus.types.UInt32;

/**
 * vfiod's well-known name on the bus: requested once the objects are ready, given back at a clean stop, and its
 * loss (to a replacement) noticed. Every instance allows replacement, so {@code --replace} can take over.
 */
public final class BusName {
    private static final String DBUS = "org.freedesktop.DBus";
    private static final int ALLOW_REPLACEMENT = 0x1, REPLACE_EXISTING = 0x2, DO_NOT_QUEUE = 0x4;
    private static final int PRIMARY_OWNER = 1, ALREADY_OWNER = 4;

    /** What a request got. */
    public sealed interface Claim {
    }

    public record Owned() implements Claim {
    }

    /** The name is not ours; {@code why} says why and what to do, for the log. */
    public record NotOwned(String why) implements Claim {
    }

    private final BusLink link;
    private final String name;
    private final Runnable lost;

    /** {@code lost} runs (on the bus reader thread) when the bus says the name is no longer ours. */
    public BusName(BusLink link, String name, Runnable lost) {
        this.link = link;
        this.name = name;
        this.lost = lost;
    }

    /** RequestName with DO_NOT_QUEUE; with {@code replace}, REPLACE_EXISTING. */
    public Claim request(boolean replace) {
        int flags = ALLOW_REPLACEMENT | DO_NOT_QUEUE | (replace ? REPLACE_EXISTING : 0);
        Object r;
        try {
            r = link.callBus("RequestName", "su", name, new UInt32(flags));
        } catch (Exception e) {
            return new NotOwned("cannot own " + name + ": " + e.getMessage() + " (is this process allowed to own it by the bus policy?)");
        }
        int code = r instanceof Number n ? n.intValue() : -1;
        if (code == PRIMARY_OWNER || code == ALREADY_OWNER) return new Owned();
        return new NotOwned(name + " is already owned by another process; pass --replace to take it over");
    }

    /** Gives the name back; the bus may be gone already, which gives it back too. */
    public void release() {
        try {
            link.callBus("ReleaseName", "s", name);
        } catch (Exception ignored) {
            // the bus may be gone already
        }
    }

    /**
     * A signal the bus sent us. Only the bus itself can send NameLost: anyone may send us a signal, but the bus
     * stamps the sender.
     */
    void signal(DBusSignal signal) {
        if ("NameLost".equals(signal.getName()) && DBUS.equals(signal.getSource()) && name.equals(firstArgument(signal))) {
            lost.run();
        }
    }

    private static String firstArgument(DBusSignal signal) {
        try {
            Object[] p = signal.getParameters();
            return p != null && p.length > 0 ? String.valueOf(p[0]) : "";
        } catch (DBusException e) {
            return "";
        }
    }
}
