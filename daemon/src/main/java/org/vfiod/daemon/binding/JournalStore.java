package org.vfiod.daemon.binding;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.vfiod.daemon.files.AtomicFiles;

/**
 * The journal's folder: one file per move in flight, written atomically before the move's first kernel write and
 * after each step, and removed when the move ends. It lives in vfiod's runtime directory (a tmpfs, /run/vfiod):
 * a reboot resets the kernel's state and clears the journal with it.
 * <p>
 * Only the first record is synced (file and folder) before the first write. The later ones (each step, the end,
 * the removal) only have to outlive vfiod, not the machine: a kill -9 leaves what write and rename gave the kernel,
 * and the machine going down resets the devices' state, which is all they describe. That is one sync per move
 * instead of six, a third of a Rebind's journal time in a guest under emulation. One move per group runs at a
 * time (the group's gate), so each journal file has one writer and its temporary file a fixed name.
 */
public final class JournalStore {
    static final String SUFFIX = ".journal";

    private final Path dir;

    public JournalStore(Path dir) {
        this.dir = dir;
    }

    public Path dir() {
        return dir;
    }

    /** A move's record on disk, advanced as its steps are done. */
    public final class Entry {
        private final Path file;
        private JournalRecord record;

        private Entry(Path file, JournalRecord record) {
            this.file = file;
            this.record = record;
        }

        void done(Step step) throws IOException {
            record = record.withDone(step);
            AtomicFiles.replace(file, record.encode(), AtomicFiles.Durability.IN_KERNEL);
        }

        void complete() throws IOException {
            record = record.completed();
            AtomicFiles.replace(file, record.encode(), AtomicFiles.Durability.IN_KERNEL);
        }

        void remove() throws IOException {
            AtomicFiles.delete(file, AtomicFiles.Durability.IN_KERNEL);
        }

        public Path file() {
            return file;
        }
    }

    /** Records the plan and the prior state of its devices before anything is written. */
    Entry begin(Plan plan) throws IOException {
        Files.createDirectories(dir);
        Path file = dir.resolve(fileName(plan.groupKey()));
        JournalRecord record = new JournalRecord(plan, List.of(), false);
        AtomicFiles.replace(file, record.encode(), AtomicFiles.Durability.SYNCED);
        return new Entry(file, record);
    }

    /** An entry for a record read back at start, so the reconcile can remove it when it is done. */
    Entry resume(Path file, JournalRecord record) {
        return new Entry(file, record);
    }

    /** What a journal file left behind holds. */
    public sealed interface Leftover {
        Path file();

        record Readable(Path file, JournalRecord record) implements Leftover {
        }

        record Unreadable(Path file, String why) implements Leftover {
        }
    }

    /** The journals a stopped or killed vfiod left behind, oldest first. */
    public List<Leftover> leftovers() throws IOException {
        List<Leftover> out = new ArrayList<>();
        if (!Files.isDirectory(dir)) return out;
        List<Path> files = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, "*" + SUFFIX)) {
            for (Path f : ds) if (Files.isRegularFile(f)) files.add(f);
        }
        // a kill between an atomic write's temporary file and its rename leaves the temporary file: never a record
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, ".*" + SUFFIX + "*.tmp")) {
            for (Path f : ds) Files.deleteIfExists(f);
        }
        files.sort(java.util.Comparator.comparing(f -> f.getFileName().toString()));
        for (Path f : files) {
            try {
                out.add(new Leftover.Readable(f, JournalRecord.decode(Files.readString(f, StandardCharsets.UTF_8))));
            } catch (JournalRecord.Unreadable e) {
                out.add(new Leftover.Unreadable(f, e.getMessage()));
            } catch (IOException e) {
                out.add(new Leftover.Unreadable(f, e.toString()));
            }
        }
        return out;
    }

    /** Renames an unreadable journal out of the way, keeping it for a person to look at. */
    public Path setAside(Path file) throws IOException {
        Path aside = file.resolveSibling(file.getFileName() + ".unreadable-" + System.currentTimeMillis());
        Files.move(file, aside);
        return aside;
    }

    /**
     * The file of a gate's key, one file per key and one key per file, so that two moves in flight never share a
     * journal. {@code IOMMU group 12} is {@code group-12.journal}, as vfiod always named it; {@code device pci
     * 0000:00:03.0} (a device without a group) is {@code device-pci-0000_3a00_3a03_2e0.journal}: the bus and the
     * name each escaped as systemd escapes labels (every character outside {@code [A-Za-z0-9]} as {@code _} and its
     * hex digits), joined by a {@code -}, which no escaped text holds; any other key is {@code key-} and the whole
     * key escaped. The earlier {@code device-0000_00_03.0.journal} put {@code a.b} and {@code a_b}, and one name on
     * two buses, in one file. Files of that form are still read: the reconcile takes every {@code *.journal} and
     * reads the group from the record, never from the file's name.
     */
    static String fileName(String groupKey) {
        if (groupKey.startsWith(GROUP) && isDigits(groupKey.substring(GROUP.length()))) {
            return "group-" + groupKey.substring(GROUP.length()) + SUFFIX;
        }
        String[] w = groupKey.split(" ", -1);
        if (w.length == 3 && w[0].equals("device") && !w[1].isEmpty() && !w[2].isEmpty()) {
            return "device-" + escaped(w[1]) + "-" + escaped(w[2]) + SUFFIX;
        }
        return "key-" + escaped(groupKey) + SUFFIX;
    }

    private static final String GROUP = "IOMMU group ";

    private static boolean isDigits(String s) {
        if (s.isEmpty() || s.length() > 9) return false;
        for (int i = 0; i < s.length(); i++) if (s.charAt(i) < '0' || s.charAt(i) > '9') return false;
        return true;
    }

    /** Every character outside {@code [A-Za-z0-9]} as {@code _} and two hex digits ({@code _u} and four beyond ASCII). */
    private static String escaped(String s) {
        StringBuilder b = new StringBuilder(3 * s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) b.append(c);
            else if (c < 0x80) b.append(String.format("_%02x", (int) c));
            else b.append(String.format("_u%04x", (int) c));
        }
        return b.toString();
    }
}
