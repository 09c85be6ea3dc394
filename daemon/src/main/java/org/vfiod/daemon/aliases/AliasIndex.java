package org.vfiod.daemon.aliases;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * The {@code vfio_} aliases of the running kernel, held in memory so a lookup costs a few compiled glob
 * matches instead of a re-read of modules.alias. Immutable: a reload builds a new index.
 */
public final class AliasIndex {
    public static final String VFIO_PREFIX = "vfio_";

    private final List<VfioAlias> aliases;
    private final Fnmatch[] matchers;
    private final Set<String> builtinModules;
    private final Set<String> vfioModules;
    private final List<Problem> problems;
    private final int malformedLines;
    /** Where it was read from: {@link #hostModules} reads the other aliases there. */
    private final AliasSources sources;

    /** A line that was skipped, kept so an admin can find it. */
    public record Problem(Path file, int line, String reason) {
        @Override
        public String toString() {
            return file + ":" + line + ": " + reason;
        }
    }

    private AliasIndex(AliasSources sources, List<VfioAlias> aliases, Set<String> builtinModules, List<Problem> problems, int malformedLines) {
        this.sources = sources;
        this.aliases = List.copyOf(aliases);
        this.matchers = new Fnmatch[aliases.size()];
        Set<String> modules = new HashSet<>();
        for (int i = 0; i < aliases.size(); i++) {
            matchers[i] = Fnmatch.compile(aliases.get(i).pattern());
            modules.add(aliases.get(i).module());
        }
        this.builtinModules = Set.copyOf(builtinModules);
        this.vfioModules = Set.copyOf(modules);
        this.problems = List.copyOf(problems);
        this.malformedLines = malformedLines;
    }

    public static AliasIndex load(AliasSources sources) throws AliasSourceException {
        return load(sources, false);
    }

    /**
     * A load to replace an index in use (the watcher's, a Reload): also refuses a modules.alias that does not end in
     * a newline. depmod writes a whole new file and renames it over the old one, so a reader sees the old or the new;
     * a file written in place (a copy, an editor, a full disk) can be read half-way, and a line cut short can still
     * parse (an alias to module "mlx5_vf"). A torn index would move devices to the wrong driver; the previous one is
     * better. A start has no previous index and takes the file as it is.
     */
    public static AliasIndex reload(AliasSources sources) throws AliasSourceException {
        return load(sources, true);
    }

    private static AliasIndex load(AliasSources sources, boolean wholeLinesOnly) throws AliasSourceException {
        Loader loader = new Loader(wholeLinesOnly);
        for (Path conf : modprobeConfFiles(sources.modprobeDirs())) loader.readModprobeConf(conf);
        loader.readModulesAlias(sources.modulesAlias());
        loader.readBuiltinModinfo(sources.builtinModinfo());
        return new AliasIndex(sources, loader.aliases, loader.builtin, loader.problems, loader.malformed);
    }

    /** The best {@code vfio_} alias for a device's modalias (given without the prefix), if any matches. */
    public Optional<AliasMatch> resolve(String modalias) {
        String name = normalizeAlias(VFIO_PREFIX + modalias);
        if (name == null) return Optional.empty();
        int best = -1, bestStars = Integer.MAX_VALUE;
        List<String> tied = null;
        for (int i = 0; i < matchers.length; i++) {
            Fnmatch m = matchers[i];
            if (m.stars() > bestStars || !m.matches(name)) continue;
            if (m.stars() < bestStars) {
                best = i;
                bestStars = m.stars();
                tied = null;
            } else if (!aliases.get(i).module().equals(aliases.get(best).module())) {
                if (tied == null) tied = new ArrayList<>(2);
                if (!tied.contains(aliases.get(i).module())) tied.add(aliases.get(i).module());
            }
        }
        if (best < 0) return Optional.empty();
        VfioAlias a = aliases.get(best);
        return Optional.of(new AliasMatch(modalias, a.module(), isBuiltin(a.module()), a.pattern(), bestStars,
                a.source(), tied == null ? List.of() : tied));
    }

    /** The host modules whose aliases match the modalias (read from the same files now; see {@link HostModules}). */
    public List<String> hostModules(String modalias) throws IOException {
        return HostModules.matching(sources, modalias);
    }

    /**
     * Whether one of this module's own {@code vfio_} aliases matches the modalias: a vfio variant driver knows only
     * the hardware its aliases name, while the catch-all vfio_pci's match every device.
     */
    public boolean drives(String moduleOrDriver, String modalias) {
        String name = normalizeAlias(VFIO_PREFIX + modalias);
        if (name == null) return false;
        String module = normalizeModule(moduleOrDriver);
        for (int i = 0; i < matchers.length; i++) {
            if (aliases.get(i).module().equals(module) && matchers[i].matches(name)) return true;
        }
        return false;
    }

