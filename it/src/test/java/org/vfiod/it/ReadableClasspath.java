package org.vfiod.it;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * A classpath the test users can read, for the JVMs the tests start as them. Neither root's Maven repository nor the
 * checkout is readable by them where it sits in root's home (mode 0700 on Debian), so every entry, jar or class
 * folder, is copied into a folder of the test's, which they can enter. Copied once per folder.
 */
final class ReadableClasspath {
    private static final String COMPLETE = ".complete";

    private ReadableClasspath() {
    }

    static synchronized String copy(String classpath, Path into) {
        List<String> out = new ArrayList<>();
        try {
            boolean copied = Files.isRegularFile(into.resolve(COMPLETE));
            Files.createDirectories(into);
            int i = 0;
            for (String entry : classpath.split(File.pathSeparator)) {
                Path from = Path.of(entry);
                // numbered: two entries may have the same name (classes/ of two modules)
                Path to = into.resolve(i++ + "-" + from.getFileName());
                if (!Files.exists(from)) continue;
                if (!copied) copyTree(from, to);
                out.add(to.toString());
            }
            if (!copied) Files.createFile(into.resolve(COMPLETE));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return String.join(File.pathSeparator, out);
    }

    private static void copyTree(Path from, Path to) throws IOException {
        if (!Files.isDirectory(from)) {
            Files.copy(from, to, StandardCopyOption.REPLACE_EXISTING);
            return;
        }
        try (Stream<Path> all = Files.walk(from)) {
            for (Path p : (Iterable<Path>) all::iterator) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(p, target, StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
    }
}
