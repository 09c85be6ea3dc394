package org.vfiod.it;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Sends org.vfiod one call that no command-line client can build, as whoever runs it (a test runs it through
 * setpriv, in a JVM of its own: the bus takes the caller's uid from the socket), and prints one line: {@code ok},
 * {@code error<TAB>NAME<TAB>MESSAGE}, {@code disconnected<TAB>WHY} when the bus closed the connection instead of
 * answering (what dbus-daemon does with a message that breaks the specification), or {@code noreply} after 20 s.
 * How long the call took, from the last byte sent to the reply, goes to stderr: {@code took N ms}.
 *
 * <p>{@code RawCall ADDRESS KIND N}, every KIND a Manager call on /org/vfiod:
 * <ul>
 * <li>{@code options N}: Rebind("0000:03:00.0", a{sv} of N entries "k0000001" → &lt;true&gt;, 24 bytes each);
 * <li>{@code address N}: Rebind(N times "a", {});
 * <li>{@code set N}: Properties.Set("org.vfiod1.Manager", "Version", &lt;a{sv} of N entries&gt;);
 * <li>{@code nested N}: Rebind("0000:03:00.0", {'group': v inside v ... N variants in all ... around true});
 * <li>{@code arrays N}: Rebind("0000:03:00.0", {'group': &lt;an empty array of signature N times "a", then "b"&gt;}).
 * </ul>
 * Only the JDK: it runs from the test classes alone.
 */
public final class RawCall {
    static final String NIC = "0000:03:00.0";

    private RawCall() {
    }

    public static void main(String[] args) throws IOException {
        String path = args[0].substring("unix:path=".length()).split(",")[0];
        String kind = args[1];
        int n = Integer.parseInt(args[2]);
        Thread watchdog = new Thread(() -> {
            try {
                Thread.sleep(20_000);
            } catch (InterruptedException e) {
                return;
            }
            System.out.println("noreply");
            System.out.flush();
            Runtime.getRuntime().halt(0);
        });
        watchdog.setDaemon(true);
        watchdog.start();
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(path));
            auth(ch);
            write(ch, call(1, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "Hello", "", new Wire()));
            Wire body = new Wire();
            String iface = "org.vfiod1.Manager", member = "Rebind", sig = "sa{sv}";
            switch (kind) {
                case "options" -> options(body.string(NIC), n);
                case "address" -> options(body.string("a".repeat(n)), 0);
                case "set" -> {
                    options(body.string("org.vfiod1.Manager").string("Version").signature("a{sv}"), n);
                    iface = "org.freedesktop.DBus.Properties";
                    member = "Set";
                    sig = "ssv";
                }
                case "nested" -> {
                    dictStart(body.string(NIC), "group");
                    for (int i = 1; i < n; i++) body.signature("v");
                    body.signature("b").u32(1);
                    body.dictEnd();
                }
                case "arrays" -> {
                    dictStart(body.string(NIC), "group");
                    body.signature("a".repeat(n) + "b").u32(0);
                    body.dictEnd();
                }
                default -> throw new IllegalArgumentException("unknown kind " + kind);
            }
            String answer;
            long sent = 0;
            try {
                write(ch, call(2, "org.vfiod", "/org/vfiod", iface, member, sig, body));
                sent = System.nanoTime();
                answer = reply(ch, 2);
            } catch (IOException e) {
                answer = "disconnected\t" + e.getMessage();
            }
            System.out.println(answer);
            if (sent != 0) System.err.println("took " + (System.nanoTime() - sent) / 1_000_000 + " ms");
        }
    }

    /** An a{sv} of {@code n} entries "k0000001" → <true>. */
    private static void options(Wire w, int n) {
        w.arrayStart();
        for (int i = 0; i < n; i++) w.align(8).string(String.format("k%07d", i)).signature("b").u32(1);
        w.arrayEnd();
    }

    /** Opens an a{sv} of one entry {@code key}, whose variant the caller writes, then calls {@link Wire#dictEnd}. */
    private static void dictStart(Wire w, String key) {
        w.arrayStart();
        w.align(8).string(key);
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

    /** The reply to {@code serial}: "ok" or "error\tNAME\tMESSAGE". */
    private static String reply(SocketChannel ch, int serial) throws IOException {
        while (true) {
            ByteBuffer fixed = read(ch, 16);
            int type = fixed.get(1);
            int bodyLength = fixed.getInt(4);
            int fieldsLength = fixed.getInt(12);
            int padded = (fieldsLength + 7) & ~7;
            ByteBuffer rest = read(ch, padded + bodyLength);
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
            if (replySerial == null || replySerial != serial) continue;
            if (type == 2) return "ok";
            String message = "";
            if (bodyLength >= 4) {
                int len = rest.getInt(padded);
                if (len >= 0 && len <= bodyLength - 4) message = new String(rest.array(), padded + 4, len, StandardCharsets.UTF_8);
            }
            return "error\t" + error + "\t" + message.replace('\t', ' ').replace('\n', ' ');
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
        private int arrayLengthAt, arrayStart;

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

        /** The length of an array of dict entries (8-aligned), filled in by {@link #arrayEnd}; one at a time. */
        Wire arrayStart() {
            align(4);
            arrayLengthAt = size();
            u32(0);
            align(8);
            arrayStart = size();
            return this;
        }

        Wire arrayEnd() {
            putU32(arrayLengthAt, size() - arrayStart);
            return this;
        }

        Wire dictEnd() {
            return arrayEnd();
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
