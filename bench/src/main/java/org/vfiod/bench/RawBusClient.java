package org.vfiod.bench;

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
 * A minimal blocking D-Bus client over an AF_UNIX socket, for timing {@code Properties.Get} with as little client
 * overhead as possible: SASL EXTERNAL, Hello, then one pre-marshalled method call per round trip whose serial is
 * patched in place, and a reply read by its length alone. No threads, no proxies, no reflection. It understands
 * just enough of the wire format for that (either byte order in replies); it is not a general client.
 */
final class RawBusClient implements AutoCloseable {
    private static final byte METHOD_CALL = 1, METHOD_RETURN = 2, ERROR = 3;

    private final SocketChannel ch;
    private final ByteBuffer head = ByteBuffer.allocate(16);
    private ByteBuffer in = ByteBuffer.allocate(4096);
    private int serial = 1;

    /** A marshalled call; {@link #call} patches its serial. */
    static final class Call {
        private final ByteBuffer msg;

        private Call(byte[] bytes) {
            this.msg = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        }
    }

    RawBusClient(String address) throws IOException {
        String prefix = "unix:path=";
        if (!address.startsWith(prefix)) throw new IllegalArgumentException("only unix:path= addresses: " + address);
        String path = address.substring(prefix.length());
        int comma = path.indexOf(',');
        if (comma >= 0) path = path.substring(0, comma);
        ch = SocketChannel.open(StandardProtocolFamily.UNIX);
        ch.connect(UnixDomainSocketAddress.of(path));
        auth();
        call(method("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "Hello", null));
    }

    private void auth() throws IOException {
        String uid = "0";
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("Uid:")) uid = line.substring(4).trim().split("\\s+")[0];
        }
        StringBuilder hex = new StringBuilder();
        for (byte b : uid.getBytes(StandardCharsets.US_ASCII)) hex.append(String.format("%02x", b));
        writeFully(ByteBuffer.wrap(("\0AUTH EXTERNAL " + hex + "\r\n").getBytes(StandardCharsets.US_ASCII)));
        String reply = readLine();
        if (!reply.startsWith("OK ")) throw new IOException("bus refused EXTERNAL auth: " + reply);
        writeFully(ByteBuffer.wrap("BEGIN\r\n".getBytes(StandardCharsets.US_ASCII)));
    }

