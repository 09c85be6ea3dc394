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
 */
record ProcessScan(Map<String, List<Integer>> openers, Map<String, List<Integer>> mountNamespaces) {
}
