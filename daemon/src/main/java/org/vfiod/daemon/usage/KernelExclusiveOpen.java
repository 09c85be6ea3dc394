package org.vfiod.daemon.usage;

import com.sun.jna.Native;
import java.nio.file.Path;

/**
 * The kernel's own answer: on a block device, {@code open(O_RDONLY|O_EXCL)} fails with EBUSY while anything holds
 * it. When nothing does, the open succeeds and claims the device for the moment until the close.
 */
public final class KernelExclusiveOpen implements ExclusiveOpen {
    @Override
    public boolean busy(Path node) {
        // ENOENT (no node), EACCES, ENXIO (no medium) and the like: the kernel did not say it is held
        return openError(node) == Syscalls.EBUSY;
    }

    /** The errno of the exclusive open, or 0 when it succeeded. */
    static int openError(Path node) {
        int fd = Syscalls.open(node.toString(), Syscalls.O_RDONLY | Syscalls.O_EXCL | Syscalls.O_CLOEXEC);
        if (fd < 0) return Native.getLastError();
        Syscalls.close(fd);
        return 0;
    }
}
