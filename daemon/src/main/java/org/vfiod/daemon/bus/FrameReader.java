package org.vfiod.daemon.bus;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.ReadableByteChannel;
import org.freedesktop.dbus.exceptions.DBusException;
import org.freedesktop.dbus.exceptions.MessageTypeException;
import org.freedesktop.dbus.messages.Message;
import org.freedesktop.dbus.messages.MessageFactory;

/**
 * Reads messages off the bus socket, refusing to hold what vfiod never needs. dbus-java's reader allocates a body of
 * whatever length the fixed header claims (the bus passes up to 128 MiB), and its message copies it once more: one
 * caller's message could take the whole heap before any check ran. Here the header is read and checked first; a body
 * over {@link #MAX_BODY} is read in small pieces and dropped, and the message is handed on without it, so that its
 * caller can still be answered (serial, sender, member are all in the header). Bodies are only unmarshalled later,
 * by whoever asks for the arguments.
 *
 * <p>The body cap also caps the elements vfiod will unmarshal: every element but a byte takes at least 4 bytes on
 * the wire (a boolean, an empty array's length, a variant of a byte: its signature and the byte), and a byte array
 * becomes one {@code byte[]}, so a body of 64 KiB makes at most 16,384 objects. The bus itself limits nesting
 * (64 containers deep).
 */
final class FrameReader {
    /**
     * vfiod's largest legitimate message is a Rebind: an address and an a{sv} of a handful of options (a 10 kB
     * address is still refused politely, as InvalidArgument). 64 KiB leaves room for any honest call, polkit's reply
     * and the bus's signals.
     */
    static final int MAX_BODY = 64 * 1024;
    /** Header fields: a path, names of at most 255 bytes and a signature; anything near this is not a real call. */
    static final int MAX_HEADER_FIELDS = 64 * 1024;
    private static final int DISCARD_CHUNK = 8 * 1024;

    /** What one read gives. */
    sealed interface Frame {
    }

    /** A message within the limits, its body not yet unmarshalled. */
    record Whole(Message message) implements Frame {
    }

    /** A message whose body was over the limit: its header only (an empty body), and the length it claimed. */
    record BodyTooLarge(Message headerOnly, long bodyLength) implements Frame {
    }

    /** A message that could not even be read as one (header fields over the limit): skipped, unanswerable. */
    record Skipped(String why) implements Frame {
    }

    private final ReadableByteChannel channel;
    private final ByteBuffer fixed = ByteBuffer.allocate(16);
    private ByteBuffer discard;

    FrameReader(ReadableByteChannel channel) {
        this.channel = channel;
    }

    /** Blocks until one whole message has been read (or skipped). */
    Frame read() throws IOException {
        fixed.clear();
        readFully(fixed);
        byte endian = fixed.get(0);
        if (endian != 'l' && endian != 'B') throw new IOException("not a D-Bus message (endianness byte " + endian + ")");
        fixed.order(endian == 'B' ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN);
        byte type = fixed.get(1);
        if (fixed.get(3) != Message.PROTOCOL) throw new IOException("unsupported D-Bus protocol version " + fixed.get(3));
        long bodyLength = Integer.toUnsignedLong(fixed.getInt(4));
        long fieldsLength = Integer.toUnsignedLong(fixed.getInt(12));
        long paddedFields = (fieldsLength + 7) & ~7L;
        if (fieldsLength > MAX_HEADER_FIELDS) {
            skip(paddedFields + bodyLength);
            return new Skipped("header fields of " + fieldsLength + " bytes (at most " + MAX_HEADER_FIELDS + ")");
        }
        // laid out as dbus-java's reader does: the array length, padding to 8, then the fields and their end padding
        byte[] header = new byte[(int) paddedFields + 8];
        fixed.position(12);
        fixed.get(header, 0, 4);
        readFully(ByteBuffer.wrap(header, 8, (int) paddedFields));
        byte[] start = new byte[12];
        fixed.get(0, start);
        if (bodyLength > MAX_BODY) {
            skip(bodyLength);
            // the header as if the body were empty: nothing may try to unmarshal what is not there
            ByteBuffer.wrap(start).order(fixed.order()).putInt(4, 0);
            Message m = parse(type, start, header, new byte[0]);
            return m == null ? new Skipped("an unparseable header") : new BodyTooLarge(m, bodyLength);
        }
        byte[] body = new byte[(int) bodyLength];
        readFully(ByteBuffer.wrap(body));
        Message m = parse(type, start, header, body);
        return m == null ? new Skipped("an unparseable header, or an unknown message type " + type) : new Whole(m);
    }

    /** The message, or null if dbus-java cannot make one of it: one odd message must not end the connection. */
    private static Message parse(byte type, byte[] start, byte[] header, byte[] body) {
        try {
            return MessageFactory.createMessage(type, start, header, body, null);
        } catch (MessageTypeException | DBusException | RuntimeException e) {
            return null;
        }
    }

    private void skip(long bytes) throws IOException {
        if (discard == null) discard = ByteBuffer.allocate(DISCARD_CHUNK);
        long left = bytes;
        while (left > 0) {
            discard.clear().limit((int) Math.min(DISCARD_CHUNK, left));
            readFully(discard);
            left -= discard.limit();
        }
    }

    private void readFully(ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            if (channel.read(b) < 0) throw new EOFException("the bus closed the connection");
        }
    }
}
