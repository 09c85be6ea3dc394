package org.vfiod.daemon.sysfs;

import java.io.IOException;

/** Loads a kernel module by name (modprobe, or the simulated kernel in tests). */
@FunctionalInterface
public interface ModuleLoader {
    void load(DriverName module) throws IOException;
}
