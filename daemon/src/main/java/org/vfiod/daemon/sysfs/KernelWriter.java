package org.vfiod.daemon.sysfs;

import java.io.IOException;
import java.nio.file.Path;

/** The one way anything is written to the kernel: one write(2) of {@code value} to a sysfs attribute. */
@FunctionalInterface
public interface KernelWriter {
    void write(Path attribute, String value) throws IOException;
}
