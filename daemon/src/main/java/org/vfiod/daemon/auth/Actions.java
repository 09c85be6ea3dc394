package org.vfiod.daemon.auth;

/** The polkit action ids of org.vfiod.policy. */
public final class Actions {
    public static final String REBIND = "org.vfiod.rebind";
    public static final String PERSIST = "org.vfiod.persist";
    public static final String RELOAD = "org.vfiod.reload";

    private Actions() {
    }
}
