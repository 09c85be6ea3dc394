package org.vfiod.daemon.files;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link AtomicFiles#replace}: the journal's cheaper replacement still replaces whole files and leaves nothing behind. */
class AtomicFilesTest {
    @TempDir
    Path dir;

    private List<String> names() throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(f -> f.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void replaceWritesTheWholeFileEitherWayAndLeavesNoTemporaryFile() throws IOException {
        Path file = dir.resolve("group-3.journal");
        AtomicFiles.replace(file, "one\n", AtomicFiles.Durability.SYNCED);
        assertEquals("one\n", Files.readString(file));
        AtomicFiles.replace(file, "two, longer\n", AtomicFiles.Durability.IN_KERNEL);
        AtomicFiles.replace(file, "3\n", AtomicFiles.Durability.IN_KERNEL);
        assertEquals("3\n", Files.readString(file));
        assertEquals(List.of("group-3.journal"), names());
        // readable by all, as AtomicFiles.write makes its files: a person may read what a move left
        assertEquals("rw-r--r--", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
        AtomicFiles.delete(file, AtomicFiles.Durability.IN_KERNEL);
        assertEquals(List.of(), names());
    }

    @Test
    void aTemporaryFileLeftByAKillIsReplacedNotAppendedTo() throws IOException {
        Path file = dir.resolve("group-3.journal");
        Files.writeString(dir.resolve(".group-3.journal.tmp"), "a longer record a killed vfiod left half-written\n");
        AtomicFiles.replace(file, "short\n", AtomicFiles.Durability.IN_KERNEL);
        assertEquals("short\n", Files.readString(file));
        assertEquals(List.of("group-3.journal"), names());
    }

    @Test
    void aFailedReplaceLeavesTheOldFileAndNoTemporaryFile() throws IOException {
        Path file = dir.resolve("group-3.journal");
        AtomicFiles.replace(file, "old\n", AtomicFiles.Durability.SYNCED);
        // the rename fails: a folder where the file should go
        Path blocked = dir.resolve("blocked");
        Files.createDirectories(blocked.resolve("inside"));
        assertThrows(IOException.class, () -> AtomicFiles.replace(blocked, "new\n", AtomicFiles.Durability.IN_KERNEL));
        assertFalse(Files.exists(dir.resolve(".blocked.tmp")));
        assertEquals("old\n", Files.readString(file));
    }
}
