package org.vfiod.daemon.aliases;

import java.nio.file.Path;

/**
 * One {@code vfio_} alias line. {@code order} is its position across all sources, which decides ties.
 */
public record VfioAlias(String pattern, String module, AliasSource source, Path file, int line, int order) {
    public int wildcards() {
        int n = 0;
        for (int i = 0; i < pattern.length(); i++) if (pattern.charAt(i) == '*') n++;
        return n;
    }
}
