package org.vfiod.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vfiod.cli.DriverctlImport.Entry;
import org.vfiod.cli.DriverctlImport.Kind;
import org.vfiod.cli.DriverctlImport.Outcome;
import org.vfiod.client.RebindOptions;
import org.vfiod1.Error;

class DriverctlImportTest {
    @TempDir
    Path dir;

    private void file(String name, String content) throws IOException {
        Files.writeString(dir.resolve(name), content);
    }

    /** What driverctl leaves behind, plus what a person or an editor might. */
    private void driverctlDir() throws IOException {
        file("pci-0000:03:00.0", "vfio-pci\n");           // driverctl set-override 0000:03:00.0 vfio-pci
        file("pci-0000:04:00.1", "mlx5_vfio_pci\n");      // a variant driver
        file("pci-0000:04:00.0", "e1000e\n");             // not vfio: skipped
        file("pci-0000:00:02.0", "none\n");               // driverctl set-override ... none
        file("pci-garbage", "vfio-pci\n");                // malformed name
        file("pci-0000:05:00.0", "");                     // empty
        file("pci-0000:06:00.0", "vfio-pci\nextra\n");    // two lines
        file("pci-0000:07:00.0~", "vfio-pci\n");          // an editor's backup
        file("platform-foo.0", "vfio-platform\n");        // another bus: not ours
        file(".pci-0000:08:00.0.swp", "x");               // hidden: not ours
        Files.createDirectory(dir.resolve("pci-0000:09:00.0"));
    }

    @Test
    void scan_classifies_every_pci_file_in_name_order() throws IOException {
        driverctlDir();
        List<Entry> entries = DriverctlImport.scan(dir);
        assertEquals(List.of("pci-0000:00:02.0", "pci-0000:03:00.0", "pci-0000:04:00.0", "pci-0000:04:00.1",
                "pci-0000:05:00.0", "pci-0000:06:00.0", "pci-0000:07:00.0~", "pci-0000:09:00.0", "pci-garbage"),
                entries.stream().map(Entry::file).toList());
        assertEquals(new Entry("pci-0000:03:00.0", "0000:03:00.0", "vfio-pci", Kind.VFIO, ""), entries.get(1));
        assertEquals(new Entry("pci-0000:04:00.1", "0000:04:00.1", "mlx5_vfio_pci", Kind.VFIO, ""), entries.get(3));
        assertEquals(Kind.SKIPPED, entries.get(2).kind());
        assertEquals("not a vfio driver", entries.get(2).reason());
        assertEquals(Kind.SKIPPED, entries.get(0).kind());
        for (int i : new int[] {4, 5, 6, 7, 8}) assertEquals(Kind.INVALID, entries.get(i).kind(), entries.get(i).toString());
        assertTrue(entries.get(4).reason().contains("empty"));
        assertTrue(entries.get(5).reason().contains("is not a driver name"));
        assertTrue(entries.get(6).reason().contains("does not name a PCI device"));
        assertTrue(entries.get(7).reason().contains("directory"));
        assertNull(entries.get(8).address());
    }

    @Test
    void parse_accepts_what_driverctl_writes() {
        assertEquals(new Entry("pci-0000:0a:00.0", "0000:0a:00.0", "vfio-pci", Kind.VFIO, ""),
                DriverctlImport.parse("pci-0000:0a:00.0", "vfio-pci\n"));
        assertEquals(Kind.VFIO, DriverctlImport.parse("pci-0000:0A:00.0", "  vfio_pci  \r\n").kind());
        assertEquals(Kind.VFIO, DriverctlImport.parse("pci-0000:81:00.2", "hisi_acc_vfio_pci").kind());
        assertEquals(Kind.SKIPPED, DriverctlImport.parse("pci-0000:00:1f.3", "snd_hda_intel\n").kind());
        assertEquals(Kind.INVALID, DriverctlImport.parse("pci-0000:00:1f.3", "../../x\n").kind());
        assertEquals(Kind.INVALID, DriverctlImport.parse("pci-", "vfio-pci").kind());
    }

    @Test
    void a_file_too_long_to_be_a_driver_name_is_invalid() throws IOException {
        file("pci-0000:03:00.0", "vfio-pci".repeat(100));
        Entry e = DriverctlImport.scan(dir).get(0);
        assertEquals(Kind.INVALID, e.kind());
        assertTrue(e.reason().contains("too long"));
    }

    @Test
    void run_rebinds_each_vfio_override_persistently_with_its_driver() throws Exception {
        driverctlDir();
        FakeVfiod fake = FakeVfiod.demo();
        fake.mutate = c -> c.options().driver().orElseThrow();
        List<Outcome> out = DriverctlImport.run(DriverctlImport.scan(dir), fake, false, true);
        assertEquals(List.of(
                new FakeVfiod.Call("rebind", "0000:03:00.0", RebindOptions.none().withPersist().withDriver("vfio-pci").withoutUserInteraction()),
                new FakeVfiod.Call("rebind", "0000:04:00.1", RebindOptions.none().withPersist().withDriver("mlx5_vfio_pci").withoutUserInteraction())),
                fake.mutations());
        assertEquals(List.of("skipped", "imported", "skipped", "imported", "invalid", "invalid", "invalid", "invalid", "invalid"),
                out.stream().map(Outcome::outcome).toList());
        assertEquals("0000:03:00.0 is on vfio-pci; persistent", out.get(1).detail());
        assertEquals(1, DriverctlImport.exitCode(out), "invalid files make the run fail");
    }

