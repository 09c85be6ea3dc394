package org.vfiod.daemon.usage;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Optional;

/** Reading sysfs and /proc files, where a file that is not there (a device or process gone) is an answer, not an error. */
final class KernelFiles {
    private KernelFiles() {
    }

    static Optional<String> read(Path file) throws IOException {
        try {
            return Optional.of(Files.readString(file));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
    }

    static String readOrEmpty(Path file) throws IOException {
        return read(file).orElse("");
    }

    /** The last name of a link's target: the group of {@code iommu_group}, the bridge of {@code master}. */
    static Optional<String> linkName(Path link) {
        try {
            Path target = Files.readSymbolicLink(link).getFileName();
            return target == null ? Optional.empty() : Optional.of(target.toString());
        } catch (IOException | UnsupportedOperationException e) {
            return Optional.empty();
        }
    }
}
