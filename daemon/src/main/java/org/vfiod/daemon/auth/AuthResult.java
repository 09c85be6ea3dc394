package org.vfiod.daemon.auth;

/** What polkit said about one call. Only {@link Granted} lets the call go on. */
public sealed interface AuthResult {
    record Granted() implements AuthResult {
    }

    /** polkit answered no (or would need a password that could not be asked for). */
    record Denied(String reason) implements AuthResult {
    }

    /** polkit could not be asked: absent, failing or too slow. The call fails closed. */
    record Unavailable(String reason) implements AuthResult {
    }
}
