package org.vfiod.daemon.aliases;

import java.util.List;

/**
 * The alias chosen for one modalias: the match with the fewest {@code *}. {@code tiedWith} holds the other
 * modules that matched with as few wildcards and lost only on source order; empty when the choice was clear.
 */
public record AliasMatch(String modalias, String module, boolean builtin, String pattern, int wildcards,
                         AliasSource source, List<String> tiedWith) {
    public AliasMatch {
        tiedWith = List.copyOf(tiedWith);
    }

    public boolean tie() {
        return !tiedWith.isEmpty();
    }
}
