package org.vfiod.bench;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.vfiod.daemon.aliases.AliasIndex;
import org.vfiod.daemon.aliases.AliasMatch;
import org.vfiod.daemon.aliases.AliasSourceException;
import org.vfiod.daemon.aliases.AliasSources;

/**
 * The alias index over the real modules.alias (26,223 lines) and modules.builtin.modinfo of Debian 12's
 * 6.1.0-56-amd64 kernel, against the naive way: re-read modules.alias and glob every line per lookup.
 *
 * <p>The files are the daemon's test resources ({@code daemon/src/test/resources/debian-6.1/*.gz}); they are found
 * through the system property {@code vfiod.aliases} (default {@code ../daemon/src/test/resources/debian-6.1},
 * resolved against the working folder), then {@code daemon/src/test/resources/debian-6.1}, then
 * {@code /work/main/daemon/src/test/resources/debian-6.1}, and unpacked into a temporary modules folder.
 * No modprobe.d folder is read, so the host's configuration does not change the figures.
 *
 * <p>Run with {@code bench/run-alias-bench.sh}, or
 * {@code java -jar bench/target/benchmarks.jar AliasIndexBenchmark -f 1 -wi 3 -w 1s -i 5 -r 1s}.
 */
@State(Scope.Benchmark)
public class AliasIndexBenchmark {
    public static final String PROPERTY = "vfiod.aliases";
    static final String RELATIVE = "daemon/src/test/resources/debian-6.1";

    /** e1000e (Intel 82574L): in the real file only the vfio_pci catch-all matches it. */
    static final String E1000E_MODALIAS = "pci:v00008086d000010D3sv00008086sd00000000bc02sc00i00";

    Path modulesDir;
    Path modulesAlias;
    AliasSources sources;
    AliasIndex index;
    String modalias;

    @Setup(Level.Trial)
    public void unpack() throws IOException {
        Path resources = findResources();
        modulesDir = Files.createTempDirectory("vfiod-alias-bench");
        modulesAlias = modulesDir.resolve("modules.alias");
        gunzip(resources.resolve("modules.alias.gz"), modulesAlias);
        gunzip(resources.resolve("modules.builtin.modinfo.gz"), modulesDir.resolve("modules.builtin.modinfo"));
        sources = AliasSources.forModulesDir(modulesDir, List.of());
        index = AliasIndex.load(sources);
        modalias = E1000E_MODALIAS;
        // both ways must agree, or the comparison means nothing
        String fast = index.resolve(modalias).map(AliasMatch::module).orElse(null);
        String naive = naiveResolve(modulesAlias, modalias);
        String libvirt = libvirtStyleResolve(modulesAlias, modalias);
        if (fast == null || !fast.equals(naive) || !fast.equals(libvirt)) {
            throw new IllegalStateException("index says " + fast + ", naive scan says " + naive + ", libvirt-style says " + libvirt);
        }
    }

    @TearDown(Level.Trial)
    public void cleanUp() throws IOException {
        if (modulesDir == null) return;
        try (Stream<Path> files = Files.walk(modulesDir)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }

    static Path findResources() {
        List<Path> candidates = new ArrayList<>();
        String property = System.getProperty(PROPERTY);
        if (property != null && !property.isBlank()) candidates.add(Path.of(property));
        candidates.add(Path.of("..", RELATIVE));
        candidates.add(Path.of(RELATIVE));
        candidates.add(Path.of("/work/main", RELATIVE));
        for (Path c : candidates) {
            Path abs = c.toAbsolutePath().normalize();
            if (Files.isRegularFile(abs.resolve("modules.alias.gz"))) return abs;
        }
        throw new IllegalStateException("cannot find modules.alias.gz; tried " + candidates
                + " (from " + Path.of("").toAbsolutePath() + "); set -D" + PROPERTY + "=DIR");
    }

    private static void gunzip(Path gz, Path target) throws IOException {
        try (InputStream in = new GZIPInputStream(Files.newInputStream(gz))) {
            Files.copy(in, target);
        }
    }

    // ---- the index ------------------------------------------------------------------------------------------

    /** (a) Build the index from the files: what the daemon pays at start and on every reload. */
    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.MILLISECONDS)
    public AliasIndex buildIndex() throws AliasSourceException {
        return AliasIndex.load(sources);
    }

