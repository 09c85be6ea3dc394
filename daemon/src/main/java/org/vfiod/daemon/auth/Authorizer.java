package org.vfiod.daemon.auth;

import java.time.Duration;
import java.util.Map;

/** Decides whether the sender of a call (by unique bus name) may perform an action. Blocking: never call it on the bus's dispatch thread. */
@FunctionalInterface
public interface Authorizer {
    /** An interactive check waits for a person typing a password; a non-interactive one only for polkitd. */
    Duration INTERACTIVE_LIMIT = Duration.ofMinutes(5);
    Duration LIMIT = Duration.ofSeconds(25);

    /**
     * {@code details} say what the call is about (polkit's {@code details}, which rules read with
     * {@code action.lookup}): the device and the options that matter to a decision; empty for none.
     */
    AuthResult check(String busName, String actionId, Map<String, String> details, boolean allowInteraction);

    /** How long a check may take, both for the one who waits for it and for the call to polkitd. */
    static Duration limit(boolean allowInteraction) {
        return allowInteraction ? INTERACTIVE_LIMIT : LIMIT;
    }
}
