package org.vfiod.daemon.auth;

/** Decides whether the sender of a call (by unique bus name) may perform an action. Blocking: never call it on the bus's dispatch thread. */
@FunctionalInterface
public interface Authorizer {
    AuthResult check(String busName, String actionId, boolean allowInteraction);
}
