package org.vfiod.daemon.files;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/** Whole-file replacement that a crash cannot tear: temporary file, fsync, rename, fsync of the folder. */
public final class AtomicFiles {
    private AtomicFiles() {
    }

    /** How far {@link #replace} and {@link #delete(Path, Durability)} push a change before they return. */
    public enum Durability {
        /** The file and the folder's entry are synced: the change survives the machine going down. */
        SYNCED,
        /**
         * The change is in the kernel (write and rename returned), not necessarily on disk: it survives the process
         * being killed, which is all a record of the kernel's own state needs, since the machine going down resets
         * that state too.
         */
        IN_KERNEL
    }

    private static final FileAttribute<Set<java.nio.file.attribute.PosixFilePermission>> WORLD_READABLE =
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-r--r--"));

    /**
     * Replaces {@code file} as {@link #write} does, through a temporary file of a fixed name ({@code .NAME.tmp}):
     * for a file only one thread writes at a time. It costs a third of {@link #write} (no random name, no chmod),
     * which counts where a file is rewritten after each step of a move.
     */
    public static void replace(Path file, String content, Durability durability) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        Path tmp = dir.resolve("." + file.getFileName() + ".tmp");
        try {
            try (FileChannel ch = FileChannel.open(tmp, Set.of(StandardOpenOption.WRITE, StandardOpenOption.CREATE,
                    StandardOpenOption.TRUNCATE_EXISTING), WORLD_READABLE)) {
                ByteBuffer buf = ByteBuffer.wrap(content.getBytes(StandardCharsets.UTF_8));
                while (buf.hasRemaining()) ch.write(buf);
                if (durability == Durability.SYNCED) ch.force(true);
            }
            try {
                Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                throw new IOException("cannot replace " + file + " atomically", e);
            }
            if (durability == Durability.SYNCED) syncDirectory(dir);
        } catch (IOException | RuntimeException e) {
            // a full or read-only folder leaves no temporary file behind
            Files.deleteIfExists(tmp);
            throw e;
        }
    }

    /** Deletes {@code file}, syncing the folder only when {@code durability} asks for it. */
    public static void delete(Path file, Durability durability) throws IOException {
        if (durability == Durability.SYNCED) delete(file);
        else Files.deleteIfExists(file);
    }

    public static void write(Path file, String content) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, "." + file.getFileName(), ".tmp");
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                ByteBuffer buf = ByteBuffer.wrap(content.getBytes(StandardCharsets.UTF_8));
                while (buf.hasRemaining()) ch.write(buf);
                ch.force(true);
            }
            tmp.toFile().setReadable(true, false);
            try {
                Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                throw new IOException("cannot replace " + file + " atomically", e);
            }
            syncDirectory(dir);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    public static void delete(Path file) throws IOException {
        if (Files.deleteIfExists(file)) syncDirectory(file.toAbsolutePath().getParent());
    }

    private static void syncDirectory(Path dir) throws IOException {
        // the rename is durable only once the folder's entry is on disk
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        }
    }
}
