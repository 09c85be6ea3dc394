package org.vfiod.it;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * A process the tests started and must end: its output is read line by line (into memory and a log file) so a
 * test can wait for a line, and every process is ended when the test is over, or at the latest when the test JVM
 * exits. Every wait has a limit.
 */
public final class Proc implements AutoCloseable {
    /** Everything still running, for the shutdown hook: nothing outlives the test JVM. */
    private static final Set<Process> LIVE = ConcurrentHashMap.newKeySet();
    /** A small, fixed environment: nothing from the developer's session (DBUS_*, JOURNAL_STREAM, ...) leaks in. */
    static final Map<String, String> BASE_ENV = Map.of(
            "PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "LANG", "C.UTF-8");

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> LIVE.forEach(Process::destroyForcibly), "vfiod-it-reaper"));
    }

    private final String name;
    private final List<String> command;
    private final Process process;
    private final List<String> lines = new ArrayList<>();
    private final List<String> errLines = new ArrayList<>();
    private final Thread outPump;
    private final Thread errPump;
    private final Writer log;

    private Proc(String name, List<String> command, Process process, Path logFile, boolean mergeStderr) throws IOException {
        this.name = name;
        this.command = command;
        this.process = process;
        this.log = logFile == null ? null : Files.newBufferedWriter(logFile, StandardCharsets.UTF_8);
        LIVE.add(process);
        this.outPump = pump(process.getInputStream(), lines, name + "-out");
        this.errPump = mergeStderr ? null : pump(process.getErrorStream(), errLines, name + "-err");
    }

    /**
     * Starts {@code argv} (already wrapped for its user) with {@link #BASE_ENV} plus {@code env}, in {@code /}.
     * {@code logFile} (may be null) receives its output as it comes.
     */
    public static Proc start(String name, List<String> argv, Map<String, String> env, Path logFile, boolean mergeStderr) {
        ProcessBuilder pb = new ProcessBuilder(argv).directory(Path.of("/").toFile()).redirectErrorStream(mergeStderr);
        pb.environment().clear();
        pb.environment().putAll(BASE_ENV);
        pb.environment().putAll(env);
        pb.redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
        try {
            return new Proc(name, List.copyOf(argv), pb.start(), logFile, mergeStderr);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + String.join(" ", argv), e);
        }
    }

    private Thread pump(InputStream in, List<String> into, String threadName) {
        Thread t = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    synchronized (this) {
                        into.add(line);
                        if (log != null) {
                            log.write(line);
                            log.write('\n');
                            log.flush();
                        }
                        notifyAll();
                    }
                }
            } catch (IOException e) {
                // the process is gone
            }
        }, threadName);
        t.setDaemon(true);
        t.start();
        return t;
    }

    public String name() {
        return name;
    }

    public long pid() {
        return process.pid();
    }

    public boolean alive() {
        return process.isAlive();
    }

    /** Output so far (stdout, or stdout and stderr when merged). */
    public synchronized String output() {
        return String.join("\n", lines);
    }

    public synchronized String errors() {
        return String.join("\n", errLines);
    }

    public synchronized List<String> lines() {
        return List.copyOf(lines);
    }

    /** Waits for an output line matching {@code test}; fails (with the output) at the limit or if the process ends first. */
    public String awaitLine(Predicate<String> test, Duration limit, String what) {
        return awaitLine(test, limit, what, 0);
    }

    /** Like {@link #awaitLine(Predicate, Duration, String)} but only lines from index {@code from} on count. */
    public String awaitLine(Predicate<String> test, Duration limit, String what, int from) {
        Optional<String> line = findLine(test, limit, from);
        if (line.isPresent()) return line.get();
        fail(name + ": no " + what + " within " + limit.toMillis() + " ms" + (alive() ? "" : " (exited with "
                + process.exitValue() + ")") + "; output:\n" + output() + (errLines.isEmpty() ? "" : "\nstderr:\n" + errors()));
        return null;
    }

    /** The first line (from index {@code from}) matching {@code test}, waiting up to {@code limit}; empty if none came. */
    public Optional<String> findLine(Predicate<String> test, Duration limit, int from) {
        Instant until = Instant.now().plus(limit);
        synchronized (this) {
            int seen = from;
            while (true) {
                for (; seen < lines.size(); seen++) {
                    if (test.test(lines.get(seen))) return Optional.of(lines.get(seen));
                }
                long left = Duration.between(Instant.now(), until).toMillis();
                if (left <= 0) return Optional.empty();
                if (!process.isAlive() && !outPump.isAlive()) return Optional.empty();
                try {
                    wait(Math.min(left, 50));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return Optional.empty();
                }
            }
        }
    }

    public synchronized int lineCount() {
        return lines.size();
    }

    /** The exit code once the process has ended within {@code limit}; empty if it is still running. */
    public OptionalInt awaitExit(Duration limit) {
        try {
            if (!process.waitFor(limit.toMillis(), TimeUnit.MILLISECONDS)) return OptionalInt.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return OptionalInt.empty();
        }
        drainPumps();
        LIVE.remove(process);
        return OptionalInt.of(process.exitValue());
    }

    /** Asserts the process ends within {@code limit}; returns its exit code. */
    public int exitCode(Duration limit) {
        OptionalInt code = awaitExit(limit);
        if (code.isEmpty()) fail(name + " still runs after " + limit.toMillis() + " ms; output:\n" + output());
        return code.getAsInt();
    }

    /**
     * SIGTERM. Through the ProcessHandle: Process.destroy() also closes our end of the process's output, and what it
     * prints while it stops (vfiod logs its shutdown) would be lost.
     */
    public void terminate() {
        process.toHandle().destroy();
    }

    /** SIGKILL, and waits (bounded) until it is gone. */
    public void kill() {
        process.destroyForcibly();
        awaitExit(Duration.ofSeconds(10));
    }

    /** SIGTERM, then SIGKILL after {@code grace}. */
    public void stop(Duration grace) {
        if (process.isAlive()) {
            terminate();
            if (awaitExit(grace).isEmpty()) kill();
        }
        drainPumps();
        LIVE.remove(process);
        closeLog();
    }

    private void drainPumps() {
        try {
            outPump.join(2000);
            if (errPump != null) errPump.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private synchronized void closeLog() {
        if (log == null) return;
        try {
            log.close();
        } catch (IOException ignored) {
            // only a log
        }
    }

    @Override
    public void close() {
        stop(Duration.ofSeconds(5));
    }

    @Override
    public String toString() {
        return name + " (pid " + process.pid() + "): " + String.join(" ", command);
    }
}