    @Test
    void dry_run_asks_for_a_dry_run() throws Exception {
        file("pci-0000:03:00.0", "vfio-pci\n");
        FakeVfiod fake = FakeVfiod.demo();
        List<Outcome> out = DriverctlImport.run(DriverctlImport.scan(dir), fake, true, false);
        assertEquals(RebindOptions.none().withPersist().withDriver("vfio-pci").withDryRun(), fake.mutations().get(0).options());
        assertEquals("would-import", out.get(0).outcome());
        assertEquals(0, DriverctlImport.exitCode(out));
    }

    @Test
    void a_gpu_and_its_audio_function_move_as_a_group() throws Exception {
        file("pci-0000:01:00.0", "vfio-pci\n");
        file("pci-0000:01:00.1", "vfio-pci\n");
        FakeVfiod fake = FakeVfiod.demo();
        List<Outcome> out = DriverctlImport.run(DriverctlImport.scan(dir), fake, false, false);
        assertTrue(fake.mutations().stream().allMatch(c -> c.options().group()), fake.mutations().toString());
        assertTrue(out.get(0).group());
        assertEquals(0, DriverctlImport.exitCode(out));
    }

    @Test
    void a_group_member_without_an_override_is_not_taken_along() throws Exception {
        file("pci-0000:01:00.0", "vfio-pci\n");
        FakeVfiod fake = FakeVfiod.demo();
        fake.mutate = c -> {
            throw new Error.GroupNotViable("0000:01:00.0 shares IOMMU group 1 with 0000:01:00.1 (snd_hda_intel)");
        };
        List<Outcome> out = DriverctlImport.run(DriverctlImport.scan(dir), fake, false, false);
        assertFalse(fake.mutations().get(0).options().group());
        assertEquals("failed", out.get(0).outcome());
        assertTrue(out.get(0).detail().contains("shares IOMMU group"));
        assertEquals(1, DriverctlImport.exitCode(out));
    }

    @Test
    void a_device_that_is_not_there_fails_with_no_device() throws Exception {
        file("pci-0000:0b:00.0", "vfio-pci\n");
        List<Outcome> out = DriverctlImport.run(DriverctlImport.scan(dir), FakeVfiod.demo(), false, false);
        assertEquals("failed", out.get(0).outcome());
        assertEquals(2, DriverctlImport.exitCode(out));
    }

    @Test
    void failures_that_agree_keep_their_code_mixed_ones_are_1() throws Exception {
        file("pci-0000:03:00.0", "vfio-pci\n");
        file("pci-0000:04:00.1", "vfio-pci\n");
        FakeVfiod fake = FakeVfiod.demo();
        fake.mutate = c -> {
            throw new org.freedesktop.dbus.errors.AccessDenied("not authorized");
        };
        List<Outcome> out = DriverctlImport.run(DriverctlImport.scan(dir), fake, false, false);
        assertEquals(3, DriverctlImport.exitCode(out));
        fake.mutate = c -> {
            if (c.address().equals("0000:03:00.0")) throw new Error.Busy("busy");
            throw new Error.Timeout("timeout");
        };
        out = DriverctlImport.run(DriverctlImport.scan(dir), fake, false, false);
        assertEquals(List.of(5, 1), out.stream().map(Outcome::code).toList());
        assertEquals(1, DriverctlImport.exitCode(out));
    }

    @Test
    void an_unreachable_daemon_stops_the_run() throws Exception {
        file("pci-0000:03:00.0", "vfio-pci\n");
        file("pci-0000:04:00.1", "vfio-pci\n");
        FakeVfiod fake = FakeVfiod.demo();
        fake.mutate = c -> {
            throw new org.freedesktop.dbus.errors.ServiceUnknown("The name org.vfiod was not provided");
        };
        List<Entry> entries = DriverctlImport.scan(dir);
        assertThrows(org.freedesktop.dbus.errors.ServiceUnknown.class, () -> DriverctlImport.run(entries, fake, false, false));
        assertEquals(1, fake.mutations().size());
    }

    @Test
    void only_skipped_files_need_no_daemon() throws Exception {
        file("pci-0000:04:00.0", "e1000e\n");
        List<Outcome> out = DriverctlImport.run(DriverctlImport.scan(dir), null, false, false);
        assertEquals("skipped", out.get(0).outcome());
        assertEquals(0, DriverctlImport.exitCode(out));
    }

    @Test
    void report() throws Exception {
        file("pci-0000:03:00.0", "vfio-pci\n");
        file("pci-0000:04:00.0", "e1000e\n");
        List<Outcome> out = DriverctlImport.run(DriverctlImport.scan(dir), FakeVfiod.demo(), false, false);
        assertEquals("""
                FILE              DRIVER    OUTCOME   DETAIL
                pci-0000:03:00.0  vfio-pci  imported  0000:03:00.0 is on vfio-pci; persistent
                pci-0000:04:00.0  e1000e    skipped   not a vfio driver
                """, DriverctlImport.table(out));
        assertEquals("[{\"file\":\"pci-0000:03:00.0\",\"address\":\"0000:03:00.0\",\"driver\":\"vfio-pci\",\"outcome\":\"imported\","
                + "\"detail\":\"0000:03:00.0 is on vfio-pci; persistent\",\"group\":false,\"exitCode\":0},"
                + "{\"file\":\"pci-0000:04:00.0\",\"address\":\"0000:04:00.0\",\"driver\":\"e1000e\",\"outcome\":\"skipped\","
                + "\"detail\":\"not a vfio driver\",\"group\":false,\"exitCode\":0}]", Json.write(DriverctlImport.json(out)));
    }
}
