package org.vfiod.daemon.auth;

/** Who a bus connection belongs to, as the bus itself saw it when the connection was made: its uid and its pid. */
public record CallerCredentials(long uid, long pid) {
    public static final long ROOT = 0;

    public boolean isRoot() {
        return uid == ROOT;
    }
}
