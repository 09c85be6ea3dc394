package org.vfiod.daemon.usage;

/** A process with a descriptor open on a node: its pid and its command as {@code /proc/<pid>/comm} gives it. */
public record Opener(int pid, String command) {
}
