package org.vfiod.it;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * The real polkitd on a private bus. It is started as root (it switches to its own user, polkitd, by itself) with
 * DBUS_SYSTEM_BUS_ADDRESS pointing at the bus, and reads the machine's actions (/usr/share/polkit-1/actions) and
 * rules (/etc/polkit-1/rules.d, /usr/share/polkit-1/rules.d), where scripts/setup-test-system put vfiod's.
 */
public final class Polkitd implements AutoCloseable {
    public static final Path BINARY = Path.of("/usr/lib/polkit-1/polkitd");
    public static final String BUS_NAME = "org.freedesktop.PolicyKit1";

    private final PrivateSystemBus bus;
    private final Proc process;

    private Polkitd(PrivateSystemBus bus, Proc process) {
        this.bus = bus;
        this.process = process;
    }

    public static Polkitd start(PrivateSystemBus bus, Path logFile) {
        Proc p = Proc.start("polkitd", List.of(BINARY.toString()), Map.of("DBUS_SYSTEM_BUS_ADDRESS", bus.address()),
                logFile, true);
        try {
            // it takes its name once the authority (rules and actions) is set up
            bus.awaitOwner(BUS_NAME, true, Duration.ofSeconds(15));
        } catch (AssertionError e) {
            p.stop(Duration.ofSeconds(2));
            throw new AssertionError(e.getMessage() + "; polkitd output:\n" + p.output(), e);
        }
        return new Polkitd(bus, p);
    }

    public boolean running() {
        return process.alive();
    }

    public long pid() {
        return process.pid();
    }

    /** SIGKILL, as the OOM killer would: no goodbye on the bus, a check in flight gets no reply from it. */
    public void kill() {
        process.kill();
        if (bus.alive()) bus.awaitOwner(BUS_NAME, false, Duration.ofSeconds(10));
    }

    public String log() {
        return process.output();
    }

    /** SIGTERM (SIGKILL if it lingers), then waits until its name has left the bus. */
    public void stop() {
        process.stop(Duration.ofSeconds(5));
        if (bus.alive()) bus.awaitOwner(BUS_NAME, false, Duration.ofSeconds(10));
    }

    @Override
    public void close() {
        process.stop(Duration.ofSeconds(5));
    }
}
