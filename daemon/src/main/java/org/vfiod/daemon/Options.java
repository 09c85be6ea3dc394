package org.vfiod.daemon;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Facts of the running system the options default to. */
final class Options {
    private Options() {
    }

    static String kernelRelease() {
        try {
            return Files.readString(Path.of("/proc/sys/kernel/osrelease")).strip();
        } catch (IOException e) {
            return System.getProperty("os.version");
        }
    }
}
