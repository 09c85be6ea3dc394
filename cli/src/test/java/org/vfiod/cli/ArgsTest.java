package org.vfiod.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Optional;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.vfiod.client.RebindOptions;

class ArgsTest {
    private static Command parse(String... args) throws UsageException {
        return Args.parse(args).command();
    }

    private static String usage(String... args) {
        return assertThrows(UsageException.class, () -> Args.parse(args)).getMessage();
    }

    @Test
    void list() throws Exception {
        assertInstanceOf(Command.ListDevices.class, parse("list"));
        Command.Invocation inv = Args.parse("--json", "list");
        assertTrue(inv.json());
        assertNull(inv.busAddress());
        assertTrue(Args.parse("list", "--json").json());
    }

    @Test
    void show_takes_an_address_in_either_form_or_an_object_path() throws Exception {
        assertEquals(new Command.Show("0000:03:00.0"), parse("show", "0000:03:00.0"));
        assertEquals(new Command.Show("0000:03:00.0"), parse("show", "03:00.0"));
        assertEquals(new Command.Show("0000:0a:1f.7"), parse("show", "0A:1F.7"));
        assertEquals(new Command.Show("0000:01:00.1"), parse("show", "/org/vfiod/devices/pci_0000_3a01_3a00_2e1"));
        assertEquals(new Command.Show("0000:01:00.1"), parse("show", "pci:01:00.1"));
        assertEquals(new Command.Show("0000:01:00.1"), parse("show", "pci:0000:01:00.1"));
    }

