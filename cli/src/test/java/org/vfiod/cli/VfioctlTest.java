package org.vfiod.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vfiod.client.RebindOptions;
import org.vfiod1.Error;

/** The whole program against a fake daemon: what reaches stdout, stderr, and the exit code. */
class VfioctlTest {
    private final FakeVfiod fake = FakeVfiod.demo();
    private final List<String> connectedTo = new ArrayList<>();
    private Exit.Unavailable unavailable;
    private String out;
    private String err;

    private int run(String... args) {
        return runWithEnv(null, args);
    }

    private int runWithEnv(String busEnv, String... args) {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        ByteArrayOutputStream e = new ByteArrayOutputStream();
        int code = Vfioctl.run(args, busEnv, new PrintStream(o, true, StandardCharsets.UTF_8),
                new PrintStream(e, true, StandardCharsets.UTF_8), address -> () -> {
                    connectedTo.add(address);
                    if (unavailable != null) throw unavailable;
                    return fake;
                });
        out = o.toString(StandardCharsets.UTF_8);
        err = e.toString(StandardCharsets.UTF_8);
        return code;
    }

    private void assertOneErrorLine(String expected) {
        assertEquals("vfioctl: " + expected + "\n", err);
        assertFalse(err.contains("\tat "), "no stack trace");
    }

    @Test
    void help_exits_0_and_documents_the_exit_codes() {
        assertEquals(0, run("--help"));
        assertTrue(out.startsWith("Usage: vfioctl"));
        for (String code : new String[] {"  0 ", "  1 ", "  2 ", "  3 ", "  4 ", "  5 ", "  64 ", "  70 "}) {
            assertTrue(out.contains("\n" + code), code);
        }
        assertTrue(connectedTo.isEmpty());
    }

    @Test
    void usage_errors_exit_64_without_touching_the_bus() {
        assertEquals(64, run("list", "--bogus"));
        assertOneErrorLine("unknown option '--bogus' (see vfioctl --help)");
        assertEquals(64, run("frobnicate"));
        assertEquals(64, run());
        assertEquals(64, run("rebind", "not-an-address"));
        assertEquals(64, run("rebind", "03:00.0", "--timeout", "0"));
        assertTrue(connectedTo.isEmpty());
        assertEquals("", out);
    }

    @Test
    void the_bus_comes_from_the_option_then_the_environment_then_the_default() {
        run("list");
        runWithEnv("unix:path=/tmp/env", "list");
        runWithEnv("unix:path=/tmp/env", "--address", "unix:path=/tmp/opt", "list");
        assertEquals(List.of("unix:path=/run/dbus/system_bus_socket", "unix:path=/tmp/env", "unix:path=/tmp/opt"), connectedTo);
        assertTrue(fake.closed);
    }

    @Test
    void list_and_show() {
        assertEquals(0, run("list"));
        assertTrue(out.startsWith("ADDRESS "));
        assertEquals(7, out.split("\n").length);
        assertEquals(0, run("list", "--json"));
        assertTrue(out.startsWith("[{\"address\":\"0000:00:01.0\""));
        assertTrue(out.endsWith("}]\n"));
        assertEquals(0, run("show", "/org/vfiod/devices/pci_0000_3a03_3a00_2e0"));
        assertTrue(out.startsWith("0000:03:00.0  Network controller\n"));
        assertEquals(0, run("--json", "show", "03:00.0"));
        assertTrue(out.startsWith("{\"address\":\"0000:03:00.0\""));
    }

    @Test
    void a_device_of_another_bus_is_listed_shown_and_moved_as_bus_colon_name() {
        fake.with(FakeVfiod.platformDevice());
        assertEquals(0, run("list"));
        String line = out.lines().filter(l -> l.contains("virtio")).findFirst().orElseThrow(() -> new AssertionError(out));
        assertTrue(line.matches("platform:a000000\\.virtio_mmio +- +virtio-mmio +vfio-platform +9 +host +no +"
                + "platform device: of:NvirtioT\\(null\\)Cvirtio,mmio"), line);
        assertEquals(0, run("show", "/org/vfiod/devices/platform_a000000_2evirtio_5fmmio"));
        assertTrue(out.startsWith("platform:a000000.virtio_mmio  platform device: "), out);
        assertTrue(out.contains("\n  IOMMU group:      9: platform:a000000.virtio_mmio\n"), out);
        assertTrue(out.contains("\n  vendor:device:    -\n"), out);
        assertEquals(0, run("--json", "show", "platform:a000000.virtio_mmio"));
        assertTrue(out.startsWith("{\"address\":\"a000000.virtio_mmio\",\"path\":\"/org/vfiod/devices/platform_a000000_2evirtio_5fmmio\","
                + "\"subsystem\":\"platform\",\"vendorId\":null,"), out);
        assertEquals(0, run("rebind", "platform:a000000.virtio_mmio"));
        assertEquals("platform:a000000.virtio_mmio", fake.mutations().get(0).address());
        assertEquals(0, run("restore", "/org/vfiod/devices/platform_a000000_2evirtio_5fmmio"));
        assertEquals("platform:a000000.virtio_mmio", fake.mutations().get(1).address());
    }

