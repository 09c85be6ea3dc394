package org.vfiod.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Issue 12: one message far over anything vfiod needs, from an unprivileged user, once wedged vfiod for good (its
 * bus reader died of OutOfMemoryError while unmarshalling it). Now each is refused, before it is unmarshalled, with
 * a D-Bus error; vfiod's memory barely moves, and it goes on answering.
 */
@ExtendWith(RealComponents.class)
class HugeMessagesIT {
    static final String LIMITS_EXCEEDED = "org.freedesktop.DBus.Error.LimitsExceeded";
    /** The size of the message of the issue: 1.25 million entries of 24 bytes, 30 MB (the bus's limit is 32 MiB). */
    static final int SET_ENTRIES = 1_250_000;
    static final int REBIND_ENTRIES = 150_000;
    /** Far less than the message itself: vfiod must not hold it, let alone unmarshal it. */
    static final long MAX_RSS_GROWTH_KB = 16 * 1024;

    @Test
    void aHugeSetAndHugeRebindsAreRefusedAndVfiodGoesOn(Env env) throws IOException {
        // the heap systemd/vfiod.service gives it: with the tests' larger one the Set of the issue did not wedge
        // vfiod, it only took 8 s to unmarshal
        VfiodProcess vfiod = env.startVfiodWith(List.of("-Xmx128m"), java.util.Map.of(), env.vfiodArgs(env.address(), env.defaultModulesDir()), true);
        env.manager(User.ROOT, "ListDevices").assertOk();
        long before = rssKb(vfiod.pid());

        String set = huge(env, "set", SET_ENTRIES);
        assertTrue(set.startsWith(LIMITS_EXCEEDED + " "), "a 30 MB Properties.Set: " + set);
        for (int i = 0; i < 2; i++) {
            String rebind = huge(env, "rebind", REBIND_ENTRIES);
            assertTrue(rebind.startsWith(LIMITS_EXCEEDED + " "), "a Rebind of " + REBIND_ENTRIES + " options: " + rebind);
        }
        long after = rssKb(vfiod.pid());
        System.out.println("vfiod-it: RSS before " + before + " kB, after " + after + " kB; " + set);

        assertTrue(vfiod.alive(), "vfiod ended");
        assertTrue(after - before < MAX_RSS_GROWTH_KB, "RSS grew from " + before + " kB to " + after + " kB");
        // the caller of the issue: still answered, reads and a mutation
        assertTrue(env.manager(User.ROOT, "ListDevices").assertOk().out().contains("pci_0000_3a03_3a00_2e0"));
        assertEquals("vfio-pci", Env.string(env.manager(User.ROOT, "Rebind", BadInputIT.NIC, "{}").assertOk()));
        // and a Set of a small value still gets the answer it always got
        env.call(User.OUTSIDER, Env.MANAGER, "org.freedesktop.DBus.Properties.Set", Env.MANAGER_IFACE, "Version", "<'2'>")
                .assertError("org.freedesktop.DBus.Error.PropertyReadOnly");
    }

    /**
     * "ERROR-NAME N ms" or "ok N ms": the answer to a Properties.Set ({@code set}) or a Rebind ({@code rebind}) of
     * {@code entries} options, sent by {@link RawCall} as an unprivileged user in a JVM of its own.
     */
    static String huge(Env env, String kind, int entries) {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        // the checkout may be where the test user cannot read
        String classes = ReadableClasspath.copy(Path.of(RawCall.class.getProtectionDomain().getCodeSource().getLocation().getPath())
                .toString(), env.dir().getParent().resolve("raw-classpath"));
        Reply r = Cmd.run(User.OUTSIDER, Duration.ofSeconds(30), List.of(java, "-Xmx512m", "-cp", classes,
                RawCall.class.getName(), env.address(), kind.equals("rebind") ? "options" : kind, Integer.toString(entries)));
        assertEquals(0, r.exit(), r.describe());
        String[] f = r.out().strip().split("\t", 3);
        String took = r.err().strip().replaceFirst("^took ", "");
        return (f[0].equals("error") ? f[1] : f[0]) + " " + took;
    }

    private static long rssKb(long pid) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
            if (line.startsWith("VmRSS:")) return Long.parseLong(line.replaceAll("\\D", ""));
        }
        throw new IOException("no VmRSS for " + pid);
    }
}
