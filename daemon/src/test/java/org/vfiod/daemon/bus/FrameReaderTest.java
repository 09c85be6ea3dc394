package org.vfiod.daemon.bus;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.ReadableByteChannel;
import java.util.HashMap;
import java.util.Map;
import org.freedesktop.dbus.messages.Message;
import org.freedesktop.dbus.messages.MessageFactory;
import org.freedesktop.dbus.messages.MethodCall;
import org.freedesktop.dbus.messages.constants.Endian;
import org.freedesktop.dbus.types.Variant;
import org.junit.jupiter.api.Test;

/** The bus reader's limits, on marshalled messages fed through a channel: no bus needed. */
class FrameReaderTest {
    private static final MessageFactory FACTORY = new MessageFactory(Endian.LITTLE);

    private static byte[] wire(Message m) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] piece : m.getWireData()) if (piece != null) out.writeBytes(piece);
        return out.toByteArray();
    }

    private static MethodCall rebind(int options) throws Exception {
        Map<String, Variant<?>> map = new HashMap<>();
        for (int i = 0; i < options; i++) map.put("option-" + i, new Variant<>(true));
        MethodCall call = FACTORY.createMethodCall(":1.7", "org.vfiod", "/org/vfiod", "org.vfiod1.Manager", "Rebind", (byte) 0,
                "sa{sv}", "0000:03:00.0", map);
        return call;
    }

    /** A channel over bytes in memory, then {@code zeros} bytes that exist nowhere (a body claimed to be that long). */
    private static ReadableByteChannel channel(byte[] head, long zeros, byte[] tail) {
        return new ReadableByteChannel() {
            long pos;

            @Override
            public int read(ByteBuffer dst) {
                long total = head.length + zeros + tail.length;
                if (pos >= total) return -1;
                int n = 0;
                while (dst.hasRemaining() && pos < total) {
                    byte b = pos < head.length ? head[(int) pos] : pos < head.length + zeros ? 0 : tail[(int) (pos - head.length - zeros)];
                    dst.put(b);
                    pos++;
                    n++;
                }
                return n;
            }

            @Override
            public boolean isOpen() {
                return true;
            }

            @Override
            public void close() {
            }
        };
    }

    @Test
    void aMessageWithinTheLimitIsReadWhole() throws Exception {
        MethodCall sent = rebind(5);
        FrameReader.Frame f = new FrameReader(channel(wire(sent), 0, new byte[0])).read();
        MethodCall got = assertInstanceOf(MethodCall.class, assertInstanceOf(FrameReader.Whole.class, f).message());
        assertEquals("Rebind", got.getName());
        assertEquals("0000:03:00.0", got.getParameters()[0]);
        assertEquals(5, ((Map<?, ?>) got.getParameters()[1]).size());
    }

    @Test
    void aBodyOverTheLimitIsDroppedUnreadButItsCallerCanBeAnswered() throws Exception {
        MethodCall big = rebind(20_000);
        byte[] bigWire = wire(big);
        assertTrue(bigWire.length > FrameReader.MAX_BODY);
        byte[] next = wire(rebind(1));
        byte[] both = new byte[bigWire.length + next.length];
        System.arraycopy(bigWire, 0, both, 0, bigWire.length);
        System.arraycopy(next, 0, both, bigWire.length, next.length);
        FrameReader reader = new FrameReader(channel(both, 0, new byte[0]));

        FrameReader.BodyTooLarge refused = assertInstanceOf(FrameReader.BodyTooLarge.class, reader.read());
        MethodCall header = assertInstanceOf(MethodCall.class, refused.headerOnly());
        assertEquals(big.getSerial(), header.getSerial());
        assertEquals("Rebind", header.getName());
        assertEquals(":1.7", header.getSource(), "the sender, to address the error to");
        assertEquals(ByteBuffer.wrap(bigWire).order(ByteOrder.LITTLE_ENDIAN).getInt(4), refused.bodyLength());
        assertArrayEquals(new Object[0], header.getParameters(), "nothing of the body was kept");
        // and the next message is read from where the big one ended
        MethodCall after = assertInstanceOf(MethodCall.class, assertInstanceOf(FrameReader.Whole.class, reader.read()).message());
        assertEquals(1, ((Map<?, ?>) after.getParameters()[1]).size());
    }

    @Test
    void aHugeBodyCostsNoMemory() throws Exception {
        // a header that claims a body of 120 MiB, the bus's limit being 128 MiB; the body's bytes are made as read
        byte[] head = wire(rebind(1));
        int fieldsEnd = 16 + ((ByteBuffer.wrap(head).order(ByteOrder.LITTLE_ENDIAN).getInt(12) + 7) & ~7);
        byte[] header = java.util.Arrays.copyOf(head, fieldsEnd);
        long claimed = 120L << 20;
        ByteBuffer.wrap(header).order(ByteOrder.LITTLE_ENDIAN).putInt(4, (int) claimed);
        byte[] next = wire(rebind(2));
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long before = threads.getCurrentThreadAllocatedBytes();
        FrameReader reader = new FrameReader(channel(header, claimed, next));
        assertEquals(claimed, assertInstanceOf(FrameReader.BodyTooLarge.class, reader.read()).bodyLength());
        long allocated = threads.getCurrentThreadAllocatedBytes() - before;
        assertTrue(allocated < 1 << 20, "reading past a 120 MiB body allocated " + allocated + " bytes");
        assertInstanceOf(FrameReader.Whole.class, reader.read());
    }

    @Test
    void headerFieldsOverTheLimitAreSkippedAndTheStreamStaysInStep() throws Exception {
        byte[] fixed = new byte[16];
        ByteBuffer b = ByteBuffer.wrap(fixed).order(ByteOrder.LITTLE_ENDIAN);
        b.put(0, (byte) 'l').put(1, (byte) 1).put(3, (byte) 1).putInt(4, 100).putInt(8, 9).putInt(12, FrameReader.MAX_HEADER_FIELDS + 1);
        long rest = ((FrameReader.MAX_HEADER_FIELDS + 1 + 7) & ~7) + 100;
        FrameReader reader = new FrameReader(channel(fixed, rest, wire(rebind(1))));
        assertInstanceOf(FrameReader.Skipped.class, reader.read());
        assertInstanceOf(FrameReader.Whole.class, reader.read());
    }

    @Test
    void theEndOfTheStreamIsAnError() {
        FrameReader reader = new FrameReader(channel(new byte[3], 0, new byte[0]));
        org.junit.jupiter.api.Assertions.assertThrows(IOException.class, reader::read);
    }
}