    @Test
    void show_names_who_uses_the_device_and_in_use_exits_6() {
        assertEquals(0, run("show", "03:00.0"));
        assertTrue(out.contains("\n  used by:          nothing\n"), out);
        fake.users.put("0000:03:00.0", List.of("enp3s0 is up with 10.0.0.5/24 and carries the default route",
                "/dev/vfio/3 is open by pid 4321 (qemu-system-x86_64)"));
        assertEquals(0, run("show", "03:00.0"));
        assertTrue(out.endsWith("\n  used by:          enp3s0 is up with 10.0.0.5/24 and carries the default route\n"
                + "                    /dev/vfio/3 is open by pid 4321 (qemu-system-x86_64)\n"), out);
        assertEquals(0, run("--json", "show", "03:00.0"));
        assertTrue(out.contains("\"users\":[\"enp3s0 is up with 10.0.0.5/24 and carries the default route\","), out);
        fake.failNext = (new Error.InUse("enp3s0 is up with 10.0.0.5/24; nothing was changed: stop using it first, or pass force"));
        assertEquals(6, run("rebind", "03:00.0"));
        assertOneErrorLine("in use, nothing was changed: enp3s0 is up with 10.0.0.5/24; nothing was changed: stop using it first, "
                + "or pass force (stop using it first; --force takes it anyway, an admin's decision)");
    }

    @Test
    void no_such_device_exits_2() {
        assertEquals(2, run("show", "0000:0b:00.0"));
        assertOneErrorLine("no PCI device 0000:0b:00.0");
        assertEquals("", out);
    }

    @Test
    void rebind_and_restore_pass_their_options_and_print_the_result() {
        assertEquals(0, run("rebind", "03:00.0", "--persist", "--no-ask", "--timeout", "3000"));
        assertEquals(new FakeVfiod.Call("rebind", "0000:03:00.0",
                RebindOptions.none().withPersist().withoutUserInteraction().withTimeoutMillis(3000)), fake.mutations().get(0));
        assertEquals("0000:03:00.0 is on vfio-pci; persistent\n", out);
        assertEquals(0, run("restore", "03:00.0", "--json"));
        assertEquals("{\"operation\":\"restore\",\"address\":\"0000:03:00.0\",\"driver\":\"e1000e\",\"dryRun\":false,"
                + "\"group\":false,\"persist\":false,\"owner\":null,\"devices\":[],\"drivers\":{},\"iommuGroup\":null,\"groupNode\":null,"
                + "\"deviceNodes\":{},\"nodes\":[],\"access\":[],\"steps\":[],\"users\":[]}\n", out);
        assertEquals(0, run("rebind", "03:00.0", "--owner", "1000"));
        assertEquals(RebindOptions.none().withOwner(1000), fake.mutations().get(2).options());
        assertEquals(64, run("rebind", "03:00.0", "--owner", "alice"));
        assertEquals(64, run("restore", "03:00.0", "--owner", "1000"));
    }

    @Test
    void each_daemon_error_becomes_its_exit_code_and_one_line() {
        Object[][] cases = {
            {new Error.Failed("probe of 0000:03:00.0 failed; it is back on e1000e"), 1},
            {new Error.Timeout("unbind of 0000:03:00.0 did not return within 10 s"), 1},
            {new Error.GroupNotViable("0000:01:00.0 shares IOMMU group 1 with 0000:01:00.1 (snd_hda_intel)"), 1},
            {new Error.NoVfioDriver("no vfio driver matches 0000:03:00.0"), 1},
            {new Error.NoSuchDevice("no PCI device 0000:03:00.0"), 2},
            {new org.freedesktop.dbus.errors.AccessDenied("not authorized: ...; nothing was changed"), 3},
            {new Error.Busy("too many Rebind/Restore calls in flight; try again shortly"), 5},
            {new Error.InvalidArgument("'x' is not a vfio driver"), 64},
        };
        for (Object[] c : cases) {
            RuntimeException ex = (RuntimeException) c[0];
            fake.failNext = ex;
            assertEquals((int) c[1], run("rebind", "03:00.0"), ex.toString());
            assertOneErrorLine(ex.getMessage());
            assertEquals("", out);
        }
    }

    @Test
    void an_unreachable_bus_or_daemon_exits_4() {
        unavailable = new Exit.Unavailable("cannot connect to the bus at unix:path=/nope: No such file or directory", null);
        assertEquals(4, run("list"));
        assertOneErrorLine("cannot connect to the bus at unix:path=/nope: No such file or directory");
        unavailable = null;
        fake.failNext = new org.freedesktop.dbus.errors.ServiceUnknown("The name org.vfiod was not provided by any .service files");
        assertEquals(4, run("list"));
        assertTrue(err.startsWith("vfioctl: vfiod is not running"), err);
    }

