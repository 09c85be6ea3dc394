package org.vfiod.it;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.File;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;

/**
 * vfiod as its own process: {@code java -cp <the test classpath> MAIN --bus-address ...}, with its log (stdout and
 * stderr) in a file of the test's folder. MAIN is {@link #SIMULATED_MAIN} over a simulated tree (the same daemon
 * and command line, with the simulated kernel), {@link #MAIN} over anything else.
 */
public final class VfiodProcess implements AutoCloseable {
    /** The daemon as installed: the real kernel. */
    public static final String MAIN = "org.vfiod.daemon.Main";
    /** The same daemon on the simulated kernel of a tree made by SimulatedSysfs (module vfiod-sim). */
    public static final String SIMULATED_MAIN = "org.vfiod.daemon.sim.SimulatedVfiod";
    public static final String READY = "vfiod ready on ";
    /** Generous: a JVM start is about a second, more on a busy two-core machine. */
    public static final Duration START_LIMIT = Duration.ofSeconds(30);

    private final Proc process;
    private final List<String> args;

    private VfiodProcess(Proc process, List<String> args) {
        this.process = process;
        this.args = args;
    }

    /**
     * Starts vfiod's {@code main} class with {@code args}; with {@code awaitReady} waits until it owns the name and
     * fails, with its log, if it exits or is not ready in time.
     */
    public static VfiodProcess start(String name, String main, List<String> args, Path logFile, boolean awaitReady) {
        return start(name, main, List.of(), Map.of(), args, logFile, awaitReady);
    }

    /**
     * Like {@link #start(String, String, List, Path, boolean)}, with JVM options after the defaults (so they win) and
     * environment variables (systemd's NOTIFY_SOCKET, say).
     */
    public static VfiodProcess start(String name, String main, List<String> jvmOptions, Map<String, String> env,
                                     List<String> args, Path logFile, boolean awaitReady) {
        List<String> argv = new ArrayList<>();
        argv.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        // small and quick to start: the daemon does little work in a test
        argv.addAll(List.of("-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xmx256m", "-Xshare:auto"));
        argv.addAll(jvmOptions);
        argv.addAll(List.of("-cp", classpath(main), main));
        argv.addAll(args);
        VfiodProcess v = new VfiodProcess(Proc.start(name, argv, env, logFile, true), List.copyOf(args));
        if (awaitReady) v.awaitReady();
        return v;
    }

    public void awaitReady() {
        process.awaitLine(l -> l.contains(READY), START_LIMIT, "'" + READY.strip() + "' line");
    }

    /** The test JVM's own classpath: it holds vfiod-daemon, vfiod-sim and everything they need. */
    static String classpath(String main) {
        // surefire/failsafe run the tests from a manifest-only jar; the real classpath is in this property
        String cp = System.getProperty("surefire.test.class.path");
        if (cp == null || cp.isBlank()) cp = System.getProperty("java.class.path");
        for (String needed : List.of(location(MAIN), location(main))) {
            boolean found = false;
            for (String e : cp.split(File.pathSeparator)) {
                if (Path.of(e).toAbsolutePath().normalize().toString().equals(needed)) found = true;
            }
            if (!found) cp = needed + File.pathSeparator + cp;
        }
        return cp;
    }

    private static String location(String className) {
        try {
            Class<?> main = Class.forName(className);
            return Path.of(main.getProtectionDomain().getCodeSource().getLocation().toURI()).toAbsolutePath().normalize().toString();
        } catch (ClassNotFoundException | URISyntaxException e) {
            throw new IllegalStateException(className + " is not on the test classpath", e);
        }
    }

    public long pid() {
        return process.pid();
    }

    public boolean alive() {
        return process.alive();
    }

    public String log() {
        return process.output();
    }

    /** Waits until vfiod has logged a line containing {@code text} (its log is read asynchronously). */
    public String awaitLog(String text, Duration limit) {
        return process.awaitLine(l -> l.contains(text), limit, "log line with '" + text + "'");
    }

    public List<String> args() {
        return args;
    }

    public Proc process() {
        return process;
    }

    /** SIGTERM. */
    public void terminate() {
        process.terminate();
    }

    public OptionalInt awaitExit(Duration limit) {
        return process.awaitExit(limit);
    }

    /** Asserts vfiod ends within {@code limit}; returns the exit code. */
    public int exitCode(Duration limit) {
        OptionalInt code = process.awaitExit(limit);
        if (code.isEmpty()) fail("vfiod (pid " + pid() + ") still runs after " + limit.toMillis() + " ms; log:\n" + log());
        return code.getAsInt();
    }

    @Override
    public void close() {
        // vfiod waits for an operation in flight on SIGTERM; the tests clear their faults first, but never wait long
        process.stop(Duration.ofSeconds(10));
    }
}
