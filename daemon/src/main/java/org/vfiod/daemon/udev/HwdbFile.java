package org.vfiod.daemon.udev;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.vfiod.daemon.aliases.Fnmatch;

/**
 * The udev hardware database read directly: {@code hwdb.bin} read in pages and searched the way sd-hwdb
 * searches it (systemd's {@code src/libsystemd/sd-hwdb/sd-hwdb.c}: the trie walk, glob children matched with
 * fnmatch, duplicate keys ordered by file priority and line). Why not libudev through JNA: loading JNA and binding
 * libudev costs some 350 ms of CPU, which start-up would spend before the name could be taken; the device monitor,
 * which needs libudev, starts after the name. {@code HwdbFileTest} holds every answer equal to libudev's.
 *
 * <p>Not mapped: a lookup walks scattered trie nodes, and the pages a mapping touched stayed resident (some 2.7 MiB
 * of the daemon's RSS after naming 256 devices). Reads go through a small cache of pages ({@link Pages}, 128 KiB on
 * the heap); a lookup's result is cached by modalias. Lookups from several threads take turns on the page cache.
 */
public final class HwdbFile implements HardwareNames {
    private static final Logger LOG = LoggerFactory.getLogger(HwdbFile.class);
    private static final Names NONE = new Names(Optional.empty(), Optional.empty());
    /** Where sd-hwdb looks, in its order: the first that exists is used. */
    public static final List<Path> LOCATIONS = List.of(Path.of("/etc/systemd/hwdb/hwdb.bin"), Path.of("/etc/udev/hwdb.bin"),
            Path.of("/usr/lib/systemd/hwdb/hwdb.bin"), Path.of("/lib/systemd/hwdb/hwdb.bin"), Path.of("/usr/lib/udev/hwdb.bin"),
            Path.of("/lib/udev/hwdb.bin"));
    private static final byte[] SIGNATURE = "KSLPHHRH".getBytes(StandardCharsets.US_ASCII);
    private static final int CACHE_LIMIT = 4096;
    /** The v2 value entry: key, value, filename offsets, line number and file priority. */
    private static final int VALUE_ENTRY_V2 = 32;

    private final Pages data;
    private final Path file;
    private final int nodeSize, childSize, valueSize, root;
    private final Map<String, Names> cache = new ConcurrentHashMap<>();

    private HwdbFile(Path file, Pages data) throws IOException {
        this.file = file;
        this.data = data;
        if (data.capacity() < 80) throw new IOException(file + " is too short for a hwdb");
        for (int i = 0; i < SIGNATURE.length; i++) {
            if (data.get(i) != SIGNATURE[i]) throw new IOException(file + " is not a hwdb.bin (signature)");
        }
        long fileSize = data.getLong(16);
        nodeSize = (int) data.getLong(32);
        childSize = (int) data.getLong(40);
        valueSize = (int) data.getLong(48);
        long rootOffset = data.getLong(56);
        if (fileSize != data.capacity() || nodeSize < 24 || childSize < 16 || valueSize < 16
                || rootOffset <= 0 || rootOffset >= data.capacity()) {
            throw new IOException(file + " has an unexpected hwdb header");
        }
        root = (int) rootOffset;
    }

    /** The hwdb at the first of {@link #LOCATIONS} that exists; {@link HardwareNames#NONE} when there is none. */
    public static HardwareNames open() {
        for (Path p : LOCATIONS) {
            if (!Files.isRegularFile(p)) continue;
            try {
                return open(p);
            } catch (IOException e) {
                LOG.warn("cannot use {}: {}; devices will have no vendor or model names", p, e.getMessage());
                return HardwareNames.NONE;
            }
        }
        LOG.info("no udev hwdb.bin (is the udev package installed?); devices will have no vendor or model names");
        return HardwareNames.NONE;
    }

