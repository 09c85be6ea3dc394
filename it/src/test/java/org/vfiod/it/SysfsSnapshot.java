package org.vfiod.it;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.vfiod.daemon.sim.SimulatedKernel;

/**
 * Every folder, every file's bytes and every link's target of a simulated sysfs, without following links and
 * without the simulation's control folder ({@code .vfiod-sim}: catalog, faults, kernel log).
 */
public record SysfsSnapshot(Path root, Map<String, String> entries) {
    public static SysfsSnapshot of(Path root) {
        Map<String, String> out = new TreeMap<>();
        try {
            Files.walkFileTree(root, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) {
                    if (dir.equals(root.resolve(SimulatedKernel.CONTROL_DIR))) return FileVisitResult.SKIP_SUBTREE;
                    out.put(rel(dir), "dir");
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                    if (attrs.isSymbolicLink()) {
                        out.put(rel(file), "link -> " + Files.readSymbolicLink(file));
                    } else if (attrs.isRegularFile()) {
                        // ISO-8859-1 maps every byte to one char: a lossless, comparable copy of the content
                        out.put(rel(file), "file " + new String(Files.readAllBytes(file), StandardCharsets.ISO_8859_1));
                    } else {
                        out.put(rel(file), "other");
                    }
                    return FileVisitResult.CONTINUE;
                }

                private String rel(Path p) {
                    String r = root.relativize(p).toString();
                    return r.isEmpty() ? "." : r;
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return new SysfsSnapshot(root, Map.copyOf(out));
    }

    /** Asserts that the tree is now byte-for-byte what it was in this snapshot. */
    public void assertUnchanged(String after) {
        SysfsSnapshot now = of(root);
        if (now.entries.equals(entries)) return;
        Set<String> keys = new TreeSet<>(entries.keySet());
        keys.addAll(now.entries.keySet());
        StringBuilder diff = new StringBuilder();
        for (String k : keys) {
            String a = entries.get(k), b = now.entries.get(k);
            if (a == null) diff.append("\n  + ").append(k).append(": ").append(show(b));
            else if (b == null) diff.append("\n  - ").append(k).append(": ").append(show(a));
            else if (!a.equals(b)) diff.append("\n  ~ ").append(k).append(": ").append(show(a)).append(" => ").append(show(b));
        }
        fail("the simulated sysfs changed after " + after + ":" + diff);
    }

    private static String show(String v) {
        return v.replace("\n", "\\n");
    }
}
