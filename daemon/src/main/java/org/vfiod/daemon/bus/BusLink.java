package org.vfiod.daemon.bus;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.freedesktop.dbus.connections.transports.AbstractTransport;
import org.freedesktop.dbus.connections.transports.TransportBuilder;
import org.freedesktop.dbus.exceptions.DBusException;
import org.freedesktop.dbus.messages.DBusSignal;
import org.freedesktop.dbus.messages.Error;
import org.freedesktop.dbus.messages.Message;
import org.freedesktop.dbus.messages.MessageFactory;
import org.freedesktop.dbus.messages.MethodCall;
import org.freedesktop.dbus.messages.MethodReturn;
import org.freedesktop.dbus.messages.constants.Flags;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One connection to the bus on dbus-java's transport (SASL, framing) and message classes (marshalling), with our
 * own dispatch instead of dbus-java's exported objects. Why: dbus-java hands every incoming call from its reader
 * thread to a method-call pool and every reply to a sender thread, two thread switches per call, and it builds an
 * exported object (reflection, introspection data) for every device. Here a read-only call is answered on the
 * reader thread and written at once; only calls that may wait (polkit, the kernel) go to another thread.
 */
public final class BusLink implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(BusLink.class);
    private static final String DBUS = "org.freedesktop.DBus", DBUS_PATH = "/org/freedesktop/DBus";
    static final String LIMITS_EXCEEDED = "org.freedesktop.DBus.Error.LimitsExceeded";

    /** What arrives: called on the reader thread, so it must not block (hand waiting work to another thread). */
    public interface Incoming {
        void call(MethodCall call);

        void signal(DBusSignal signal);
    }

    private final AbstractTransport transport;
    private final MessageFactory factory;
    /** Our reader, not dbus-java's: it drops what is over vfiod's limits before it takes any memory. */
    private final FrameReader frames;
    private final Object writeLock = new Object();
    private final Map<Long, CompletableFuture<Message>> pending = new ConcurrentHashMap<>();
    private volatile boolean closing;
    private volatile Thread reader;

    private BusLink(AbstractTransport transport, FrameReader frames) {
        this.transport = transport;
        this.frames = frames;
        this.factory = transport.getMessageFactory();
    }

    /** Connects, authenticates and says Hello; nothing is read from the bus until {@link #start}. */
    public static BusLink connect(String address) throws IOException, DBusException {
        AbstractTransport transport = TransportBuilder.create(address).build();
        try {
            MethodCall hello = transport.getMessageFactory().createMethodCall(DBUS, DBUS_PATH, DBUS, "Hello", (byte) 0, null);
            transport.writeMessage(hello);
            FrameReader frames = new FrameReader(transport.getTransportConnection().getChannel());
            while (true) {
                if (!(frames.read() instanceof FrameReader.Whole w) || w.message().getReplySerial() != hello.getSerial()) continue;
                if (w.message() instanceof Error e) throw new IOException("the bus refused Hello: " + describe(e));
                return new BusLink(transport, frames);
            }
        } catch (IOException | DBusException | RuntimeException e) {
            transport.close();
            throw e;
        }
    }

    public MessageFactory factory() {
        return factory;
    }

    /** Starts the reader thread; {@code lost} runs once if the bus goes away (not after {@link #close}). */
    public synchronized void start(Incoming incoming, Runnable lost) {
        if (reader != null) throw new IllegalStateException("already started");
        Thread t = new Thread(() -> read(incoming, lost), "bus-reader");
        t.setDaemon(true);
        reader = t;
        t.start();
    }

    private void read(Incoming incoming, Runnable lost) {
        while (!closing) {
            FrameReader.Frame frame;
            try {
                frame = frames.read();
            } catch (IOException e) {
                if (!closing) {
                    LOG.error("lost the bus connection: {}", e.toString());
                    failPending(e);
                    lost.run();
                }
                return;
            }
            if (frame instanceof FrameReader.Skipped skipped) {
                LOG.warn("skipped a message with {}", skipped.why());
                continue;
            }
            if (frame instanceof FrameReader.BodyTooLarge big) {
                refuse(big.headerOnly(), big.bodyLength());
                continue;
            }
            Message m = ((FrameReader.Whole) frame).message();
            try {
                if (m instanceof MethodCall call) {
                    incoming.call(call);
                } else if (m instanceof DBusSignal signal) {
                    incoming.signal(signal);
                } else {
                    CompletableFuture<Message> waiting = pending.remove(m.getReplySerial());
                    if (waiting != null) waiting.complete(m);
                }
            } catch (RuntimeException e) {
                // one bad message must not end the connection
                LOG.warn("dropping a message that could not be handled: {}", e.toString(), e);
            }
        }
    }

    /**
     * A message whose body was over {@link FrameReader#MAX_BODY} and was never kept: a call gets LimitsExceeded (the
     * standard name for "over a limit of the receiver"; InvalidArgs would say its arguments were wrong, which no one
     * looked at), a reply fails the call that waits for it, a signal is dropped.
     */
    private void refuse(Message headerOnly, long bodyLength) {
        String what = bodyLength + " bytes of arguments (vfiod takes at most " + FrameReader.MAX_BODY + ")";
        if (headerOnly instanceof MethodCall call) {
            LOG.warn("refusing {}.{} from {}: {}", call.getInterface(), call.getName(), call.getSource(), what);
            if ((call.getFlags() & Flags.NO_REPLY_EXPECTED) != 0) return;
            try {
                send(factory.createError(call.getSource(), LIMITS_EXCEEDED, call.getSerial(), "s",
                        call.getInterface() + "." + call.getName() + " with " + what));
            } catch (DBusException | IOException | RuntimeException e) {
                LOG.warn("cannot send an error reply: {}", e.toString());
            }
        } else if (headerOnly instanceof DBusSignal) {
            LOG.warn("dropping a signal from {}: {}", headerOnly.getSource(), what);
        } else {
            CompletableFuture<Message> waiting = pending.remove(headerOnly.getReplySerial());
            if (waiting != null) waiting.completeExceptionally(new IOException("a reply of " + what));
        }
    }

    private void failPending(Exception cause) {
        for (Long serial : pending.keySet()) {
            CompletableFuture<Message> f = pending.remove(serial);
            if (f != null) f.completeExceptionally(cause);
        }
    }

    /**
     * Writes one message in one system call; messages from several threads never interleave. dbus-java's writer
     * issues a write(2) per marshalled piece (a dozen for a small reply), and the bus wakes up for each.
     */
    public void send(Message message) throws IOException {
        byte[][] pieces = message.getWireData();
        int n = 0;
        while (n < pieces.length && pieces[n] != null) n++;
        ByteBuffer[] buffers = new ByteBuffer[n];
        long total = 0;
        for (int i = 0; i < n; i++) {
            buffers[i] = ByteBuffer.wrap(pieces[i]);
            total += pieces[i].length;
        }
        synchronized (writeLock) {
            SocketChannel channel = transport.getTransportConnection().getChannel();
            long written = 0;
            while (written < total) written += channel.write(buffers);
        }
    }

    /** Sends a signal built by dbus-java's typed signal classes, whose body is marshalled on first send. */
    public void signal(DBusSignal signal) throws IOException, DBusException {
        if (signal.getEndianess() == 0) signal.updateEndianess(factory.getEndianess());
        // the connection is needed only to turn exported Java objects into paths; our signals carry paths
        signal.appendbody(null);
        send(signal);
    }

    /**
     * A call and its reply (a {@link MethodReturn}, or an {@link Error} message). Blocks, so never on the reader
     * thread: the reply could only be read by the thread that waits for it.
     */
    public Message call(String destination, String path, String iface, String member, Duration timeout, String signature,
                        Object... args) throws IOException, DBusException, TimeoutException {
        if (Thread.currentThread() == reader) throw new IllegalStateException("a blocking call on the bus reader thread");
        MethodCall call = factory.createMethodCall(destination, path, iface, member, (byte) 0, signature, args);
        CompletableFuture<Message> reply = new CompletableFuture<>();
        pending.put(call.getSerial(), reply);
        try {
            send(call);
            return reply.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while waiting for " + member);
        } catch (ExecutionException e) {
            throw new IOException("no reply to " + member + ": " + e.getCause().getMessage(), e.getCause());
        } finally {
            pending.remove(call.getSerial());
        }
    }

    /**
     * True if the bus answers a GetId within {@code limit} (with anything: an error reply too): the reply can only
     * arrive through the reader thread, so this shows that the reader reads and the connection carries (the
     * watchdog asks it). GetId, not Peer.Ping: a system bus's policy lets every client call the bus's own interface.
     */
    public boolean answersWithin(Duration limit) {
        try {
            return call(DBUS, DBUS_PATH, DBUS, "GetId", limit, null) != null;
        } catch (IOException | DBusException | TimeoutException e) {
            return false;
        }
    }

    /** A call to the bus itself (RequestName, ReleaseName): its first return value, or the error it sent. */
    public Object callBus(String member, String signature, Object... args) throws IOException, DBusException, TimeoutException {
        Message reply = call(DBUS, DBUS_PATH, DBUS, member, Duration.ofSeconds(25), signature, args);
        if (reply instanceof Error e) throw new IOException(describe(e));
        Object[] p = reply.getParameters();
        return p == null || p.length == 0 ? null : p[0];
    }

    /** An error reply as one line: its name and, when it has one, its message. */
    public static String describe(Error error) {
        try {
            Object[] p = error.getParameters();
            return error.getName() + (p != null && p.length > 0 ? ": " + p[0] : "");
        } catch (DBusException unreadable) {
            return error.getName();
        }
    }

    @Override
    public void close() {
        closing = true;
        failPending(new IOException("connection closed"));
        try {
            transport.close();
        } catch (IOException e) {
            LOG.debug("closing the bus connection: {}", e.toString());
        }
    }
}
