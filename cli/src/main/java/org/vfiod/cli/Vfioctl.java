package org.vfiod.cli;

import java.io.BufferedOutputStream;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/**
 * vfioctl: the admin's command line for vfiod. Parses the command line first (no bus, no dbus-java classes), then
 * connects only if the command needs the daemon. Every failure ends as one line on stderr and an exit code from
 * {@link Exit}; no stack traces.
 */
public final class Vfioctl {
    private Vfioctl() {
    }

    public static void main(String[] args) {
        PrintStream out = new PrintStream(new BufferedOutputStream(new FileOutputStream(FileDescriptor.out), 1 << 14), false, StandardCharsets.UTF_8);
        PrintStream err = new PrintStream(new FileOutputStream(FileDescriptor.err), true, StandardCharsets.UTF_8);
        int code = run(args, System.getenv("DBUS_SYSTEM_BUS_ADDRESS"), out, err, new BusConnector());
        out.flush();
        err.flush();
        System.exit(code);
    }

    /** Makes the real connection, to the bus chosen by {@code --address} or the environment. */
    interface ConnectorFactory {
        Vfiod.Connector forBus(String address);
    }

    private static final class BusConnector implements ConnectorFactory {
        @Override
        public Vfiod.Connector forBus(String address) {
            return new Vfiod.Connector() {
                @Override
                public Vfiod connect() throws Exit.Unavailable {
                    return BusVfiod.connect(address);
                }
            };
        }
    }

    /** The whole program but the exit: the exit code. {@code busEnv} is DBUS_SYSTEM_BUS_ADDRESS. */
    static int run(String[] args, String busEnv, PrintStream out, PrintStream err, ConnectorFactory connectors) {
        Runner runner = null;
        try {
            Command.Invocation inv = Args.parse(args);
            runner = new Runner(connectors.forBus(BusVfiod.busAddress(inv.busAddress(), busEnv)), out, err, inv.json());
            return runner.run(inv.command());
        } catch (Throwable t) {
            if (t instanceof VirtualMachineError && !(t instanceof OutOfMemoryError)) throw (VirtualMachineError) t;
            Exit.Failure f = Exit.of(t);
            out.flush();
            err.println("vfioctl: " + f.message());
            if (System.getenv("VFIOCTL_DEBUG") != null) t.printStackTrace(err);
            return f.code();
        } finally {
            if (runner != null) {
                try {
                    runner.close();
                } catch (RuntimeException e) {
                    // the answer is already out; a failing disconnect changes nothing for the caller
                }
            }
        }
    }
}