    @Test
    void a_device_of_another_bus_is_bus_colon_name_or_its_object_path() throws Exception {
        assertEquals(new Command.Show("platform:a000000.virtio_mmio"), parse("show", "platform:a000000.virtio_mmio"));
        assertEquals(new Command.Show("platform:a000000.virtio_mmio"), parse("show", "/org/vfiod/devices/platform_a000000_2evirtio_5fmmio"));
        assertEquals(new Command.Show("fsl-mc:dprc.1"), parse("show", "/org/vfiod/devices/fsl_2dmc_dprc_2e1"));
        assertEquals(new Command.Show("cdx:cdx-00:01"), parse("show", "cdx:cdx-00:01"));
        // which names a bus gives, and which buses there are, is vfiod's to say (InvalidArgument, exit 64 too)
        assertEquals(new Command.Show("zz:00.0"), parse("show", "zz:00.0"));
        RebindOptions none = new RebindOptions(false, false, false, false, Optional.empty(), OptionalLong.empty(), false);
        assertEquals(new Command.Rebind("platform:a000000.virtio_mmio", none), parse("rebind", "platform:a000000.virtio_mmio"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"3:00.0", "0000:03:20.0", "0000:03:00.8", "0000-03:00.0", "00000:03:00.0", "pci:zz:00.0",
            "pci:0000:03:00.8", "platform:../x", "platform:a/b", "platform:", ":a", "Platform:a", "platform:a b",
            "platform:..", "/org/vfiod/devices/pci_0000_03_00_0", "/org/vfiod/devices/pci_0000_3a03_3a00_2e0/x",
            "/org/vfiod/devices/usb_1_2d1", "/org/vfiod", "", "0000:03:00.0\n"})
    void a_device_that_is_neither_address_nor_path_is_a_usage_error(String dev) {
        assertTrue(usage("show", dev).contains("is not a device: a PCI address"), dev);
    }

    @Test
    void rebind_with_every_option() throws Exception {
        Command c = parse("rebind", "01:00.0", "--group", "--persist", "--force", "--dry-run", "--driver", "vfio-pci",
                "--timeout", "2500", "--no-ask");
        RebindOptions o = new RebindOptions(true, true, true, true, Optional.of("vfio-pci"), OptionalLong.of(2500), true);
        assertEquals(new Command.Rebind("0000:01:00.0", o), c);
    }

    @Test
    void rebind_options_may_come_first_and_take_values_with_equals() throws Exception {
        Command c = parse("--driver=mlx5_vfio_pci", "--timeout=10", "rebind", "04:00.1");
        RebindOptions o = RebindOptions.none().withDriver("mlx5_vfio_pci").withTimeoutMillis(10);
        assertEquals(new Command.Rebind("0000:04:00.1", o), c);
        assertEquals(new Command.Rebind("0000:03:00.0", RebindOptions.none()), parse("rebind", "03:00.0"));
    }

    @Test
    void restore_with_its_options() throws Exception {
        assertEquals(new Command.Restore("0000:03:00.0", RebindOptions.none().withPersist().withGroup().withDryRun()),
                parse("restore", "03:00.0", "--persist", "--group", "--dry-run"));
        assertEquals(new Command.Restore("0000:03:00.0", RebindOptions.none().withTimeoutMillis(5).withoutUserInteraction()),
                parse("restore", "--timeout", "5", "--no-ask", "03:00.0"));
    }

    @Test
    void resolve_monitor_help() throws Exception {
        assertEquals(new Command.Resolve("pci:v00008086d000010D3sv*"), parse("resolve", "pci:v00008086d000010D3sv*"));
        assertEquals(new Command.Resolve("-odd"), parse("resolve", "--", "-odd"));
        assertInstanceOf(Command.Monitor.class, parse("monitor", "--json"));
        assertInstanceOf(Command.Help.class, parse("help"));
        assertInstanceOf(Command.Help.class, parse("--help"));
        assertInstanceOf(Command.Help.class, parse("rebind", "-h"));
        // --help wins over a command line that is otherwise wrong
        assertInstanceOf(Command.Help.class, parse("rebind", "--help"));
    }

    @Test
    void import_driverctl() throws Exception {
        assertEquals(new Command.ImportDriverctl(Path.of("/etc/driverctl.d"), false, false, false), parse("import-driverctl"));
        assertEquals(new Command.ImportDriverctl(Path.of("/tmp/d"), true, true, true),
                parse("import-driverctl", "--dir", "/tmp/d", "--dry-run", "--no-ask"));
    }

    @Test
    void address_is_global() throws Exception {
        Command.Invocation inv = Args.parse("--address", "unix:path=/tmp/bus", "show", "03:00.0");
        assertEquals("unix:path=/tmp/bus", inv.busAddress());
        assertEquals("unix:path=/x", Args.parse("list", "--address=unix:path=/x").busAddress());
        assertFalse(inv.json());
    }

    @Test
    void unknown_options_and_commands() {
        assertTrue(usage("list", "--frobnicate").contains("unknown option '--frobnicate'"));
        assertTrue(usage("-x", "list").contains("unknown option '-x'"));
        assertTrue(usage("lsit").contains("unknown command 'lsit'"));
        assertTrue(usage().contains("no command given"));
        assertTrue(usage("--json").contains("no command given"));
    }

    @Test
    void options_of_other_commands_are_refused() {
        assertTrue(usage("restore", "03:00.0", "--driver", "vfio-pci").contains("--driver does not apply to 'restore'"));
        assertTrue(usage("restore", "03:00.0", "--force").contains("--force does not apply"));
        assertTrue(usage("list", "--group").contains("--group does not apply to 'list'"));
        assertTrue(usage("show", "03:00.0", "--dry-run").contains("does not apply"));
        assertTrue(usage("import-driverctl", "--persist").contains("does not apply"));
        assertTrue(usage("monitor", "--dir", "/x").contains("does not apply"));
    }

    @Test
    void arguments_are_counted() {
        assertTrue(usage("show").contains("needs a device"));
        assertTrue(usage("rebind").contains("needs a device"));
        assertTrue(usage("restore", "--persist").contains("needs a device"));
        assertTrue(usage("show", "03:00.0", "03:00.1").contains("takes one device"));
        assertTrue(usage("resolve").contains("needs a modalias"));
        assertTrue(usage("resolve", "a", "b").contains("takes one modalias"));
        assertTrue(usage("list", "extra").contains("takes no arguments"));
        assertTrue(usage("monitor", "extra").contains("takes no arguments"));
        assertTrue(usage("import-driverctl", "/etc/driverctl.d").contains("takes no arguments"));
    }

    @Test
    void option_values_are_checked() {
        assertTrue(usage("rebind", "03:00.0", "--timeout").contains("--timeout needs a value"));
        for (String t : new String[] {"0", "-5", "abc", "600001", "1.5", "", "99999999"}) {
            assertTrue(usage("rebind", "03:00.0", "--timeout=" + t).contains("--timeout takes milliseconds"), t);
        }
        assertTrue(usage("rebind", "03:00.0", "--driver", "../evil").contains("is not a driver name"));
        assertTrue(usage("rebind", "03:00.0", "--driver", "-pci").contains("is not a driver name"));
        assertTrue(usage("rebind", "03:00.0", "--group=yes").contains("--group takes no value"));
        assertTrue(usage("rebind", "03:00.0", "--driver", "a", "--driver", "b").contains("given twice"));
        assertTrue(usage("--address", " ", "list").contains("--address needs a bus address"));
        assertTrue(usage("import-driverctl", "--dir=").contains("--dir needs a directory"));
        assertTrue(usage("resolve", "").contains("empty"));
    }

    @Test
    void timeout_bounds() throws Exception {
        assertEquals(1, Args.timeoutMillis("1"));
        assertEquals(600_000, Args.timeoutMillis("600000"));
    }

    @Test
    void messages_stay_on_one_line() {
        String m = usage("frob\nnicate");
        assertFalse(m.contains("\n"), m);
    }
}
