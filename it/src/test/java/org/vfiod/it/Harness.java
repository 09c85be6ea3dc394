package org.vfiod.it;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * What one test class shares: a folder /tmp/vfiod-it-*, a private system bus and polkitd on it. Each test gets its
 * own {@link Env} (simulated sysfs, vfiod processes) inside the folder.
 */
public final class Harness implements AutoCloseable {
    private final Path dir;
    private final PrivateSystemBus bus;
    private Polkitd polkitd;
    private final AtomicInteger tests = new AtomicInteger();
    private volatile boolean keep;

    private Harness(Path dir, PrivateSystemBus bus, Polkitd polkitd) {
        this.dir = dir;
        this.bus = bus;
        this.polkitd = polkitd;
    }

    public static Harness start() {
        Path dir = newDir(Path.of("/tmp"), "vfiod-it-");
        PrivateSystemBus bus = null;
        try {
            bus = PrivateSystemBus.start(dir, projectRoot().resolve("packaging/dbus/org.vfiod.conf"));
            Polkitd polkitd = Polkitd.start(bus, dir.resolve("polkitd.log"));
            return new Harness(dir, bus, polkitd);
        } catch (RuntimeException | Error e) {
            if (bus != null) bus.close();
            throw e;
        }
    }

    /** The project's root folder (where packaging/ is). */
    public static Path projectRoot() {
        String p = System.getProperty("vfiod.it.projectRoot");
        Path root = p != null ? Path.of(p) : Path.of("").toAbsolutePath().getParent();
        root = root.toAbsolutePath().normalize();
        if (!Files.isDirectory(root.resolve("packaging"))) {
            // run from the project root instead of it/
            Path here = Path.of("").toAbsolutePath();
            if (Files.isDirectory(here.resolve("packaging"))) return here;
        }
        return root;
    }

    /** A fresh folder that the test users may enter (they connect to the bus socket inside). */
    static Path newDir(Path parent, String prefix) {
        try {
            Path d = Files.createTempDirectory(parent, prefix);
            Files.setPosixFilePermissions(d, PosixFilePermissions.fromString("rwxr-xr-x"));
            return d;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    Path newTestDir(String name) {
        Path d = dir.resolve(String.format("%02d-%s", tests.incrementAndGet(), name.replaceAll("[^A-Za-z0-9_.-]", "_")));
        try {
            Files.createDirectories(d);
            Files.setPosixFilePermissions(d, PosixFilePermissions.fromString("rwxr-xr-x"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return d;
    }

    public Path dir() {
        return dir;
    }

    public PrivateSystemBus bus() {
        return bus;
    }

    public Polkitd polkitd() {
        return polkitd;
    }

    /** After a test stopped polkitd: the next test gets a running one again. */
    void ensurePolkitd() {
        if (!polkitd.running()) {
            polkitd.close();
            polkitd = Polkitd.start(bus, dir.resolve("polkitd-" + System.nanoTime() + ".log"));
        }
    }

    /** Keep the folder (logs, trees) after a failure. */
    void keep() {
        keep = true;
    }

    @Override
    public void close() {
        try {
            polkitd.close();
        } finally {
            bus.close();
            if (keep || System.getenv("VFIOD_IT_KEEP") != null) {
                System.err.println("vfiod-it: kept " + dir + " for inspection");
            } else {
                deleteTree(dir);
            }
        }
    }

    static void deleteTree(Path root) {
        if (!Files.exists(root)) return;
        try {
            Files.walkFileTree(root, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                    Files.delete(file);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
                    Files.delete(d);
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            System.err.println("vfiod-it: could not delete " + root + ": " + e);
        }
    }
}
