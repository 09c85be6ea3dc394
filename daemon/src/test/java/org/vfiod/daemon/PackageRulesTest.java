package org.vfiod.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * What each of the daemon's packages may use of the others, as the README's architecture section lists it: the
 * packages form no cycle, the model knows nothing of the bus, and the bus nothing of polkit or the operations.
 * Only the root package (Daemon) wires them all together.
 */
class PackageRulesTest {
    private static final Map<String, Set<String>> MAY_USE = Map.ofEntries(
            Map.entry("sysfs", Set.of()),
            Map.entry("aliases", Set.of()),
            Map.entry("udev", Set.of("aliases")),
            Map.entry("binding", Set.of("sysfs", "aliases", "files")),
            Map.entry("files", Set.of()),
            Map.entry("state", Set.of("sysfs", "aliases", "binding", "files")),
            Map.entry("model", Set.of("sysfs", "aliases", "udev")),
            Map.entry("bus", Set.of("model", "sysfs", "aliases")),
            Map.entry("auth", Set.of("bus")),
            Map.entry("operations", Set.of("bus", "auth", "model", "state", "binding", "sysfs", "aliases")),
            Map.entry("usage", Set.of("sysfs", "udev")));
    private static final Pattern USE = Pattern.compile("\\borg\\.vfiod\\.daemon\\.([a-z]+)\\.");
    private static final Path SOURCES = Path.of("src", "main", "java", "org", "vfiod", "daemon");

    @Test
    void eachPackageUsesOnlyWhatItMay() throws IOException {
        Map<String, Set<String>> found = new TreeMap<>();
        try (Stream<Path> dirs = Files.list(SOURCES)) {
            for (Path dir : dirs.filter(Files::isDirectory).toList()) {
                String pkg = dir.getFileName().toString();
                assertTrue(MAY_USE.containsKey(pkg), "a new package, " + pkg + ": say in MAY_USE and the README what it may use");
                Set<String> used = new TreeSet<>();
                try (Stream<Path> files = Files.walk(dir)) {
                    for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
                        Matcher m = USE.matcher(Files.readString(f));
                        while (m.find()) if (!m.group(1).equals(pkg)) used.add(m.group(1));
                    }
                }
                used.removeAll(MAY_USE.get(pkg));
                if (!used.isEmpty()) found.put(pkg, used);
            }
        }
        assertEquals(Map.of(), found, "packages that use what they may not");
    }
}
