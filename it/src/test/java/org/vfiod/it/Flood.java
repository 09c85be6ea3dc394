package org.vfiod.it;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A {@link FloodClient} process running as a test user. The test users cannot read root's Maven repository (nor the
 * checkout, where it is in root's home), so the classpath is copied into the test's folder first
 * ({@link ReadableClasspath}).
 */
public final class Flood implements AutoCloseable {
    private final Proc process;
    private final Path stop;

    private Flood(Proc process, Path stop) {
        this.process = process;
        this.stop = stop;
    }

    /** Starts flooding and returns once the client's calls are going. */
    public static Flood start(Env env, User user, int threads, String... calls) {
        Path stop = env.dir().resolve("stop-flood");
        List<String> argv = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-XX:-UsePerfData", "-Xmx64m",
                "-cp", readableClasspath(env.dir().resolve("flood-classpath")), FloodClient.class.getName(),
                env.address(), stop.toString(), Integer.toString(threads)));
        argv.addAll(List.of(calls));
        Proc p = Cmd.start(user, argv);
        p.awaitLine(l -> l.equals("flooding"), Duration.ofSeconds(30), "the flood client's start");
        return new Flood(p, stop);
    }

    /** Stops every flood of the test (they share the stop file) and returns this one's outcomes: error name (or ok) to count. */
    public Map<String, Long> stop() {
        try {
            if (!Files.exists(stop)) Files.createFile(stop);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        process.awaitLine(l -> l.equals("done"), Duration.ofSeconds(60), "the flood client's counts");
        Map<String, Long> out = new TreeMap<>();
        for (String line : process.lines()) {
            if (line.startsWith("outcome ")) {
                String[] f = line.split(" ");
                out.put(f[1], Long.parseLong(f[2]));
            }
        }
        return out;
    }

    private static String readableClasspath(Path into) {
        return ReadableClasspath.copy(VfiodProcess.classpath(FloodClient.class.getName()), into);
    }

    @Override
    public void close() {
        process.stop(Duration.ofSeconds(2));
    }
}