    private String readLine() throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        ByteBuffer one = ByteBuffer.allocate(1);
        while (true) {
            one.clear();
            if (ch.read(one) < 0) throw new IOException("bus closed during auth");
            byte b = one.get(0);
            if (b == '\n') break;
            if (b != '\r') line.write(b);
        }
        return line.toString(StandardCharsets.US_ASCII);
    }

    /** {@code org.freedesktop.DBus.Properties.Get(iface, property)} on {@code dest path}. */
    static Call propertiesGet(String dest, String path, String iface, String property) {
        return method(dest, path, "org.freedesktop.DBus.Properties", "Get", new String[] {iface, property});
    }

    private static Call method(String dest, String path, String iface, String member, String[] stringArgs) {
        Marshal body = new Marshal();
        if (stringArgs != null) for (String s : stringArgs) body.string(s);
        Marshal m = new Marshal();
        m.b('l').b(METHOD_CALL).b(0).b(1).u32(body.size()).u32(0 /* serial, patched */);
        int lenPos = m.size();
        m.u32(0);
        int start = m.size();
        m.field(1, 'o', path).field(2, 's', iface).field(3, 's', member).field(6, 's', dest);
        if (stringArgs != null) m.field(8, 'g', "s".repeat(stringArgs.length));
        int fieldsLen = m.size() - start;
        m.align(8);
        m.bytes(body.toByteArray());
        byte[] out = m.toByteArray();
        ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN).putInt(lenPos, fieldsLen);
        return new Call(out);
    }

    /** Sends the call and waits for its reply (signals in between are skipped); returns the reply's body. */
    ByteBuffer call(Call c) throws IOException {
        int s = serial++;
        c.msg.putInt(8, s);
        c.msg.clear();
        writeFully(c.msg);
        while (true) {
            head.clear();
            readFully(head);
            ByteOrder order = head.get(0) == 'B' ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN;
            head.order(order);
            byte type = head.get(1);
            int bodyLen = head.getInt(4);
            int fieldsLen = head.getInt(12);
            int rest = ((fieldsLen + 7) & ~7) + bodyLen;
            if (in.capacity() < rest) in = ByteBuffer.allocate(rest);
            in.clear().limit(rest);
            readFully(in);
            in.order(order);
            if (type == METHOD_RETURN || type == ERROR) {
                int replySerial = replySerial(in, fieldsLen, order);
                if (replySerial != s) continue;   // not ours (cannot happen with one call in flight)
                in.position((fieldsLen + 7) & ~7);
                if (type == ERROR) throw new IOException("D-Bus error reply: " + errorName(in, fieldsLen));
                return in.slice().order(order);
            }
            // a signal (NameAcquired after Hello) or a stray call: ignore
        }
    }

    /** Decodes a reply body that is one variant holding a string. */
    static String variantString(ByteBuffer body) {
        int sigLen = body.get(0) & 0xff;
        String sig = new String(body.array(), body.arrayOffset() + 1, sigLen, StandardCharsets.US_ASCII);
        if (!sig.equals("s")) return "<" + sig + ">";
        int p = (1 + sigLen + 1 + 3) & ~3;
        int len = body.getInt(p);
        return new String(body.array(), body.arrayOffset() + p + 4, len, StandardCharsets.UTF_8);
    }

    private static int replySerial(ByteBuffer fields, int fieldsLen, ByteOrder order) {
        int p = 0;
        while (p < fieldsLen) {
            p = (p + 7) & ~7;
            int code = fields.get(p) & 0xff;
            int sigLen = fields.get(p + 1) & 0xff;
            char sig = (char) fields.get(p + 2);
            p += 2 + sigLen + 1;
            switch (sig) {
                case 'u' -> {
                    p = (p + 3) & ~3;
                    int v = fields.getInt(p);
                    p += 4;
                    if (code == 5) return v;
                }
                case 's', 'o' -> {
                    p = (p + 3) & ~3;
                    p += 4 + fields.getInt(p) + 1;
                }
                case 'g' -> p += 1 + (fields.get(p) & 0xff) + 1;
                default -> {
                    return -1;
                }
            }
        }
        return -1;
    }

    private static String errorName(ByteBuffer fields, int fieldsLen) {
        int p = 0;
        while (p < fieldsLen) {
            p = (p + 7) & ~7;
            int code = fields.get(p) & 0xff;
            int sigLen = fields.get(p + 1) & 0xff;
            char sig = (char) fields.get(p + 2);
            p += 2 + sigLen + 1;
            if (sig == 'u') {
                p = ((p + 3) & ~3) + 4;
            } else if (sig == 's' || sig == 'o') {
                p = (p + 3) & ~3;
                int len = fields.getInt(p);
                if (code == 4) return new String(fields.array(), fields.arrayOffset() + p + 4, len, StandardCharsets.UTF_8);
                p += 4 + len + 1;
            } else if (sig == 'g') {
                p += 1 + (fields.get(p) & 0xff) + 1;
            } else {
                break;
            }
        }
        return "(unknown error)";
    }

    private void writeFully(ByteBuffer b) throws IOException {
        while (b.hasRemaining()) ch.write(b);
    }

    private void readFully(ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            if (ch.read(b) < 0) throw new IOException("bus closed the connection");
        }
    }

    @Override
    public void close() throws IOException {
        ch.close();
    }

    /** Little-endian marshalling of the few types a method call header and a string body need. */
    private static final class Marshal {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();

        int size() {
            return out.size();
        }

        byte[] toByteArray() {
            return out.toByteArray();
        }

        Marshal b(int v) {
            out.write(v);
            return this;
        }

        Marshal align(int n) {
            while (out.size() % n != 0) out.write(0);
            return this;
        }

        Marshal u32(int v) {
            align(4);
            out.write(v);
            out.write(v >>> 8);
            out.write(v >>> 16);
            out.write(v >>> 24);
            return this;
        }

        Marshal bytes(byte[] b) {
            out.writeBytes(b);
            return this;
        }

        Marshal string(String s) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            u32(b.length);
            out.writeBytes(b);
            out.write(0);
            return this;
        }

        Marshal signature(String s) {
            byte[] b = s.getBytes(StandardCharsets.US_ASCII);
            out.write(b.length);
            out.writeBytes(b);
            out.write(0);
            return this;
        }

        /** A header field: (byte code, variant of type o, s or g). */
        Marshal field(int code, char type, String value) {
            align(8);
            b(code);
            signature(String.valueOf(type));
            if (type == 'g') signature(value);
            else string(value);
            return this;
        }
    }
}
