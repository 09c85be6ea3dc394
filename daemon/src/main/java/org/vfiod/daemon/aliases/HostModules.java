package org.vfiod.daemon.aliases;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.TreeSet;

/**
 * The host modules whose aliases match a device, from modules.alias and modules.builtin.modinfo, as {@code lspci -k}
 * lists a device's "kernel modules": the drivers the kernel tries when it probes the device. Read from the files on
 * each call, not kept: it is asked only to explain a probe that bound nothing, and the index keeps the vfio_ aliases
 * alone so that a start stays short.
 */
public final class HostModules {
    private HostModules() {
    }

    /** The modules (names normalized, sorted) with a non-vfio alias that matches {@code modalias}. */
    public static List<String> matching(AliasSources sources, String modalias) throws IOException {
        TreeSet<String> out = new TreeSet<>();
        String name = AliasIndex.normalizeAlias(modalias);
        if (name == null || name.isEmpty()) return List.of();
        Path aliases = sources.modulesAlias();
        if (Files.exists(aliases)) {
            for (String line : Files.readAllLines(aliases, StandardCharsets.ISO_8859_1)) {
                // "alias PATTERN MODULE", as depmod writes it
                if (!line.startsWith("alias ")) continue;
                int space = line.indexOf(' ', 6);
                if (space > 6) add(out, line.substring(6, space), line.substring(space + 1).strip(), name);
            }
        }
        Path builtin = sources.builtinModinfo();
        if (Files.exists(builtin)) {
            for (String rec : new String(Files.readAllBytes(builtin), StandardCharsets.ISO_8859_1).split("\0")) {
                int dot = rec.indexOf('.');
                if (dot > 0 && rec.startsWith("alias=", dot + 1)) add(out, rec.substring(dot + 7), rec.substring(0, dot), name);
            }
        }
        return List.copyOf(out);
    }

    private static void add(TreeSet<String> out, String pattern, String module, String name) {
        String normalized = AliasIndex.normalizeAlias(pattern);
        // a vfio_ alias is an override-only entry the kernel never probes with
        if (normalized == null || normalized.startsWith(AliasIndex.VFIO_PREFIX)) return;
        // a modules.alias has some 25,000 lines: most differ from the name before their first wildcard, and a
        // dry run asks on every Restore preview
        int literal = 0;
        while (literal < normalized.length() && "*?[\\".indexOf(normalized.charAt(literal)) < 0) literal++;
        if (!name.regionMatches(0, normalized, 0, literal)) return;
        if (Fnmatch.compile(normalized).matches(name)) out.add(AliasIndex.normalizeModule(module));
    }
}
