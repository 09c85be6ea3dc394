package org.vfiod.daemon.usage;

import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * The host's IPv4 addresses from rtnetlink: one RTM_GETADDR dump on a NETLINK_ROUTE socket, as {@code ip -4 addr}
 * asks for them. Read-only; any user may make it.
 */
public final class NetlinkAddresses implements InterfaceAddresses {
    private static final int AF_INET = 2;
    private static final short RTM_NEWADDR = 20;
    private static final short RTM_GETADDR = 22;
    private static final short NLMSG_ERROR = 2;
    private static final short NLMSG_DONE = 3;
    private static final short NLM_F_REQUEST = 0x1;
    private static final short NLM_F_DUMP = 0x300;
    private static final int NLMSGHDR_SIZE = 16;
    private static final int IFADDRMSG_SIZE = 8;
    private static final int SOCKADDR_NL_SIZE = 12;
    private static final int IFA_ADDRESS = 1;
    private static final int IFA_LOCAL = 2;
    /** The size the kernel's netlink_dump aims at when the reader's buffer allows (32 KiB), with room to spare. */
    private static final int RECEIVE_SIZE = 64 * 1024;

    @Override
    public List<InterfaceAddress> ipv4() throws IOException {
        int fd = Syscalls.socket(Syscalls.AF_NETLINK, Syscalls.SOCK_RAW | Syscalls.SOCK_CLOEXEC, Syscalls.NETLINK_ROUTE);
        if (fd < 0) throw new IOException("cannot open a NETLINK_ROUTE socket: errno " + Native.getLastError());
        try (Memory request = new Memory(NLMSGHDR_SIZE + IFADDRMSG_SIZE); Memory kernel = new Memory(SOCKADDR_NL_SIZE);
             Memory reply = new Memory(RECEIVE_SIZE)) {
            int seq = (int) (System.nanoTime() & 0x7fffffff);
            request.clear();
            request.setInt(0, NLMSGHDR_SIZE + IFADDRMSG_SIZE);
            request.setShort(4, RTM_GETADDR);
            request.setShort(6, (short) (NLM_F_REQUEST | NLM_F_DUMP));
            request.setInt(8, seq);
            request.setByte(NLMSGHDR_SIZE, (byte) AF_INET);
            kernel.clear();
            kernel.setShort(0, (short) Syscalls.AF_NETLINK);
            long sent = Syscalls.sendto(fd, Pointer.nativeValue(request), request.size(), 0, Pointer.nativeValue(kernel), SOCKADDR_NL_SIZE);
            if (sent < 0) throw new IOException("cannot send RTM_GETADDR: errno " + Native.getLastError());
            ByteBuffer view = reply.getByteBuffer(0, RECEIVE_SIZE).order(ByteOrder.nativeOrder());
            List<InterfaceAddress> out = new ArrayList<>();
            while (true) {
                long n = Syscalls.recv(fd, Pointer.nativeValue(reply), RECEIVE_SIZE, 0);
                if (n < 0) {
                    int errno = Native.getLastError();
                    if (errno == Syscalls.EINTR) continue;
                    throw new IOException("cannot read the RTM_GETADDR dump: errno " + errno);
                }
                if (n == 0) throw new IOException("the RTM_GETADDR dump ended without NLMSG_DONE");
                if (parse(view, (int) n, seq, out)) return out;
            }
        } finally {
            Syscalls.close(fd);
        }
    }

    /** Adds the datagram's addresses; true at NLMSG_DONE. */
    static boolean parse(ByteBuffer buffer, int length, int seq, List<InterfaceAddress> out) throws IOException {
        int at = 0;
        while (at + NLMSGHDR_SIZE <= length) {
            int messageLength = buffer.getInt(at);
            short type = buffer.getShort(at + 4);
            if (messageLength < NLMSGHDR_SIZE || at + messageLength > length) throw new IOException("a torn netlink message");
            if (buffer.getInt(at + 8) == seq) {
                if (type == NLMSG_DONE) return true;
                if (type == NLMSG_ERROR) throw new IOException("RTM_GETADDR failed: errno " + -buffer.getInt(at + NLMSGHDR_SIZE));
                if (type == RTM_NEWADDR) address(buffer, at + NLMSGHDR_SIZE, at + messageLength, out);
            }
            at += align(messageLength);
        }
        return false;
    }

    private static void address(ByteBuffer buffer, int at, int end, List<InterfaceAddress> out) {
        // struct ifaddrmsg: family, prefixlen, flags, scope (u8 each), index (u32)
        if ((buffer.get(at) & 0xff) != AF_INET) return;
        int prefix = buffer.get(at + 1) & 0xff;
        int index = buffer.getInt(at + 4);
        byte[] local = null;
        byte[] address = null;
        for (int a = at + IFADDRMSG_SIZE; a + 4 <= end; ) {
            // struct rtattr: len (u16), type (u16), then the value
            int attributeLength = buffer.getShort(a) & 0xffff;
            int attributeType = buffer.getShort(a + 2) & 0xffff;
            if (attributeLength < 4 || a + attributeLength > end) break;
            if (attributeLength == 8 && (attributeType == IFA_LOCAL || attributeType == IFA_ADDRESS)) {
                byte[] value = new byte[4];
                buffer.get(a + 4, value);
                if (attributeType == IFA_LOCAL) local = value;
                else address = value;
            }
            a += align(attributeLength);
        }
        // IFA_LOCAL is the interface's own; IFA_ADDRESS is the peer's on a point-to-point link, and the same otherwise
        byte[] own = local != null ? local : address;
        if (own != null) {
            out.add(new InterfaceAddress(index, (own[0] & 0xff) + "." + (own[1] & 0xff) + "." + (own[2] & 0xff) + "." + (own[3] & 0xff), prefix));
        }
    }

    private static int align(int length) {
        return (length + 3) & ~3;
    }
}
