package org.vfiod.it;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A suite's results for {@code scripts/security-report}: {@code it/target/security/<suite>.tsv}, one
 * {@code key<TAB>value} line each, in the order they were put. Written once the figures are measured, before the
 * test's assertions, so a failing run leaves its figures too.
 */
public final class Figures {
    private final String suite;
    private final Map<String, String> values = new LinkedHashMap<>();

    public Figures(String suite) {
        this.suite = suite;
    }

    public Figures put(String key, Object value) {
        values.put(key, String.valueOf(value));
        return this;
    }

    public static Path dir() {
        return Harness.projectRoot().resolve("it/target/security");
    }

    public Path write() {
        StringBuilder b = new StringBuilder();
        values.forEach((k, v) -> b.append(k).append('\t').append(v).append('\n'));
        Path file = dir().resolve(suite + ".tsv");
        try {
            Files.createDirectories(file.getParent());
            Files.writeString(file, b.toString(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        System.out.println("vfiod-it: " + file + ":\n" + b.toString().strip());
        return file;
    }

    /** The {@code p}-th percentile (0 to 100, nearest rank) of nanosecond durations, in milliseconds. */
    public static double percentileMs(long[] nanos, double p) {
        if (nanos.length == 0) return Double.NaN;
        long[] s = nanos.clone();
        Arrays.sort(s);
        int rank = (int) Math.ceil(p / 100.0 * s.length);
        return s[Math.max(0, Math.min(s.length - 1, rank - 1))] / 1e6;
    }

    /** Milliseconds with three decimals, as the .tsv files give them. */
    public static String ms(double ms) {
        return String.format(java.util.Locale.ROOT, "%.3f", ms);
    }
}
