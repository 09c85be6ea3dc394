package org.vfiod.it;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * A private {@code dbus-daemon} of type "system": the same default policy as Debian's system bus (deny owning
 * names and method calls, except to the bus itself), plus {@code <include>} of vfiod's own policy file from
 * packaging/ and of polkit's installed bus policy. Its socket lives in a folder everyone may enter, so the test
 * users can connect.
 */
public final class PrivateSystemBus implements AutoCloseable {
    public static final Path POLKIT_BUS_POLICY = Path.of("/usr/share/dbus-1/system.d/org.freedesktop.PolicyKit1.conf");

    private final Path socket;
    private final Path config;
    private final Proc daemon;

    private PrivateSystemBus(Path socket, Path config, Proc daemon) {
        this.socket = socket;
        this.config = config;
        this.daemon = daemon;
    }

    /** Starts a bus whose files live in {@code dir} (which must be reachable by the test users). */
    public static PrivateSystemBus start(Path dir, Path vfiodPolicy) {
        Path socket = dir.resolve("bus.sock");
        Path config = dir.resolve("bus.conf");
        try {
            Files.writeString(config, config(socket, vfiodPolicy));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Proc p = Proc.start("dbus-daemon", List.of("dbus-daemon", "--config-file=" + config, "--nofork",
                "--print-address=1"), Map.of(), dir.resolve("dbus-daemon.log"), true);
        // the address is printed once the socket listens
        p.awaitLine(l -> l.startsWith("unix:path=" + socket), Duration.ofSeconds(10), "bus address");
        if (!Files.exists(socket)) fail("dbus-daemon printed its address but " + socket + " is missing");
        return new PrivateSystemBus(socket, config, p);
    }

    static String config(Path socket, Path vfiodPolicy) {
        return """
                <!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
                 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
                <!-- vfiod integration tests: a private system bus, like /usr/share/dbus-1/system.conf without user
                     switching, forking, activation or syslog. -->
                <busconfig>
                  <type>system</type>
                  <auth>EXTERNAL</auth>
                  <listen>unix:path=%s</listen>
                  <policy context="default">
                    <allow user="*"/>
                    <deny own="*"/>
                    <deny send_type="method_call"/>
                    <allow send_type="signal"/>
                    <allow send_requested_reply="true" send_type="method_return"/>
                    <allow send_requested_reply="true" send_type="error"/>
                    <allow receive_type="method_call"/>
                    <allow receive_type="method_return"/>
                    <allow receive_type="error"/>
                    <allow receive_type="signal"/>
                    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"/>
                    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Introspectable"/>
                    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Properties"/>
                    <deny send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"
                          send_member="UpdateActivationEnvironment"/>
                  </policy>
                  <policy user="root">
                    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Monitoring"/>
                  </policy>
                  <!-- the project's own policy, as installed to /usr/share/dbus-1/system.d/ -->
                  <include>%s</include>
                  <!-- polkit's, as its package installs it -->
                  <include>%s</include>
                </busconfig>
                """.formatted(socket, vfiodPolicy, POLKIT_BUS_POLICY);
    }

    public String address() {
        return "unix:path=" + socket;
    }

    public Path config() {
        return config;
    }

    public boolean alive() {
        return daemon.alive();
    }

    public long pid() {
        return daemon.pid();
    }

    /** SIGKILL: the bus vanishes under its clients. */
    public void kill() {
        daemon.kill();
    }

    public String log() {
        return daemon.output();
    }

    /** Whether {@code name} has an owner on this bus (asked as root with gdbus). */
    public boolean hasOwner(String name) {
        Reply r = Cmd.run(User.ROOT, "gdbus", "call", "--address", address(), "--dest", "org.freedesktop.DBus",
                "--object-path", "/org/freedesktop/DBus", "--method", "org.freedesktop.DBus.NameHasOwner", name).assertOk();
        return r.out().contains("true");
    }

    /** The unique name owning {@code name}, or null. */
    public String owner(String name) {
        Reply r = Cmd.run(User.ROOT, "gdbus", "call", "--address", address(), "--dest", "org.freedesktop.DBus",
                "--object-path", "/org/freedesktop/DBus", "--method", "org.freedesktop.DBus.GetNameOwner", name);
        if (!r.ok()) return null;
        return r.out().replaceAll("^\\('(.*)',\\)$", "$1").strip();
    }

    /** Waits until {@code name} has an owner ({@code owned}) or none; fails at the limit. */
    public void awaitOwner(String name, boolean owned, Duration limit) {
        long until = System.nanoTime() + limit.toNanos();
        while (hasOwner(name) != owned) {
            if (System.nanoTime() > until) fail(name + (owned ? " got no owner" : " kept its owner") + " within " + limit.toMillis() + " ms");
            sleep(50);
        }
    }

    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        daemon.stop(Duration.ofSeconds(5));
    }
}
