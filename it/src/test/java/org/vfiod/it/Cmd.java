package org.vfiod.it;

import static org.junit.jupiter.api.Assertions.fail;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;

/** Runs a client command to completion, as root or as a test user, with a time limit. */
public final class Cmd {
    /** Long enough for a slow machine, short enough that a hang fails the test instead of the build. */
    public static final Duration DEFAULT_LIMIT = Duration.ofSeconds(30);

    private Cmd() {
    }

    public static Reply run(User user, String... argv) {
        return run(user, DEFAULT_LIMIT, List.of(argv));
    }

    public static Reply run(User user, Duration limit, List<String> argv) {
        Proc p = start(user, argv);
        try {
            OptionalInt code = p.awaitExit(limit);
            if (code.isEmpty()) {
                p.kill();
                fail("[" + user + "] " + String.join(" ", argv) + " did not finish within " + limit.toMillis()
                        + " ms; stdout: " + p.output() + "; stderr: " + p.errors());
            }
            return new Reply(argv, user, code.getAsInt(), p.output(), p.errors());
        } finally {
            p.stop(Duration.ofSeconds(1));
        }
    }

    /** Starts the command in the background; the caller ends it (or collects it with {@link #collect}). */
    public static Proc start(User user, List<String> argv) {
        return Proc.start(argv.isEmpty() ? "cmd" : argv.get(0), user.wrap(new ArrayList<>(argv)), Map.of(), null, false);
    }

    /** The reply of a background command started with {@link #start}, once it has finished within {@code limit}. */
    public static Reply collect(Proc p, User user, List<String> argv, Duration limit) {
        int code = p.exitCode(limit);
        return new Reply(argv, user, code, p.output(), p.errors());
    }
}
