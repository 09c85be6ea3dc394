package org.vfiod.daemon.state;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;

/**
 * One rule file written or removed by {@link RuleStore}, holding what the file said before, so a change whose
 * device move then fails can be taken back and the device and its rule never disagree.
 */
public final class RuleChange {
    private final RuleStore store;
    private final Path file;
    private final Optional<String> before;

    RuleChange(RuleStore store, Path file, Optional<String> before) {
        this.store = store;
        this.file = file;
        this.before = before;
    }

    /** The rule file this change wrote or removed. */
    public Path file() {
        return file;
    }

    /** Whether a rule file was there before the change (for a forget: whether there was anything to remove). */
    public boolean existedBefore() {
        return before.isPresent();
    }

    /** Puts the file back as it was (or removes it again if it was not there), atomically, and re-reads the rules. */
    public void undo() throws IOException {
        store.restore(file, before);
    }
}