    public List<VfioAlias> aliases() {
        return aliases;
    }

    public int size() {
        return aliases.size();
    }

    /** Whether some {@code vfio_} alias names this module: the test for "is this a VFIO driver". */
    public boolean isVfioModule(String moduleOrDriver) {
        return vfioModules.contains(normalizeModule(moduleOrDriver));
    }

    public boolean isBuiltin(String module) {
        return builtinModules.contains(normalizeModule(module));
    }

    /** The bus names that have {@code vfio_} aliases, e.g. {@code pci}, {@code platform}. */
    public Set<String> buses() {
        Set<String> buses = new HashSet<>();
        for (VfioAlias a : aliases) {
            int colon = a.pattern().indexOf(':');
            if (colon > VFIO_PREFIX.length()) buses.add(a.pattern().substring(VFIO_PREFIX.length(), colon));
        }
        return buses;
    }

    public List<Problem> problems() {
        return problems;
    }

    public int malformedLines() {
        return malformedLines;
    }

    /** kmod's module-name rule: {@code -} and {@code _} are the same character. */
    public static String normalizeModule(String module) {
        return module.replace('-', '_');
    }

    /** kmod's alias_normalize: {@code -} becomes {@code _} outside brackets; null when brackets do not balance. */
    static String normalizeAlias(String alias) {
        if (alias.indexOf('-') < 0 && alias.indexOf(']') < 0) return alias;
        StringBuilder b = new StringBuilder(alias.length());
        for (int i = 0; i < alias.length(); i++) {
            char c = alias.charAt(i);
            if (c == '-') {
                b.append('_');
            } else if (c == ']') {
                return null;
            } else if (c == '[') {
                int close = alias.indexOf(']', i);
                if (close < 0) return null;
                b.append(alias, i, close + 1);
                i = close;
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }

    /** The *.conf files of the modprobe folders, a name in an earlier folder hiding the same name later, sorted by name. */
    static List<Path> modprobeConfFiles(List<Path> dirs) throws AliasSourceException {
        TreeMap<String, Path> byName = new TreeMap<>();
        for (Path dir : dirs) {
            if (!Files.isDirectory(dir)) continue;
            try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "*.conf")) {
                for (Path f : files) byName.putIfAbsent(f.getFileName().toString(), f);
            } catch (IOException e) {
                throw new AliasSourceException(dir, e);
            }
        }
        return List.copyOf(byName.values());
    }

    private static final class Loader {
        final List<VfioAlias> aliases = new ArrayList<>();
        final Set<String> builtin = new HashSet<>();
        final List<Problem> problems = new ArrayList<>();
        final boolean wholeLinesOnly;
        int malformed;

        Loader(boolean wholeLinesOnly) {
            this.wholeLinesOnly = wholeLinesOnly;
        }

        void problem(Path file, int line, String reason) {
            malformed++;
            if (problems.size() < 100) problems.add(new Problem(file, line, reason));
        }

        void readModprobeConf(Path file) throws AliasSourceException {
            String text = read(file);
            String[] lines = text.split("\n", -1);
            for (int i = 0; i < lines.length; i++) {
                int lineNo = i + 1;
                StringBuilder logical = new StringBuilder(lines[i]);
                // kmod joins a line ending in a backslash with the next one
                while (endsWithBackslash(logical) && i + 1 < lines.length) {
                    logical.setLength(logical.length() - 1);
                    logical.append(lines[++i]);
                }
                String line = logical.toString().strip();
                if (line.isEmpty() || line.charAt(0) == '#') continue;
                String[] tok = line.split("\\s+");
                switch (tok[0]) {
                    case "alias" -> {
                        if (tok.length != 3) problem(file, lineNo, "alias needs exactly a pattern and a module");
                        else add(tok[1], tok[2], AliasSource.MODPROBE_CONF, file, lineNo);
                    }
                    case "options", "install", "remove", "blacklist", "softdep", "weakdep", "include" -> { }
                    default -> problem(file, lineNo, "unknown command '" + abbreviate(tok[0]) + "'");
                }
            }
        }