    /** (b) One lookup in a built, warmed index. */
    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.NANOSECONDS)
    public AliasMatch resolve() {
        return index.resolve(modalias).orElseThrow();
    }

    // ---- baselines ------------------------------------------------------------------------------------------

    /** (c) The naive lookup: read modules.alias again, split every line, glob-match every alias pattern. */
    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.MICROSECONDS)
    public String naiveResolvePerLookup() {
        return naiveResolve(modulesAlias, modalias);
    }

    /**
     * (c') What libvirt does (virPCIDeviceFindBestVFIOVariant): read the whole file per lookup, but jump from
     * {@code "\nalias vfio_pci:"} to the next instead of looking at every line, then glob and count {@code *}.
     */
    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.MICROSECONDS)
    public String libvirtStyleResolvePerLookup() {
        return libvirtStyleResolve(modulesAlias, modalias);
    }

    /** (d) The floor under any build: only reading modules.alias into memory, nothing parsed. */
    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.MILLISECONDS)
    public byte[] readModulesAliasOnly() throws IOException {
        return Files.readAllBytes(modulesAlias);
    }

    static String naiveResolve(Path modulesAlias, String modalias) {
        String text = readAll(modulesAlias);
        String name = "vfio_" + modalias;
        String best = null;
        int bestStars = Integer.MAX_VALUE;
        for (String line : text.split("\n")) {
            String[] tok = line.strip().split("\\s+");
            if (tok.length != 3 || !tok[0].equals("alias")) continue;
            if (!glob(tok[1], name)) continue;
            int stars = stars(tok[1]);
            if (stars < bestStars) {
                best = tok[2];
                bestStars = stars;
            }
        }
        return best;
    }

    static String libvirtStyleResolve(Path modulesAlias, String modalias) {
        String text = readAll(modulesAlias);
        String marker = "\nalias vfio_pci:";
        String best = null;
        int bestStars = Integer.MAX_VALUE;
        for (int at = text.indexOf(marker); at >= 0; at = text.indexOf(marker, at + 1)) {
            int start = at + "\nalias ".length();
            int end = text.indexOf('\n', start);
            if (end < 0) end = text.length();
            String[] tok = text.substring(start, end).split(" ");
            if (tok.length < 2) continue;
            String pattern = tok[0].substring("vfio_pci:".length());
            if (!glob(pattern, modalias.substring(modalias.indexOf(':') + 1))) continue;
            int stars = stars(pattern);
            if (stars < bestStars) {
                best = tok[1];
                bestStars = stars;
            }
        }
        return best;
    }

    private static String readAll(Path file) {
        try {
            return new String(Files.readAllBytes(file), StandardCharsets.ISO_8859_1);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static int stars(String pattern) {
        int n = 0;
        for (int i = 0; i < pattern.length(); i++) if (pattern.charAt(i) == '*') n++;
        return n;
    }

    /** A plain {@code *}/{@code ?} glob, like GLib's g_pattern_match_simple: no precompilation, no sets. */
    static boolean glob(String pattern, String s) {
        int p = 0, i = 0, starP = -1, starI = -1;
        while (i < s.length()) {
            if (p < pattern.length() && pattern.charAt(p) == '*') {
                starP = ++p;
                starI = i;
            } else if (p < pattern.length() && (pattern.charAt(p) == '?' || pattern.charAt(p) == s.charAt(i))) {
                p++;
                i++;
            } else if (starP >= 0) {
                p = starP;
                i = ++starI;
            } else {
                return false;
            }
        }
        while (p < pattern.length() && pattern.charAt(p) == '*') p++;
        return p == pattern.length();
    }
}
