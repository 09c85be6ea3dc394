package org.vfiod.daemon.udev;

import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.NativeLong;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.IntByReference;

/**
 * The few C library calls the udev thread needs around libudev: waiting on the monitor's socket together with a
 * wake-up descriptor, which Java's own I/O cannot do with a descriptor it did not open.
 *
 * <p>Failures return -1 and leave errno for {@link Native#getLastError()}; no {@code LastErrorException}, so that
 * the expected EINTR and EAGAIN cost no exception. The constants are Linux's values for x86-64 and arm64 (the
 * asm-generic ones); other architectures (alpha, mips, sparc, parisc) differ and are not supported.
 */
interface LibC extends Library {
    LibC INSTANCE = Native.load("c", LibC.class);

    short POLLIN = 0x1;
    short POLLERR = 0x8;
    short POLLHUP = 0x10;
    short POLLNVAL = 0x20;

    /** {@code sizeof(struct pollfd)}: int fd, short events, short revents. */
    int POLLFD_SIZE = 8;

    int EFD_NONBLOCK = 0x800;
    int EFD_CLOEXEC = 0x80000;

    int EINTR = 4;
    int EAGAIN = 11;
    int ENOBUFS = 105;

    int SOL_SOCKET = 1;
    int SO_RCVBUF = 8;

    /** {@code nfds} is an {@code nfds_t} (unsigned long). */
    int poll(Pointer fds, NativeLong nfds, int timeoutMillis);

    int eventfd(int initialValue, int flags);

    NativeLong read(int fd, Pointer buffer, NativeLong count);

    NativeLong write(int fd, Pointer buffer, NativeLong count);

    int close(int fd);

    int getsockopt(int fd, int level, int name, Pointer value, IntByReference length);
}
