package org.vfiod.daemon.aliases;

import java.io.IOException;
import java.nio.file.Path;

/** A source file exists but cannot be read; the message names it. */
public final class AliasSourceException extends IOException {
    private static final long serialVersionUID = 1L;
    private final Path file;

    public AliasSourceException(Path file, IOException cause) {
        super("cannot read alias source " + file + ": " + describe(cause), cause);
        this.file = file;
    }

    public Path file() {
        return file;
    }

    private static String describe(IOException e) {
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getClass().getSimpleName() + " " + e.getMessage();
    }
}
