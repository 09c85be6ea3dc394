package org.vfiod.daemon.auth;

import java.util.Optional;

/** Looks up who sent a call, by its unique bus name. Blocking: never on the bus's reader thread. */
@FunctionalInterface
public interface Credentials {
    /** Empty when the bus cannot say (the caller has gone, or the bus did not answer). */
    Optional<CallerCredentials> of(String uniqueName);
}