    @Test
    void resolve() {
        assertEquals(0, run("resolve", "pci:v00008086d000010D3sv00008086sd0000A01Fbc02sc00i00"));
        assertTrue(out.startsWith("module:           vfio_pci\ndriver:           vfio-pci\n"), out);
        assertEquals(0, run("resolve", "--json", "pci:v1"));
        assertTrue(out.startsWith("{\"modalias\":\"pci:v1\",\"module\":\"vfio_pci\",\"driver\":\"vfio-pci\""), out);
        fake.failNext = new Error.NoVfioDriver("no vfio_ alias matches usb:v1");
        assertEquals(1, run("resolve", "usb:v1"));
    }

    @Test
    void monitor_prints_one_line_per_event_and_exits_4_when_the_bus_goes() {
        String path = FakeVfiod.path("0000:03:00.0");
        fake.events.add(() -> fake.listener.changed(path, FakeVfiod.props("State", "busy")));
        fake.events.add(() -> fake.listener.changed(path, FakeVfiod.props("Driver", "vfio-pci", "State", "vfio")));
        fake.events.add(() -> fake.listener.removed(FakeVfiod.path("0000:04:00.1")));
        fake.events.add(() -> fake.listener.added(FakeVfiod.path("0000:04:00.1")));
        fake.events.add(() -> fake.listener.daemon(false));
        assertEquals(4, run("monitor"));
        String[] lines = out.split("\n");
        assertEquals(5, lines.length, out);
        assertTrue(lines[1].matches("\\d\\d:\\d\\d:\\d\\d\\.\\d{3} changed 0000:03:00.0 Driver=vfio-pci State=vfio"), lines[1]);
        assertTrue(lines[2].endsWith(" removed 0000:04:00.1"));
        assertTrue(lines[3].endsWith(" added 0000:04:00.1"));
        assertTrue(lines[4].endsWith(" vfiod-stopped"));
        assertOneErrorLine("lost the connection to the bus");

        assertEquals(4, run("monitor", "--json"));
        lines = out.split("\n");
        assertEquals(5, lines.length);
        assertTrue(lines[0].matches("\\{\"time\":\"\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z\",\"event\":\"changed\",\"address\":\"0000:03:00.0\","
                + "\"path\":\"[^\"]+\",\"properties\":\\{\"State\":\"busy\"}}"), lines[0]);
        assertTrue(lines[4].endsWith("\"event\":\"vfiod-stopped\"}"), lines[4]);
    }

    @Test
    void monitor_without_a_daemon_exits_4_at_once() {
        fake.failNext = new org.freedesktop.dbus.errors.ServiceUnknown("The name org.vfiod was not provided by any .service files");
        assertEquals(4, run("monitor"));
        assertEquals("", out);
    }

    @Test
    void import_driverctl_reports_each_file(@TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve("pci-0000:03:00.0"), "vfio-pci\n");
        Files.writeString(dir.resolve("pci-0000:04:00.0"), "mlx5_core\n");
        Files.writeString(dir.resolve("pci-nonsense"), "vfio-pci\n");
        assertEquals(1, run("import-driverctl", "--dir", dir.toString(), "--dry-run"));
        String[] lines = out.split("\n");
        assertEquals(4, lines.length, out);
        assertTrue(lines[1].matches("pci-0000:03:00.0 +vfio-pci +would-import +0000:03:00.0 would be on vfio-pci; persistent \\(dry run: nothing changed\\)"), lines[1]);
        assertTrue(lines[2].matches("pci-0000:04:00.0 +mlx5_core +skipped +not a vfio driver"), lines[2]);
        assertTrue(lines[3].matches("pci-nonsense +vfio-pci +invalid +'pci-nonsense' does not name a PCI device.*"), lines[3]);
        assertOneErrorLine("1 of 3 driverctl overrides were not taken over");
        assertTrue(fake.mutations().get(0).options().dryRun());
    }

    @Test
    void import_driverctl_from_a_file_is_a_usage_error(@TempDir Path dir) throws IOException {
        Path file = Files.writeString(dir.resolve("pci-0000:03:00.0"), "vfio-pci\n");
        assertEquals(64, run("import-driverctl", "--dir", file.toString()));
        assertOneErrorLine("not a directory: " + file);
    }

    @Test
    void import_driverctl_directories(@TempDir Path dir) {
        assertEquals(64, run("import-driverctl", "--dir", dir.resolve("missing").toString()));
        assertOneErrorLine("no such directory: " + dir.resolve("missing"));
        assertEquals(0, run("import-driverctl", "--dir", dir.toString(), "--json"));
        assertEquals("[]\n", out);
        assertTrue(connectedTo.isEmpty(), "nothing to import needs no daemon");
    }
}