        /**
         * modules.alias: tens of thousands of lines, a handful of them {@code vfio_}. It is read once at start, before
         * the JIT has compiled anything: {@link #skipPlain} passes over the lines that need nothing in one loop over
         * the bytes, which the JIT compiles (on-stack replacement) early in the file; only the lines it stops at, the
         * {@code vfio_} aliases and any malformed line, are looked at here. On the bytes (the file is ISO 8859-1
         * text), not a String copy.
         */
        void readModulesAlias(Path file) throws AliasSourceException {
            byte[] text = readWhole(file);
            // depmod's file starts with a comment line, so an empty one is a file just truncated for a write in place
            if (wholeLinesOnly && (text.length == 0 || text[text.length - 1] != '\n')) {
                throw new AliasSourceException(file, new IOException(text.length == 0
                        ? "it is empty: a file being written; the previous aliases stay"
                        : "it ends in the middle of a line (" + text.length + " bytes): a file still being written or cut short; "
                        + "the previous aliases stay"));
            }
            int n = text.length;
            int lineNo = 0, pos = skipPlain(text, 0, n);
            while (pos < n) {
                lineNo += skipped + 1;
                int end = lineEnd(text, pos, n);
                int p = patternStart(text, pos, end);
                pos = skipPlain(text, end + 1, n);
                if (p == BLANK_OR_COMMENT) continue;
                if (p == NOT_ALIAS) {
                    problem(file, lineNo, "not an alias line");
                    continue;
                }
                if (!isVfio(text, p, end)) {
                    if (countTokens(text, p, end) != 2) problem(file, lineNo, "alias needs exactly a pattern and a module");
                    continue;
                }
                String[] tok = new String(text, p, end - p, StandardCharsets.ISO_8859_1).strip().split("\\s+");
                if (tok.length != 2) problem(file, lineNo, "alias needs exactly a pattern and a module");
                else add(tok[0], tok[1], AliasSource.MODULES_ALIAS, file, lineNo);
            }
        }

        /** Lines {@link #skipPlain} passed over in its last call. */
        private int skipped;

        /**
         * The start of the first line from {@code pos} on that needs a look: a {@code vfio_} alias or a malformed
         * line; past {@code n} if none. Blank lines, comments and well-formed other aliases ({@code alias}, blanks, two
         * tokens) are passed over and counted in {@link #skipped}. One method with its loops written out, not calls
         * per line: its backward branches are what gets it compiled while it runs.
         */
        private int skipPlain(byte[] t, int pos, int n) {
            int lines = 0;
            while (pos < n) {
                int i = pos;
                byte c = 0;
                while (i < n && ((c = t[i]) == ' ' || c == '\t' || c == '\r')) i++;
                if (i < n && c == '#') {
                    while (i < n && t[i] != '\n') i++;
                } else if (i < n && c != '\n') {
                    if (i + 5 >= n || c != 'a' || t[i + 1] != 'l' || t[i + 2] != 'i' || t[i + 3] != 'a' || t[i + 4] != 's'
                            || !((c = t[i + 5]) == ' ' || c == '\t' || c == '\r')) {
                        break;
                    }
                    i += 6;
                    while (i < n && ((c = t[i]) == ' ' || c == '\t' || c == '\r')) i++;
                    if (i + 5 <= n && t[i] == 'v' && t[i + 1] == 'f' && t[i + 2] == 'i' && t[i + 3] == 'o'
                            && ((c = t[i + 4]) == '_' || c == '-')) {
                        break;
                    }
                    int tokens = 0;
                    boolean in = false;
                    while (i < n && (c = t[i]) != '\n') {
                        boolean blank = c == ' ' || c == '\t' || c == '\r';
                        if (!blank && !in) tokens++;
                        in = !blank;
                        i++;
                    }
                    if (tokens != 2) break;
                }
                lines++;
                pos = i + 1;
            }
            skipped = lines;
            return pos;
        }

        private static final int BLANK_OR_COMMENT = -1, NOT_ALIAS = -2;

        /** The end of the line that starts at {@code from}: its newline, or {@code n}. */
        private static int lineEnd(byte[] text, int from, int n) {
            for (int i = from; i < n; i++) {
                if (text[i] == '\n') return i;
            }
            return n;
        }

        /**
         * Where the pattern of an {@code alias} line starts (after {@code alias} and blanks); {@link #BLANK_OR_COMMENT},
         * or {@link #NOT_ALIAS} for a line that does not start with {@code alias} and a blank.
         */
        private static int patternStart(byte[] text, int from, int end) {
            int s = from;
            while (s < end && isBlank(text[s])) s++;
            if (s == end || text[s] == '#') return BLANK_OR_COMMENT;
            if (s + 5 >= end || text[s] != 'a' || text[s + 1] != 'l' || text[s + 2] != 'i' || text[s + 3] != 'a'
                    || text[s + 4] != 's' || !isBlank(text[s + 5])) {
                return NOT_ALIAS;
            }
            int p = s + 5;
            while (p < end && isBlank(text[p])) p++;
            return p;
        }

