package org.vfiod.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * examples/vfiod-gio.py, the GLib (python3-gi) client, run as the test users through setpriv against vfiod on the
 * private bus with the real polkitd: what it prints, and what the simulated kernel did.
 */
@ExtendWith(RealComponents.class)
class GioClientIT {
    static final String NIC = "0000:03:00.0";
    static final String GPU = "0000:01:00.0";
    static final String AUDIO = "0000:01:00.1";

    private static Path client(Env env) throws Exception {
        LibvirtHook.requireGio();
        Path p = env.dir().resolve("vfiod-gio.py");
        Files.copy(Harness.projectRoot().resolve("examples/vfiod-gio.py"), p);
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
        return p;
    }

    private static List<String> argv(Env env, Path client, String... args) {
        List<String> argv = new ArrayList<>(List.of(client.toString(), "--address", env.address()));
        argv.addAll(List.of(args));
        return argv;
    }

    @Test
    void listShowsEveryDeviceWithItsGroupStateAndDrivers(Env env) throws Exception {
        Path client = client(env);
        env.vfiod();
        assertEquals("vfio-pci", Env.string(env.manager(User.ROOT, "Rebind", NIC, "{}").assertOk()));
        Reply r = Cmd.run(User.OUTSIDER, Duration.ofSeconds(30), argv(env, client, "list")).assertOk();
        List<String> lines = r.out().lines().toList();
        assertEquals(8, lines.size(), r::describe); // the header and the sample machine's 7 devices
        assertTrue(lines.get(0).startsWith("ADDRESS"), r::describe);
        assertRow(lines, NIC, 3, "vfio", "vfio-pci", "vfio-pci", r);
        // the others' VfioDriver is whatever vfiod says (the module's name until it has seen a device bind to it)
        assertRow(lines, GPU, 1, "host", "amdgpu", env.deviceProperty(GPU, "VfioDriver"), r);
        assertRow(lines, AUDIO, 1, "host", "snd_hda_intel", env.deviceProperty(AUDIO, "VfioDriver"), r);
        assertRow(lines, "0000:00:01.0", 1, "host", "pcieport", env.deviceProperty("0000:00:01.0", "VfioDriver"), r);
    }

    private static void assertRow(List<String> lines, String address, int group, String state, String driver, String vfio,
                                  Reply r) {
        // the name column (last) depends on the machine's hwdb
        String head = String.format("%-13s %5s %-7s %-14s %-14s ", address, group, state, driver, vfio);
        assertEquals(1, lines.stream().filter(l -> l.startsWith(head)).count(), () -> "a row " + head + ": " + r.describe());
    }

    @Test
    void moveDryRunsThenRebindsAndRestoresAndSeesTheSignals(Env env) throws Exception {
        Path client = client(env);
        env.vfiod();
        // vfio-pci is not loaded yet: a dry run names the module
        String vfio = env.deviceProperty(GPU, "VfioDriver");
        Reply r = Cmd.run(User.MEMBER, Duration.ofSeconds(60), argv(env, client, "move", GPU, "--group")).assertOk();
        List<String> lines = r.out().lines().toList();
        assertEquals("Rebind " + GPU + " (dry run): ok, vfiod answers '" + vfio + "'", lines.get(0), r::describe);
        assertEquals("Rebind " + GPU + ": on vfio-pci", lines.get(1), r::describe);
        int restore = -1;
        for (int i = 0; i < lines.size() && restore < 0; i++) if (lines.get(i).startsWith("Restore " + GPU + " (dry run): ok")) restore = i;
        assertTrue(restore > 1, r::describe);
        assertEquals("Restore " + GPU + ": on amdgpu", lines.get(restore + 1), r::describe);
        // the signals of each move, as the object manager saw them
        List<String> rebound = lines.subList(2, restore);
        List<String> restored = lines.subList(restore + 2, lines.size());
        for (String a : List.of(GPU, AUDIO)) {
            assertTrue(rebound.stream().anyMatch(l -> l.startsWith("changed " + a) && l.contains("State='vfio'")), r::describe);
            assertTrue(restored.stream().anyMatch(l -> l.startsWith("changed " + a) && l.contains("State='host'")), r::describe);
        }
        assertTrue(rebound.stream().anyMatch(l -> l.startsWith("changed " + AUDIO) && l.contains("Driver='vfio-pci'")), r::describe);
        // the kernel saw both functions go to vfio-pci and come back
        String kernel = env.sim().kernelLog();
        assertTrue(kernel.contains(GPU) && kernel.contains(AUDIO) && kernel.contains("vfio-pci"), kernel);
        assertEquals("amdgpu", env.driverOf(GPU));
        assertEquals("snd_hda_intel", env.driverOf(AUDIO));
    }

    @Test
    void watchPrintsTheChangesAnotherClientCauses(Env env) throws Exception {
        Path client = client(env);
        env.vfiod();
        Proc watch = Cmd.start(User.OUTSIDER, argv(env, client, "watch", "--seconds", "30"));
        try {
            watch.awaitLine(l -> l.equals("watching 7 devices"), Duration.ofSeconds(20), "the ready line");
            env.manager(User.ROOT, "Rebind", NIC, "{}").assertOk();
            watch.awaitLine(l -> l.startsWith("changed " + NIC) && l.contains("State='vfio'"), Duration.ofSeconds(20),
                    "the NIC's State change");
            env.manager(User.ROOT, "Restore", NIC, "{}").assertOk();
            watch.awaitLine(l -> l.startsWith("changed " + NIC) && l.contains("Driver='e1000e'"), Duration.ofSeconds(20),
                    "the NIC's Driver change back");
            env.sim().unplug(AUDIO);
            watch.awaitLine(l -> l.equals("removed " + AUDIO), Duration.ofSeconds(20), "the removed audio function");
        } finally {
            watch.stop(Duration.ofSeconds(2));
        }
    }

    @Test
    void aCallerPolkitRefusesGetsTheDryRunThenAccessDenied(Env env) throws Exception {
        Path client = client(env);
        env.vfiod();
        SysfsSnapshot before = env.snapshot();
        String vfio = env.deviceProperty(NIC, "VfioDriver");
        Reply r = Cmd.run(User.OUTSIDER, Duration.ofSeconds(60), argv(env, client, "move", NIC));
        assertEquals(1, r.exit(), r::describe);
        assertEquals("Rebind " + NIC + " (dry run): ok, vfiod answers '" + vfio + "'", r.out().strip(), r::describe);
        assertTrue(r.err().startsWith("vfiod-gio: " + Env.ACCESS_DENIED + ": not authorized"), r::describe);
        before.assertUnchanged("a refused Rebind");
    }
}
