package org.vfiod.daemon.usage;

import java.nio.file.Path;

/**
 * Where the kernel's trees are. The link texts in {@code <proc>/<pid>/fd} always name {@code /dev/...} as the
 * processes see it; {@code dev} is only where this host's nodes are opened (the exclusive-open check).
 */
public record HostPaths(Path sysfs, Path proc, Path dev) {
    public static HostPaths real() {
        return new HostPaths(Path.of("/sys"), Path.of("/proc"), Path.of("/dev"));
    }
}
