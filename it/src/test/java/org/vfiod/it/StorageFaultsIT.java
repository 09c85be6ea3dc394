package org.vfiod.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Issue 14: the runtime directory (the journal) or the rules folder full or read-only. Real conditions, not mocks:
 * a 64 KiB tmpfs mounted over the folder (the tests run as root), filled until the kernel says ENOSPC, or remounted
 * read-only (EROFS). A move that cannot be journaled, or a persist whose rule cannot be written, must fail before
 * any kernel write with an error that says what could not be written and why, and vfiod must keep answering and
 * work again once there is room.
 */
@ExtendWith(RealComponents.class)
class StorageFaultsIT {
    static final String NIC = "0000:03:00.0";

    @Test
    void aJournalFolderThatIsFullOrReadOnlyStopsTheMoveBeforeAnyWrite(Env env) throws Exception {
        Path journalRoot = env.runtimeDir();
        try (Tmpfs fs = Tmpfs.mount(journalRoot)) {
            loadVfioPci(env);
            fill(journalRoot.resolve("filler"));
            expectNothingWritten(env, () -> env.manager(User.ROOT, "Rebind", NIC, "{}"), "cannot write the journal", "No space left on device");
            expectNothingWritten(env, () -> env.manager(User.MEMBER, "Rebind", NIC, "{}"), "cannot write the journal", "No space left on device");
            assertEquals(List.of(), names(journalRoot.resolve("journal")), "a failed journal write leaves nothing behind");
            Files.delete(journalRoot.resolve("filler"));
            assertEquals("vfio-pci", Env.string(env.manager(User.ROOT, "Rebind", NIC, "{}").assertOk()));

            fs.remount("ro");
            expectNothingWritten(env, () -> env.manager(User.ROOT, "Restore", NIC, "{}"), "cannot write the journal", "Read-only file system");
            assertEquals("vfio-pci", env.driverOf(NIC));
            fs.remount("rw");
            assertEquals("e1000e", Env.string(env.manager(User.ROOT, "Restore", NIC, "{}").assertOk()));
            assertTrue(env.vfiod().alive(), env.vfiod()::log);
        }
    }

    @Test
    void aRulesFolderThatIsFullOrReadOnlyRefusesPersistBeforeAnyWrite(Env env) throws Exception {
        Path rules = env.dir().resolve("etc-vfiod/devices.d");
        Files.createDirectories(rules);
        try (Tmpfs fs = Tmpfs.mount(rules)) {
            loadVfioPci(env);
            fill(rules.resolve(".filler"));
            expectNothingWritten(env, () -> env.manager(User.ROOT, "Rebind", NIC, "{'persist': <true>}"), "cannot write the rule",
                    "No space left on device");
            assertEquals(List.of(".filler"), names(rules), "a failed rule write leaves nothing behind");
            fs.remount("ro");
            expectNothingWritten(env, () -> env.manager(User.ROOT, "Rebind", NIC, "{'persist': <true>}"), "cannot write the rule",
                    "Read-only file system");
            // without persist the move needs no rule
            assertEquals("vfio-pci", Env.string(env.manager(User.ROOT, "Rebind", NIC, "{}").assertOk()));
            fs.remount("rw");
            Files.delete(rules.resolve(".filler"));
            env.manager(User.ROOT, "Restore", NIC, "{}").assertOk();
            assertEquals("vfio-pci", Env.string(env.manager(User.ROOT, "Rebind", NIC, "{'persist': <true>}").assertOk()));
            assertEquals(1, names(rules).size(), names(rules).toString());
        }
    }

    /** The call failed with Failed naming what and why; no kernel write was made by it; vfiod answers. */
    private static void expectNothingWritten(Env env, java.util.function.Supplier<Reply> call, String what, String why) throws IOException {
        List<String> before = writes(env);
        SysfsSnapshot tree = env.snapshot();
        String msg = call.get().assertError(Env.FAILED, what, why, "nothing was changed");
        assertEquals(before, writes(env), "a kernel write was made: " + msg);
        tree.assertUnchanged(msg);
        // vfiod answers
        env.deviceProperty(NIC, "Driver");
        env.manager(User.OUTSIDER, "ListDevices").assertOk();
    }

    private static List<String> writes(Env env) throws IOException {
        Path log = env.sysfsRoot().resolve(".vfiod-sim/writes");
        return Files.exists(log) ? Files.readAllLines(log) : List.of();
    }

    /** vfiod loads modules and never unloads them: load vfio_pci first, so a snapshot compares the devices only. */
    private static void loadVfioPci(Env env) {
        env.vfiod();
        env.manager(User.ROOT, "Rebind", NIC, "{}").assertOk();
        env.manager(User.ROOT, "Restore", NIC, "{}").assertOk();
    }

    /** Writes to {@code file} until the file system refuses with ENOSPC. */
    private static void fill(Path file) throws IOException {
        byte[] block = new byte[4096];
        try (OutputStream out = Files.newOutputStream(file)) {
            for (int i = 0; i < 1024; i++) out.write(block);
            fail("a 64 KiB tmpfs took 4 MiB");
        } catch (IOException full) {
            assertTrue(String.valueOf(full.getMessage()).contains("No space left on device"), full.toString());
        }
    }

    private static List<String> names(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    /** A 64 KiB tmpfs over a folder, unmounted at the end. */
    record Tmpfs(Path where) implements AutoCloseable {
        static Tmpfs mount(Path where) throws IOException, InterruptedException {
            Files.createDirectories(where);
            run("mount", "-t", "tmpfs", "-o", "size=64k,mode=0755", "tmpfs", where.toString());
            return new Tmpfs(where);
        }

        void remount(String mode) throws IOException, InterruptedException {
            run("mount", "-o", "remount," + mode, where.toString());
        }

        @Override
        public void close() throws IOException, InterruptedException {
            run("umount", "-l", where.toString());
        }

        private static void run(String... argv) throws IOException, InterruptedException {
            Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes());
            if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) fail(String.join(" ", argv) + " failed: " + out);
        }
    }
}
