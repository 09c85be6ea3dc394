package org.vfiod.daemon.access;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The users of a passwd(5) file ({@code name:x:uid:...}), read at each question (it is small, and users come and
 * go). For a daemon over a simulated machine, whose users are a test's; {@code --passwd-file} names it.
 */
public final class PasswdFile implements Users {
    private final Path file;

    public PasswdFile(Path file) {
        this.file = file;
    }

    @Override
    public Optional<String> nameOf(long uid) throws IOException {
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            String[] f = line.split(":", -1);
            if (f.length < 3 || line.startsWith("#")) continue;
            try {
                if (Long.parseLong(f[2]) == uid) return Optional.of(f[0]);
            } catch (NumberFormatException e) {
                // a malformed line names nobody
            }
        }
        return Optional.empty();
    }
}
