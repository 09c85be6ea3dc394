package org.vfiod.daemon.access;

import java.io.IOException;
import java.util.Optional;

/**
 * The machine's users, to refuse access for a uid nobody has: an ACL entry for a uid that does not exist (yet)
 * would go to whoever is given that uid later.
 */
public interface Users {
    /** The user's name, or empty when no user has {@code uid}. */
    Optional<String> nameOf(long uid) throws IOException;
}
