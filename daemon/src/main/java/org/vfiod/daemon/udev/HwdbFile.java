package org.vfiod.daemon.udev;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
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
 * The udev hardware database read directly: {@code hwdb.bin} mapped into memory and searched the way sd-hwdb
 * searches it (systemd's {@code src/libsystemd/sd-hwdb/sd-hwdb.c}: the trie walk, glob children matched with
 * fnmatch, duplicate keys ordered by file priority and line). Why not libudev through JNA: loading JNA and binding
 * libudev costs some 350 ms of CPU, which start-up would spend before the name could be taken; the device monitor,
 * which needs libudev, starts after the name. {@code HwdbFileTest} holds every answer equal to libudev's.
 *
 * <p>The file is read-only and every read is absolute, so lookups from several threads need no lock.
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

    private final ByteBuffer data;
    private final Path file;
    private final int nodeSize, childSize, valueSize, root;
    private final Map<String, Names> cache = new ConcurrentHashMap<>();

    private HwdbFile(Path file, ByteBuffer data) throws IOException {
        this.file = file;
        this.data = data.order(ByteOrder.LITTLE_ENDIAN);
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
        try (FileChannel ch = FileChannel.open(file)) {
            if (ch.size() > Integer.MAX_VALUE) throw new IOException(file + " is too large for a hwdb");
            MappedByteBuffer map = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size());
            return new HwdbFile(file, map);
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
        Map<String, long[]> found = new LinkedHashMap<>();
        try {
            search(modalias, found);
        } catch (IndexOutOfBoundsException e) {
            LOG.warn("{} is damaged (an offset points outside it); no names for {}", file, modalias);
            return Map.of();
        }
        Map<String, String> out = new LinkedHashMap<>();
        found.forEach((k, v) -> out.put(k, string(v[0])));
        return out;
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
        data.get(start, b);
        return new String(b, StandardCharsets.UTF_8);
    }

    private static Optional<String> nonBlank(String s) {
        return s == null || s.isBlank() ? Optional.empty() : Optional.of(s.strip());
    }

    /** The mapping goes with the garbage collector; nothing to release by hand. */
    @Override
    public void close() {
        cache.clear();
    }
}
