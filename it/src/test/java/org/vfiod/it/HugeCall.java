package org.vfiod.it;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Sends org.vfiod one call far bigger than any it needs, as whoever runs it (a test runs it through setpriv as an
 * unprivileged user, in a JVM of its own: the bus takes the caller's uid from the socket), and prints the reply's
 * error name, or "ok", and the milliseconds from the last byte sent to the reply. gdbus, busctl and dbus-send take
 * their arguments from the command line, where no argument may exceed 128 KiB: none can build such a call.
 *
 * <p>{@code HugeCall ADDRESS set ENTRIES}: Properties.Set(Manager, Version, <a{sv} of ENTRIES booleans>).
 * {@code HugeCall ADDRESS rebind ENTRIES}: Manager.Rebind("0000:03:00.0", a{sv} of ENTRIES booleans).
 * Only the JDK: it runs from the test classes alone.
 */
public final class HugeCall {
    private HugeCall() {
    }

    public static void main(String[] args) throws IOException {
        String path = args[0].substring("unix:path=".length()).split(",")[0];
        String kind = args[1];
        int entries = Integer.parseInt(args[2]);
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(path));
            auth(ch);
            write(ch, call(1, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "Hello", "", new Wire()));
            Wire body = new Wire();
            String sig;
            if (kind.equals("set")) {
                body.string("org.vfiod1.Manager").string("Version").signature("a{sv}");
                options(body, entries);
                sig = "ssv";
                write(ch, call(2, "org.vfiod", "/org/vfiod", "org.freedesktop.DBus.Properties", "Set", sig, body));
            } else {
                body.string("0000:03:00.0");
                options(body, entries);
                sig = "sa{sv}";
                write(ch, call(2, "org.vfiod", "/org/vfiod", "org.vfiod1.Manager", "Rebind", sig, body));
            }
            long sent = System.nanoTime();
            String answer = reply(ch, 2);
            System.out.println(answer + " " + (System.nanoTime() - sent) / 1_000_000 + " ms");
        }
    }

    /** An a{sv} of {@code n} entries "k0000001" → <true>, 24 bytes each. */
    private static void options(Wire w, int n) {
        w.align(4);
        int lengthAt = w.size();
        w.u32(0);
        w.align(8);
        int start = w.size();
        for (int i = 0; i < n; i++) {
            w.align(8).string(String.format("k%07d", i)).signature("b").u32(1);
        }
        w.putU32(lengthAt, w.size() - start);
    }

    private static byte[] call(int serial, String dest, String path, String iface, String member, String sig, Wire body) {
        Wire m = new Wire();
        m.b('l').b(1).b(0).b(1).u32(body.size()).u32(serial);
        int fieldsAt = m.size();
        m.u32(0);
        int start = m.size();
        m.field(1, 'o', path).field(2, 's', iface).field(3, 's', member).field(6, 's', dest);
        if (!sig.isEmpty()) m.field(8, 'g', sig);
        m.putU32(fieldsAt, m.size() - start);
        m.align(8);
        m.out.write(body.out.toByteArray(), 0, body.size());
        return m.out.toByteArray();
    }

    /** The reply to {@code serial}: "ok" or the error's name. */
    private static String reply(SocketChannel ch, int serial) throws IOException {
        while (true) {
            ByteBuffer fixed = read(ch, 16);
            int type = fixed.get(1);
            int bodyLength = fixed.getInt(4);
            int fieldsLength = fixed.getInt(12);
            ByteBuffer rest = read(ch, ((fieldsLength + 7) & ~7) + bodyLength);
            if (type != 2 && type != 3) continue;
            Integer replySerial = null;
            String error = null;
            int p = 0;
            while (p < fieldsLength) {
                p = (p + 7) & ~7;
                int code = rest.get(p);
                char t = (char) rest.get(p + 2);
                p += 4;
                if (t == 'u') {
                    p = (p + 3) & ~3;
                    if (code == 5) replySerial = rest.getInt(p);
                    p += 4;
                } else if (t == 'g') {
                    p += 1 + (rest.get(p) & 0xff) + 1;
                } else {
                    p = (p + 3) & ~3;
                    int len = rest.getInt(p);
                    if (code == 4) error = new String(rest.array(), p + 4, len, StandardCharsets.UTF_8);
                    p += 4 + len + 1;
                }
            }
            if (replySerial != null && replySerial == serial) return type == 2 ? "ok" : error;
        }
    }

    private static void auth(SocketChannel ch) throws IOException {
        String uid = "0";
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("Uid:")) uid = line.substring(4).trim().split("\\s+")[0];
        }
        StringBuilder hex = new StringBuilder();
        for (byte b : uid.getBytes(StandardCharsets.US_ASCII)) hex.append(String.format("%02x", b));
        write(ch, ("\0AUTH EXTERNAL " + hex + "\r\n").getBytes(StandardCharsets.US_ASCII));
        StringBuilder line = new StringBuilder();
        ByteBuffer one = ByteBuffer.allocate(1);
        while (true) {
            one.clear();
            if (ch.read(one) < 0) throw new IOException("the bus closed during auth");
            if (one.get(0) == '\n') break;
            line.append((char) one.get(0));
        }
        if (!line.toString().startsWith("OK ")) throw new IOException("the bus refused EXTERNAL: " + line);
        write(ch, "BEGIN\r\n".getBytes(StandardCharsets.US_ASCII));
    }

    private static void write(SocketChannel ch, byte[] bytes) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(bytes);
        while (b.hasRemaining()) ch.write(b);
    }

    private static ByteBuffer read(SocketChannel ch, int n) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(n).order(ByteOrder.LITTLE_ENDIAN);
        while (b.hasRemaining()) {
            if (ch.read(b) < 0) throw new IOException("the bus closed the connection");
        }
        return b.flip();
    }

    /** Little-endian marshalling of what a header and these bodies need. */
    private static final class Wire {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();

        int size() {
            return out.size();
        }

        Wire b(int v) {
            out.write(v);
            return this;
        }

        Wire align(int n) {
            while (out.size() % n != 0) out.write(0);
            return this;
        }

        Wire u32(int v) {
            align(4);
            for (int i = 0; i < 4; i++) out.write(v >>> (8 * i));
            return this;
        }

        void putU32(int at, int v) {
            byte[] now = out.toByteArray();
            ByteBuffer.wrap(now).order(ByteOrder.LITTLE_ENDIAN).putInt(at, v);
            out.reset();
            out.write(now, 0, now.length);
        }

        Wire string(String s) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            u32(b.length);
            out.write(b, 0, b.length);
            out.write(0);
            return this;
        }

        Wire signature(String s) {
            byte[] b = s.getBytes(StandardCharsets.US_ASCII);
            out.write(b.length);
            out.write(b, 0, b.length);
            out.write(0);
            return this;
        }

        Wire field(int code, char type, String value) {
            align(8);
            b(code);
            signature(String.valueOf(type));
            return type == 'g' ? signature(value) : string(value);
        }
    }
}