    public static HwdbFile open(Path file) throws IOException {
        FileChannel ch = FileChannel.open(file);
        try {
            if (ch.size() > Integer.MAX_VALUE) throw new IOException(file + " is too large for a hwdb");
            return new HwdbFile(file, new Pages(ch, (int) ch.size()));
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    public Path file() {
        return file;
    }

    @Override
    public Names lookup(String modalias) {
        if (modalias == null || modalias.isEmpty()) return NONE;
        Names cached = cache.get(modalias);
        if (cached != null) return cached;
        Map<String, String> p = properties(modalias);
        Names names = new Names(nonBlank(p.get("ID_VENDOR_FROM_DATABASE")), nonBlank(p.get("ID_MODEL_FROM_DATABASE")));
        if (cache.size() < CACHE_LIMIT) cache.put(modalias, names);
        return names;
    }

    /** Every property the hwdb has for {@code modalias}, as {@code udev_hwdb_get_properties_list_entry} gives them. */
    public Map<String, String> properties(String modalias) {
        synchronized (data) {
            Map<String, long[]> found = new LinkedHashMap<>();
            try {
                search(modalias, found);
                Map<String, String> out = new LinkedHashMap<>();
                for (Map.Entry<String, long[]> e : found.entrySet()) out.put(e.getKey(), string(e.getValue()[0]));
                return out;
            } catch (IndexOutOfBoundsException e) {
                LOG.warn("{} is damaged (an offset points outside it); no names for {}", file, modalias);
                return Map.of();
            } catch (UncheckedIOException e) {
                LOG.warn("cannot read {}: {}; no names for {}", file, e.getCause().toString(), modalias);
                return Map.of();
            }
        }
    }

    // ---- the trie, as sd-hwdb walks it ------------------------------------------------------------------------------

    private void search(String s, Map<String, long[]> found) {
        StringBuilder line = new StringBuilder();
        int node = root;
        int i = 0;
        while (node != 0) {
            long prefixOff = data.getLong(node);
            if (prefixOff != 0) {
                int p = 0;
                for (int at = (int) prefixOff; data.get(at) != 0; at++, p++) {
                    char c = (char) (data.get(at) & 0xff);
                    if (c == '*' || c == '?' || c == '[') {
                        fnmatch(node, p, line, s.substring(Math.min(i + p, s.length())), found);
                        return;
                    }
                    if (i + p >= s.length() || c != s.charAt(i + p)) return;
                }
                i += p;
            }
            for (char glob : new char[] {'*', '?', '['}) {
                int child = child(node, glob);
                if (child != 0) {
                    line.append(glob);
                    fnmatch(child, 0, line, s.substring(i), found);
                    line.setLength(line.length() - 1);
                }
            }
            if (i == s.length()) {
                addValues(node, found);
                return;
            }
            node = child(node, s.charAt(i));
            i++;
        }
    }

    private void fnmatch(int node, int p, StringBuilder line, String rest, Map<String, long[]> found) {
        int before = line.length();
        long prefixOff = data.getLong(node);
        if (prefixOff != 0) line.append(string(prefixOff + p));
        int children = data.get(node + 8) & 0xff;
        for (int k = 0; k < children; k++) {
            int entry = node + nodeSize + k * childSize;
            line.append((char) (data.get(entry) & 0xff));
            fnmatch((int) data.getLong(entry + 8), 0, line, rest, found);
            line.setLength(line.length() - 1);
        }
        if (data.getLong(node + 16) > 0 && Fnmatch.compile(line.toString()).matches(rest)) addValues(node, found);
        line.setLength(before);
    }

    /** The child for character {@code c}: the children are sorted by character. */
    private int child(int node, char c) {
        int lo = 0, hi = (data.get(node + 8) & 0xff) - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            int entry = node + nodeSize + mid * childSize;
            int mc = data.get(entry) & 0xff;
            if (mc == c) return (int) data.getLong(entry + 8);
            if (mc < c) lo = mid + 1;
            else hi = mid - 1;
        }
        return 0;
    }

    /** Adds the node's values; a key seen before keeps the value of the higher priority (file, then line). */
    private void addValues(int node, Map<String, long[]> found) {
        int children = data.get(node + 8) & 0xff;
        long count = data.getLong(node + 16);
        int first = node + nodeSize + children * childSize;
        for (int k = 0; k < count; k++) {
            int entry = first + k * valueSize;
            String key = string(data.getLong(entry));
            // properties start with a space; other prefixes are reserved for extensions, which sd-hwdb ignores
            if (key.isEmpty() || key.charAt(0) != ' ') continue;
            key = key.substring(1);
            long valueOff = data.getLong(entry + 8);
            long[] rank = valueSize >= VALUE_ENTRY_V2
                    ? new long[] {valueOff, data.getLong(entry + 16), data.getInt(entry + 24) & 0xffffffffL, data.getShort(entry + 28) & 0xffff}
                    : new long[] {valueOff, 0, 0, 0};
            long[] old = found.get(key);
            if (old != null && valueSize >= VALUE_ENTRY_V2 && lower(rank, old)) continue;
            found.put(key, rank);
        }
    }

    /** sd-hwdb's order of duplicates: by file priority and line (v3), or by file name offset and line (v2). */
    private static boolean lower(long[] e, long[] old) {
        long filenameOff = e[1], line = e[2], priority = e[3];
        if (priority == 0) return filenameOff < old[1] || (filenameOff == old[1] && line < old[2]);
        return priority < old[3] || (priority == old[3] && line < old[2]);
    }

    private String string(long offset) {
        int start = (int) offset;
        int end = start;
        while (data.get(end) != 0) end++;
        byte[] b = new byte[end - start];
        for (int k = 0; k < b.length; k++) b[k] = data.get(start + k);
        return new String(b, StandardCharsets.UTF_8);
    }

    private static Optional<String> nonBlank(String s) {
        return s == null || s.isBlank() ? Optional.empty() : Optional.of(s.strip());
    }

    @Override
    public void close() {
        cache.clear();
        try {
            data.channel.close();
        } catch (IOException ignored) {
            // read-only: nothing is lost
        }
    }

    /**
     * The file through a direct-mapped cache of 4 KiB pages, read with positional reads; little-endian numbers, and
     * an IndexOutOfBoundsException outside the file, as a ByteBuffer over it would throw. Callers hold its lock.
     */
    static final class Pages {
        private static final int SHIFT = 12, PAGE = 1 << SHIFT, SLOTS = 32;
        final FileChannel channel;
        private final int size;
        private final byte[][] pages = new byte[SLOTS][];
        private final int[] tags = new int[SLOTS];

        Pages(FileChannel channel, int size) {
            this.channel = channel;
            this.size = size;
            java.util.Arrays.fill(tags, -1);
        }

        int capacity() {
            return size;
        }

        byte get(int at) {
            if (at < 0 || at >= size) throw new IndexOutOfBoundsException(at);
            int page = at >>> SHIFT, slot = page & (SLOTS - 1);
            if (tags[slot] != page) load(slot, page);
            return pages[slot][at & (PAGE - 1)];
        }

        long getLong(int at) {
            return getInt(at) & 0xffffffffL | (long) getInt(at + 4) << 32;
        }

        int getInt(int at) {
            return get(at) & 0xff | (get(at + 1) & 0xff) << 8 | (get(at + 2) & 0xff) << 16 | (get(at + 3) & 0xff) << 24;
        }

        short getShort(int at) {
            return (short) (get(at) & 0xff | (get(at + 1) & 0xff) << 8);
        }

        private void load(int slot, int page) {
            byte[] b = pages[slot] == null ? new byte[PAGE] : pages[slot];
            ByteBuffer buf = ByteBuffer.wrap(b, 0, Math.min(PAGE, size - (page << SHIFT)));
            try {
                long pos = (long) page << SHIFT;
                while (buf.hasRemaining()) {
                    int n = channel.read(buf, pos + buf.position());
                    if (n < 0) throw new IOException("hwdb.bin ended early");
                }
            } catch (IOException e) {
                tags[slot] = -1;
                throw new UncheckedIOException(e);
            }
            pages[slot] = b;
            tags[slot] = page;
        }
    }
}
