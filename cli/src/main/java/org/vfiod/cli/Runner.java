package org.vfiod.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import org.vfiod.client.Assignment;
import org.vfiod.client.DeviceInfo;
import org.vfiod.client.RebindOptions;
import org.vfiod.client.Resolution;

/**
 * Runs one parsed command against a {@link Vfiod}. Results go to {@code out}; failures are thrown and turned into
 * an exit code and one line by {@link Vfioctl}. The connection is opened only once a command needs it.
 */
final class Runner {
    private final Vfiod.Connector connector;
    private final PrintStream out;
    private final PrintStream err;
    private final boolean json;
    private Vfiod vfiod;

    Runner(Vfiod.Connector connector, PrintStream out, PrintStream err, boolean json) {
        this.connector = connector;
        this.out = out;
        this.err = err;
        this.json = json;
    }

    private Vfiod vfiod() throws Exit.Unavailable {
        if (vfiod == null) vfiod = connector.connect();
        return vfiod;
    }

    /** The exit code; failures are thrown. */
    int run(Command c) throws Exception {
        try {
            if (c instanceof Command.Help) {
                out.print(Help.TEXT);
                return Exit.OK;
            }
            if (c instanceof Command.ListDevices) return list();
            if (c instanceof Command.Show s) return show(s.address());
            if (c instanceof Command.Rebind r) return result("rebind", r.address(), r.options(), vfiod().assign(r.address(), r.options()));
            if (c instanceof Command.Restore r) return result("restore", r.address(), r.options(), vfiod().release(r.address(), r.options()));
            if (c instanceof Command.Resolve r) return resolve(r.modalias());
            if (c instanceof Command.Monitor) return monitor();
            if (c instanceof Command.ImportDriverctl i) return importDriverctl(i);
            throw new IllegalStateException("no runner for " + c);
        } finally {
            out.flush();
        }
    }

    private int list() throws Exception {
        List<DeviceInfo> devices = vfiod().devices();
        if (json) out.println(Json.write(Render.json(devices)));
        else out.print(Render.table(devices));
        return Exit.OK;
    }

    private int show(String address) throws Exception {
        DeviceInfo d = vfiod().device(address);
        List<String> users = vfiod().users(address);
        if (json) {
            Map<String, Object> m = Render.json(d);
            m.put("users", users);
            out.println(Json.write(m));
        } else {
            out.print(Render.show(d, users));
        }
        return Exit.OK;
    }

    private int result(String operation, String address, RebindOptions o, Assignment a) {
        if (json) out.println(Json.write(Render.json(operation, address, o, a)));
        else out.print(Render.result(operation, address, o, a));
        return Exit.OK;
    }

    private int resolve(String modalias) throws Exception {
        Resolution r = vfiod().resolve(modalias);
        if (json) out.println(Json.write(Render.json(modalias, r)));
        else out.print(Render.resolution(r));
        return Exit.OK;
    }

    /** Prints events until the connection is lost (exit 4) or the process is interrupted (Ctrl-C, exit 130). */
    private int monitor() throws Exception {
        Vfiod v = vfiod();
        CountDownLatch never = new CountDownLatch(1);
        try (AutoCloseable watch = v.watch(new Printer())) {
            while (v.connected()) {
                never.await(500, java.util.concurrent.TimeUnit.MILLISECONDS);
            }
        }
        throw new Exit.Unavailable("lost the connection to the bus", null);
    }

    /** Writes one line per event, flushed at once, so a pipe sees each event as it happens. */
    final class Printer implements Vfiod.Events {
        @Override
        public void added(String path) {
            print("added", path, null);
        }

        @Override
        public void removed(String path) {
            print("removed", path, null);
        }

        @Override
        public void changed(String path, Map<String, Object> properties) {
            print("changed", path, properties);
        }

        @Override
        public void daemon(boolean running) {
            print(running ? "vfiod-started" : "vfiod-stopped", null, null);
        }

        /** Fixed width, milliseconds always shown: local time for people, UTC for JSON. */
        private final DateTimeFormatter localTime = DateTimeFormatter.ofPattern("HH:mm:ss.SSS");
        private final DateTimeFormatter utc = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);

        private synchronized void print(String event, String path, Map<String, Object> properties) {
            if (json) {
                out.println(Json.write(Render.eventJson(utc.format(Instant.now()), event, path, properties)));
            } else {
                out.println(Render.event(localTime.format(LocalTime.now()), event, path, properties));
            }
            out.flush();
        }
    }

    private int importDriverctl(Command.ImportDriverctl c) throws Exception {
        Path dir = c.dir();
        if (!Files.exists(dir)) {
            if (c.dirGiven()) throw new UsageException("no such directory: " + Exit.oneLine(dir.toString()));
            // driverctl never saved an override here (or is not installed): nothing to take over
            if (json) out.println("[]");
            else out.println("no driverctl overrides: " + dir + " does not exist");
            return Exit.OK;
        }
        List<DriverctlImport.Entry> entries;
        try {
            entries = DriverctlImport.scan(dir);
        } catch (NotDirectoryException e) {
            String m = "not a directory: " + Exit.oneLine(dir.toString());
            if (c.dirGiven()) throw new UsageException(m);
            throw new IOException(m, e);
        } catch (AccessDeniedException e) {
            throw new IOException("cannot read " + Exit.oneLine(dir.toString()) + ": permission denied", e);
        } catch (IOException e) {
            throw new IOException("cannot read " + Exit.oneLine(dir.toString()) + ": " + Exit.message(e), e);
        }
        if (entries.isEmpty()) {
            if (json) out.println("[]");
            else out.println("no driverctl overrides in " + Exit.oneLine(dir.toString()));
            return Exit.OK;
        }
        boolean anyVfio = false;
        for (DriverctlImport.Entry e : entries) anyVfio |= e.kind() == DriverctlImport.Kind.VFIO;
        List<DriverctlImport.Outcome> outcomes = DriverctlImport.run(entries, anyVfio ? vfiod() : null, c.dryRun(), c.noAsk());
        if (json) {
            out.println(Json.write(DriverctlImport.json(outcomes)));
        } else {
            out.print(DriverctlImport.table(outcomes));
            long failed = outcomes.stream().filter(o -> o.code() != Exit.OK).count();
            long imported = outcomes.stream().filter(o -> o.outcome().equals("imported")).count();
            if (imported > 0) {
                out.println("driverctl's files stay in " + Exit.oneLine(dir.toString()) + ": delete the imported ones (not with "
                        + "'driverctl unset-override', which unbinds the device) so that driverctl stops applying them at boot");
            }
            out.flush();
            if (failed > 0) err.println("vfioctl: " + failed + " of " + outcomes.size() + " driverctl overrides were not taken over");
        }
        return DriverctlImport.exitCode(outcomes);
    }

    /** Closes the connection, if one was opened. */
    void close() {
        if (vfiod != null) vfiod.close();
    }
}
