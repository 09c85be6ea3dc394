package org.vfiod.cli;

/** The command line is wrong: an unknown command or option, a missing or malformed argument. Exit code 64. */
final class UsageException extends Exception {
    private static final long serialVersionUID = 1L;

    UsageException(String message) {
        super(message);
    }
}
