package org.vfiod.cli;

import java.nio.file.Path;
import org.vfiod.client.RebindOptions;

/** One parsed command line's command, with its arguments checked and devices in canonical form. */
sealed interface Command {
    /** {@code --address}, {@code --json} and the command. {@code busAddress} is null when not given. */
    record Invocation(String busAddress, boolean json, Command command) {
    }

    record Help() implements Command {
    }

    record ListDevices() implements Command {
    }

    record Show(String address) implements Command {
    }

    record Rebind(String address, RebindOptions options) implements Command {
    }

    record Restore(String address, RebindOptions options) implements Command {
    }

    record Resolve(String modalias) implements Command {
    }

    record Monitor() implements Command {
    }

    /** {@code dirGiven}: the directory came from {@code --dir}, so its absence is the caller's mistake. */
    record ImportDriverctl(Path dir, boolean dirGiven, boolean dryRun, boolean noAsk) implements Command {
    }
}
