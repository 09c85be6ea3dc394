package org.vfiod.daemon.usage;

import java.nio.file.Path;

/**
 * Whether something holds a block device exclusively: a mount, swap, device-mapper, md, or any program that
 * opened it with O_EXCL. {@link KernelExclusiveOpen} asks the kernel; a simulated host, whose nodes are plain files
 * that any open succeeds on, gives an answer of its own or {@link #NOT_CHECKED}.
 */
public interface ExclusiveOpen {
    ExclusiveOpen NOT_CHECKED = node -> false;

    /** True when the node is held; a node that does not exist is not. */
    boolean busy(Path node);
}
