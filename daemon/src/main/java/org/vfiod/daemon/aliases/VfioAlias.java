package org.vfiod.daemon.aliases;

import java.nio.file.Path;

/**
 * One {@code vfio_} alias line. {@code order} is its position across all sources, which decides ties.
 */
public record VfioAlias(String pattern, String module, AliasSource source, Path file, int line, int order) {
    /** The {@code *} wildcards, counted as the matcher counts them (not escaped, not inside brackets). */
    public int wildcards() {
        return Fnmatch.compile(pattern).stars();
    }
}
