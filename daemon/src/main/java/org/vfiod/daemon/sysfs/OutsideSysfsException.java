package org.vfiod.daemon.sysfs;

import java.io.IOException;
import java.nio.file.Path;

/** A link led out of the sysfs root; vfiod neither reads nor writes there. */
public final class OutsideSysfsException extends IOException {
    private static final long serialVersionUID = 1L;

    public OutsideSysfsException(Path path, Path target) {
        super(path + " leads to " + target + ", outside the sysfs root");
    }
}
