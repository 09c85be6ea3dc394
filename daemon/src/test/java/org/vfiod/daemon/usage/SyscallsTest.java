package org.vfiod.daemon.usage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.jna.Native;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The open flags this package passes to the C library, on the machine the tests run on and by architecture. */
class SyscallsTest {
    private static final int ENOTDIR = 20;

    @TempDir
    Path dir;

    @Test
    void oDirectoryOpensAFolderAndRefusesAFileHere() throws IOException {
        int fd = Syscalls.open(dir.toString(), Syscalls.O_RDONLY | Syscalls.O_DIRECTORY | Syscalls.O_CLOEXEC);
        assertTrue(fd >= 0, "open(folder, O_DIRECTORY) failed: errno " + Native.getLastError());
        Syscalls.close(fd);
        // with another architecture's value (O_DIRECT on arm64, for x86's), a plain file would open, or fail otherwise
        Path file = Files.createFile(dir.resolve("plain"));
        assertEquals(-1, Syscalls.open(file.toString(), Syscalls.O_RDONLY | Syscalls.O_DIRECTORY | Syscalls.O_CLOEXEC));
        assertEquals(ENOTDIR, Native.getLastError());
    }

    @Test
    void oDirectoryIsTheArchitecturesOwn() {
        // include/uapi/asm-generic/fcntl.h and arch/arm64/include/uapi/asm/fcntl.h
        assertEquals(0200000, Syscalls.oDirectory("amd64"));
        assertEquals(040000, Syscalls.oDirectory("aarch64"));
        assertEquals(0200000, Syscalls.oDirectory("riscv64"));
    }
}
