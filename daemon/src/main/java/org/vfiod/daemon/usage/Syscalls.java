package org.vfiod.daemon.usage;

import com.sun.jna.Native;

/**
 * The C library calls of this package, direct-mapped: JNA's interface mapping costs about a microsecond of
 * reflection a call, and one check of {@code /proc} makes one call per open descriptor of every process.
 *
 * <p>Pointers are passed as {@code long} addresses ({@code Pointer.nativeValue}), which on LP64 (x86-64, arm64) the
 * C calling convention passes exactly like a pointer; this lets a scan point into the middle of a buffer (a name in
 * a getdents64 record) without allocating a {@code Pointer} per name. Failures return -1 and leave errno for
 * {@link Native#getLastError()}. The constants are Linux's, the same on x86-64 and arm64 except O_DIRECTORY (below).
 */
final class Syscalls {
    static {
        Native.register(Syscalls.class, "c");
    }

    static final int O_RDONLY = 0;
    static final int O_EXCL = 0x80;
    static final int O_DIRECTORY = oDirectory(System.getProperty("os.arch", ""));
    static final int O_CLOEXEC = 0x80000;

    static final int EPERM = 1;
    static final int ENOENT = 2;
    static final int EINTR = 4;
    static final int EACCES = 13;
    static final int EBUSY = 16;

    static final int AF_NETLINK = 16;
    static final int SOCK_RAW = 3;
    static final int SOCK_CLOEXEC = 0x80000;
    static final int NETLINK_ROUTE = 0;

    private Syscalls() {
    }

    /**
     * O_DIRECTORY is one of the few open flags an architecture picks: asm-generic's 0200000 (x86-64, s390x, riscv64,
     * loongarch64), but 040000 on arm, arm64 and powerpc, where 0200000 is O_DIRECT. With the x86 value, vfiod's
     * open of /proc on Debian's arm64 kernel asked for direct I/O and failed with EINVAL (e2e/scenario-platform.sh).
     */
    static int oDirectory(String osArch) {
        switch (osArch) {
            case "aarch64", "arm", "ppc64", "ppc64le", "ppc":
                return 040000;
            default:
                return 0200000;
        }
    }

    static native int open(String path, int flags);

    static native int openat(int dirfd, long path, int flags);

    static native int close(int fd);

    static native long getdents64(int fd, long buffer, long size);

    static native long readlinkat(int dirfd, long path, long buffer, long size);

    static native int socket(int domain, int type, int protocol);

    static native long sendto(int fd, long buffer, long length, int flags, long address, int addressLength);

    static native long recv(int fd, long buffer, long length, int flags);
}