        /** {@code vfio_} or {@code vfio-} at {@code p}. */
        private static boolean isVfio(byte[] text, int p, int end) {
            return p + 5 <= end && text[p] == 'v' && text[p + 1] == 'f' && text[p + 2] == 'i' && text[p + 3] == 'o'
                    && (text[p + 4] == '_' || text[p + 4] == '-');
        }

        void readBuiltinModinfo(Path file) throws AliasSourceException {
            if (!Files.exists(file)) return; // kernels before 5.2 have none; nothing is built in that we can see
            String text = read(file);
            int record = 0, pos = 0, n = text.length();
            while (pos < n) {
                int end = text.indexOf('\0', pos);
                if (end < 0) end = n;
                record++;
                String rec = text.substring(pos, end);
                pos = end + 1;
                if (rec.isEmpty()) continue;
                int dot = rec.indexOf('.'), eq = rec.indexOf('=');
                if (dot <= 0 || eq < dot + 2) {
                    problem(file, record, "not a module.key=value record");
                    continue;
                }
                String module = normalizeModule(rec.substring(0, dot));
                builtin.add(module);
                if (rec.startsWith("alias=" + VFIO_PREFIX, dot + 1)) {
                    add(rec.substring(eq + 1), module, AliasSource.BUILTIN_MODINFO, file, record);
                }
            }
        }

        void add(String pattern, String module, AliasSource source, Path file, int line) {
            // kmod normalizes before it compares, so "vfio-pci:..." in modprobe.d is a vfio_ alias too
            String normalized = normalizeAlias(pattern);
            if (normalized == null) {
                if (pattern.startsWith(VFIO_PREFIX)) problem(file, line, "unbalanced brackets in alias pattern");
                return;
            }
            if (!normalized.startsWith(VFIO_PREFIX)) return;
            if (!module.matches("[A-Za-z0-9_-]+")) {
                problem(file, line, "module name '" + abbreviate(module) + "' is not valid");
                return;
            }
            aliases.add(new VfioAlias(normalized, normalizeModule(module), source, file, line, aliases.size()));
        }

        private static String read(Path file) throws AliasSourceException {
            try {
                return new String(Files.readAllBytes(file), StandardCharsets.ISO_8859_1);
            } catch (IOException e) {
                throw new AliasSourceException(file, e);
            }
        }

        /**
         * The file's bytes, checked to be one version of it: its identity (inode), size and time of change are the
         * same before and after the read, and the bytes are as many as its size. A rename over it while it is read
         * gives the old file whole, but the watcher then sees the rename and reads again; a write in place while it
         * is read changes the time or size, and is refused.
         */
        private static byte[] readWhole(Path file) throws AliasSourceException {
            try {
                java.nio.file.attribute.BasicFileAttributes before = Files.readAttributes(file, java.nio.file.attribute.BasicFileAttributes.class);
                byte[] bytes = Files.readAllBytes(file);
                java.nio.file.attribute.BasicFileAttributes after = Files.readAttributes(file, java.nio.file.attribute.BasicFileAttributes.class);
                if (!java.util.Objects.equals(before.fileKey(), after.fileKey()) || before.size() != after.size()
                        || !before.lastModifiedTime().equals(after.lastModifiedTime()) || bytes.length != after.size()) {
                    throw new IOException("it changed while it was read (" + bytes.length + " bytes read, " + after.size()
                            + " now); the previous aliases stay until it settles");
                }
                return bytes;
            } catch (AliasSourceException e) {
                throw e;
            } catch (IOException e) {
                throw new AliasSourceException(file, e);
            }
        }

        private static boolean endsWithBackslash(CharSequence s) {
            return s.length() > 0 && s.charAt(s.length() - 1) == '\\';
        }

        private static boolean isBlank(byte c) {
            return c == ' ' || c == '\t' || c == '\r';
        }

        private static int countTokens(byte[] s, int from, int to) {
            int count = 0;
            boolean in = false;
            for (int i = from; i < to; i++) {
                boolean blank = isBlank(s[i]);
                if (!blank && !in) count++;
                in = !blank;
            }
            return count;
        }

        private static String abbreviate(String s) {
            String clean = s.replaceAll("\\p{Cntrl}", "?");
            return clean.length() > 40 ? clean.substring(0, 40) + "..." : clean;
        }
    }
}
