package org.vfiod.daemon;

import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.NativeLong;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Optional;

/**
 * sd_notify(3) by hand: one datagram to {@code $NOTIFY_SOCKET}. Java has no AF_UNIX datagrams (NIO's Unix-domain
 * channels are stream sockets), so socket(2) and sendto(2) are called through JNA, which vfiod already loads for
 * libudev. Not libsystemd's sd_notify: that would load and bind one more library at start for the same two system
 * calls. The udev package's LibC binding is its own (package-private), so this one is separate too.
 */
final class NotifySocket implements AutoCloseable {
    private static final int AF_UNIX = 1, SOCK_DGRAM = 2, SOCK_CLOEXEC = 0x80000, MSG_NOSIGNAL = 0x4000;
    /** {@code sizeof(struct sockaddr_un)}: the family, then 108 bytes of path. */
    private static final int SOCKADDR_UN = 110;

    private interface C extends Library {
        C INSTANCE = Native.load("c", C.class);

        int socket(int domain, int type, int protocol);

        NativeLong sendto(int fd, byte[] buffer, NativeLong length, int flags, byte[] address, int addressLength);

        int close(int fd);
    }

    private final int fd;
    private final byte[] address;
    private final int addressLength;

    private NotifySocket(int fd, byte[] address, int addressLength) {
        this.fd = fd;
        this.address = address;
        this.addressLength = addressLength;
    }

    /** The socket {@code env} names: a path, or an abstract name written with a leading {@code @}; none if unset or unusable. */
    static Optional<NotifySocket> from(Map<String, String> env) {
        String where = env.get("NOTIFY_SOCKET");
        if (where == null || where.isEmpty() || !(where.startsWith("/") || where.startsWith("@"))) return Optional.empty();
        byte[] path = where.getBytes(StandardCharsets.UTF_8);
        if (path.length > SOCKADDR_UN - 2 - 1) return Optional.empty();
        byte[] address = new byte[SOCKADDR_UN];
        ByteBuffer.wrap(address).order(ByteOrder.nativeOrder()).putShort(0, (short) AF_UNIX);
        System.arraycopy(path, 0, address, 2, path.length);
        boolean abstractName = path[0] == '@';
        if (abstractName) address[2] = 0;
        int fd = C.INSTANCE.socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0) return Optional.empty();
        // a path's length counts its terminating NUL; an abstract name's is exactly its bytes
        return Optional.of(new NotifySocket(fd, address, 2 + path.length + (abstractName ? 0 : 1)));
    }

    /** Sends {@code state} ("WATCHDOG=1"); false if the datagram could not be sent. */
    boolean send(String state) {
        byte[] b = state.getBytes(StandardCharsets.UTF_8);
        return C.INSTANCE.sendto(fd, b, new NativeLong(b.length), MSG_NOSIGNAL, address, addressLength).longValue() == b.length;
    }

    @Override
    public void close() {
        C.INSTANCE.close(fd);
    }
}
