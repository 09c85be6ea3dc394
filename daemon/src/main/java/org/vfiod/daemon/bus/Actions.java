package org.vfiod.daemon.bus;

/**
 * The polkit action ids of org.vfiod.policy. The member table names the one each mutating member needs (the
 * contract's {@code org.vfiod1.PolkitAction} annotations say the same); a call with {@code persist} needs
 * {@link #PERSIST} as well, one with {@code force} {@link #FORCE}, one whose {@code owner} is someone else {@link #GRANT}.
 */
public final class Actions {
    public static final String REBIND = "org.vfiod.rebind";
    public static final String PERSIST = "org.vfiod.persist";
    public static final String RELOAD = "org.vfiod.reload";
    /** Besides the member's action, for a call with {@code force}. */
    public static final String FORCE = "org.vfiod.force";
    /** Besides the member's action, for a call whose {@code owner} is another uid than the caller's. */
    public static final String GRANT = "org.vfiod.grant";

    private Actions() {
    }
}
