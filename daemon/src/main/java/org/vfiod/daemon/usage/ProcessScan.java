package org.vfiod.daemon.usage;

import java.util.List;
import java.util.Map;

/**
 * What one pass over {@code /proc} found.
 *
 * @param openers for each wanted link target (such as {@code /dev/dri/card1}) that some process has open, the pids
 *                that have it, ascending; a target nobody has open is absent
 * @param mountNamespaces each distinct mount namespace (the text of an {@code ns/mnt} link), with a few of the pids
 *                        in it, ascending: any of them can show its mount table
 * @param processes       how many processes {@code /proc} listed
 * @param denied          how many of them would not show their descriptors to vfiod (EACCES, EPERM): what they
 *                        hold open is not in {@code openers}
 */
record ProcessScan(Map<String, List<Integer>> openers, Map<String, List<Integer>> mountNamespaces, int processes, int denied) {
    /** A pass that did not have to be made: nothing to look for. */
    static ProcessScan none() {
        return new ProcessScan(Map.of(), Map.of(), 0, 0);
    }
}
