package org.vfiod.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.vfiod.client.Assignment;
import org.vfiod.client.DeviceInfo;
import org.vfiod.client.RebindOptions;
import org.vfiod.client.Resolution;

class RenderTest {
    @Test
    void table_aligns_columns_and_does_not_pad_the_last() {
        String t = new Table("A", "LONGER", "LAST").add("xxxx", "y", "z z").add("", null, "tail").toString();
        assertEquals("""
                A     LONGER  LAST
                xxxx  y       z z
                -     -       tail
                """, t);
    }

    @Test
    void table_has_no_trailing_blanks_and_no_control_characters() {
        String t = new Table("A", "B").add("a", "").add("evil\u001b[2J", "line\nbreak").toString();
        for (String line : t.split("\n")) assertFalse(line.endsWith(" "), "[" + line + "]");
        assertFalse(t.contains("\u001b"));
        assertTrue(t.contains("evil?[2J"));
        assertEquals(3, t.split("\n").length, t);
    }

    @Test
    void device_table_like_lspci() {
        FakeVfiod demo = FakeVfiod.demo();
        DeviceInfo named = new DeviceInfo("/org/vfiod/devices/pci_0000_3a00_3a02_2e0", "0000:00:02.0", "pci", "pci:x", 0x8086,
                0x9a49, 0x030000, "Intel Corporation", "TigerLake-LP GT2 [Iris Xe Graphics]", "i915", "", "vfio_pci",
                2, List.of("/org/vfiod/devices/pci_0000_3a00_3a02_2e0"), true, true, "host");
        demo.with(named);
        String t = Render.table(demo.devices());
        String[] lines = t.split("\n");
        assertEquals("ADDRESS       VENDOR:DEVICE  DRIVER         VFIO DRIVER  GROUP  STATE  PERSISTENT  NAME", lines[0]);
        assertEquals("0000:00:01.0  8086:9a09      pcieport       vfio_pci     1      host   no          Bridge", lines[1]);
        assertEquals("0000:00:02.0  8086:9a49      i915           vfio_pci     2      host   yes         "
                + "Display controller: Intel Corporation TigerLake-LP GT2 [Iris Xe Graphics] [boot VGA]", lines[2]);
        assertEquals("0000:01:00.1  1002:ab28      snd_hda_intel  vfio_pci     1      host   no          Multimedia controller", lines[4]);
        assertEquals(8, lines.length);
    }

    @Test
    void device_table_shows_missing_values_as_dashes() {
        DeviceInfo bare = new DeviceInfo("/p", "0000:05:00.0", "pci", "", -1, -1, 0xff0000, "", "", "", "", "", -1,
                List.of(), false, false, "unbound");
        String row = Render.table(List.of(bare)).split("\n")[1];
        assertEquals("0000:05:00.0  ????:????      -       -            -      unbound  no          Unassigned class", row);
    }

    @Test
    void device_json() {
        DeviceInfo d = FakeVfiod.demo().devices.get("0000:01:00.0");
        assertEquals("{\"address\":\"0000:01:00.0\",\"path\":\"/org/vfiod/devices/pci_0000_3a01_3a00_2e0\",\"subsystem\":\"pci\","
                + "\"vendorId\":\"1002\",\"deviceId\":\"73bf\",\"class\":\"030000\",\"className\":\"Display controller\","
                + "\"vendor\":null,\"product\":null,\"modalias\":\"" + d.modalias() + "\",\"driver\":\"amdgpu\","
                + "\"driverOverride\":null,\"vfioDriver\":\"vfio_pci\",\"iommuGroup\":1,"
                + "\"groupDevices\":[\"0000:00:01.0\",\"0000:01:00.0\",\"0000:01:00.1\"],\"bootVga\":false,"
                + "\"persistent\":false,\"state\":\"host\",\"vfioGroupNode\":null,\"vfioDeviceNode\":null,\"access\":[]}",
                Json.write(Render.json(d)));
    }

    @Test
    void show_lists_every_property() {
        String s = Render.show(FakeVfiod.demo().devices.get("0000:01:00.1"));
        assertTrue(s.startsWith("0000:01:00.1  Multimedia controller\n"), s);
        assertTrue(s.contains("\n  vendor:device:    1002:ab28\n"), s);
        assertTrue(s.contains("\n  class:            040300 (Multimedia controller)\n"), s);
        assertTrue(s.contains("\n  IOMMU group:      1: 0000:00:01.0 0000:01:00.0 0000:01:00.1\n"), s);
        assertTrue(s.contains("\n  driver override:  -\n"), s);
        assertTrue(s.endsWith("  state:            host\n  used by:          nothing\n"), s);
    }

    @Test
    void showNamesTheVfioNodesAndWhoMayOpenThem() {
        DeviceInfo d = new DeviceInfo("/org/vfiod/devices/pci_0000_3a03_3a00_2e0", "0000:03:00.0", "pci", "pci:v00008086d000010D3sv00008086sd00000001bc02sc00i00",
                0x8086, 0x10d3, 0x020000, "", "", "vfio-pci", "vfio-pci", "vfio_pci", 3, List.of("/org/vfiod/devices/pci_0000_3a03_3a00_2e0"),
                false, false, "vfio", "/dev/vfio/3", "/dev/vfio/devices/vfio0", List.of(1000L, 1001L));
        String s = Render.show(d);
        assertTrue(s.contains("\n  state:            vfio\n  vfio nodes:       /dev/vfio/3 /dev/vfio/devices/vfio0\n  access:           uid 1000, 1001\n"), s);
        assertTrue(Json.write(Render.json(d)).endsWith(",\"vfioGroupNode\":\"/dev/vfio/3\",\"vfioDeviceNode\":\"/dev/vfio/devices/vfio0\",\"access\":[1000,1001]}"));
    }

    @Test
    void results() {
        assertEquals("0000:03:00.0 is on vfio-pci\n", Render.result("rebind", "0000:03:00.0", RebindOptions.none(), "vfio-pci"));
        assertEquals("0000:01:00.0 is on vfio-pci, with its IOMMU group; persistent\n",
                Render.result("rebind", "0000:01:00.0", RebindOptions.none().withGroup().withPersist(), "vfio-pci"));
        assertEquals("0000:03:00.0 would be on vfio_pci (dry run: nothing changed)\n",
                Render.result("rebind", "0000:03:00.0", RebindOptions.none().withDryRun(), "vfio_pci"));
        assertEquals("0000:03:00.0 has no driver; not persistent\n",
                Render.result("restore", "0000:03:00.0", RebindOptions.none().withPersist(), ""));
        assertEquals("0000:03:00.0 would be on e1000e (dry run: nothing changed)\n",
                Render.result("restore", "0000:03:00.0", RebindOptions.none().withDryRun(), "e1000e"));
        assertEquals("0000:03:00.0 would be on the host driver the kernel picks (dry run: nothing changed)\n",
                Render.result("restore", "0000:03:00.0", RebindOptions.none().withDryRun(), ""));
        assertEquals("{\"operation\":\"restore\",\"address\":\"0000:03:00.0\",\"driver\":null,\"dryRun\":true,"
                + "\"group\":false,\"persist\":false}", Json.write(Render.json("restore", "0000:03:00.0", RebindOptions.none().withDryRun(), "")));
    }

    @Test
    void resolution() {
        Resolution r = new Resolution("mlx5_vfio_pci", Optional.empty(), "vfio_pci:v000015B3d0000101Esv*sd*bc*sc*i*", 4, false,
                List.of("other_vfio_pci"));
        assertEquals("""
                module:           mlx5_vfio_pci
                driver:           -
                pattern:          vfio_pci:v000015B3d0000101Esv*sd*bc*sc*i*
                wildcards:        4
                builtin:          no
                tied with:        other_vfio_pci
                """, Render.resolution(r));
        assertEquals("{\"modalias\":\"pci:m\",\"module\":\"mlx5_vfio_pci\",\"driver\":null,"
                + "\"pattern\":\"vfio_pci:v000015B3d0000101Esv*sd*bc*sc*i*\",\"wildcards\":4,\"builtin\":false,"
                + "\"tie\":[\"other_vfio_pci\"]}", Json.write(Render.json("pci:m", r)));
    }

    @Test
    void monitor_lines() {
        String path = "/org/vfiod/devices/pci_0000_3a03_3a00_2e0";
        assertEquals("12:00:00.000 changed 0000:03:00.0 Driver=vfio-pci State=vfio",
                Render.event("12:00:00.000", "changed", path, FakeVfiod.props("Driver", "vfio-pci", "State", "vfio")));
        assertEquals("t changed 0000:03:00.0 DriverOverride=\"\" Persistent=true IommuGroup=3 Vendor=\"Intel Corp\\n\"",
                Render.event("t", "changed", path, FakeVfiod.props("DriverOverride", "", "Persistent", true, "IommuGroup", 3,
                        "Vendor", "Intel Corp\n")));
        assertEquals("t changed 0000:01:00.0 GroupDevices=0000:01:00.0,0000:01:00.1", Render.event("t", "changed",
                FakeVfiod.path("0000:01:00.0"), FakeVfiod.props("GroupDevices", List.of(FakeVfiod.path("0000:01:00.0"),
                        FakeVfiod.path("0000:01:00.1")))));
        assertEquals("t added 0000:05:00.0", Render.event("t", "added", FakeVfiod.path("0000:05:00.0"), null));
        assertEquals("t vfiod-stopped", Render.event("t", "vfiod-stopped", null, null));
        assertEquals("{\"time\":\"t\",\"event\":\"changed\",\"address\":\"0000:03:00.0\",\"path\":\"" + path + "\","
                        + "\"properties\":{\"Driver\":\"\",\"GroupDevices\":[\"0000:03:00.0\"]}}",
                Json.write(Render.eventJson("t", "changed", path, FakeVfiod.props("Driver", "", "GroupDevices", List.of(path)))));
        assertEquals("{\"time\":\"t\",\"event\":\"removed\",\"address\":null,\"path\":\"/odd\"}",
                Json.write(Render.eventJson("t", "removed", "/odd", null)));
    }

    @Test
    void pci_facts() {
        assertEquals("0000:03:00.0", DeviceNames.fromObjectPath("/org/vfiod/devices/pci_0000_3a03_3a00_2e0"));
        assertEquals(null, DeviceNames.fromObjectPath("/org/vfiod/devices/pci_0000_03_00_0"), "the old form");
        assertEquals(null, DeviceNames.fromObjectPath("/org/vfiod/devices/pci_0000_3a03_3a00_2e9"));
        assertEquals(null, DeviceNames.fromObjectPath("/org/vfiod/devices/pci_0000_3a03_3a00_2e0_"));
        assertEquals(null, DeviceNames.fromObjectPath("/org/vfiod/devices/pci_0000_3a0A_3a00_2e0"), "PCI paths are lower case");
        assertEquals(null, DeviceNames.fromObjectPath("/org/vfiod/devices/pci_0000_3A03_3a00_2e0"), "escapes are lower case");
        assertEquals("platform:a000000.virtio_mmio", DeviceNames.fromObjectPath("/org/vfiod/devices/platform_a000000_2evirtio_5fmmio"));
        assertEquals("fsl-mc:dprc.1", DeviceNames.fromObjectPath("/org/vfiod/devices/fsl_2dmc_dprc_2e1"));
        assertEquals("cdx:cdx-00:01", DeviceNames.fromObjectPath("/org/vfiod/devices/cdx_cdx_2d00_3a01"));
        assertEquals(null, DeviceNames.fromObjectPath("/org/vfiod/devices/platform_a_2f_2e_2e"), "a name with / is none");
        assertTrue(Pci.isVfioDriver("vfio-pci"));
        assertTrue(Pci.isVfioDriver("vfio_pci"));
        assertTrue(Pci.isVfioDriver("mlx5_vfio_pci"));
        assertTrue(Pci.isVfioDriver("hisi_acc_vfio_pci"));
        assertTrue(Pci.isVfioDriver("virtio-vfio-pci"));
        assertFalse(Pci.isVfioDriver("e1000e"));
        assertFalse(Pci.isVfioDriver("novfio"));
        assertFalse(Pci.isVfioDriver("vfiopci"));
        assertTrue(Pci.isBridge(0x060400));
        assertTrue(Pci.isBridge(0x060000));
        assertFalse(Pci.isBridge(0x060100));
        assertEquals("Processing accelerators", Pci.className(0x120000));
        assertEquals("Class 20", Pci.className(0x200000));
    }

    @Test
    void theFullAnswerListsTheNodesTheAccessTheStepsAndTheUsers() {
        Assignment a = new Assignment("vfio-pci", List.of("0000:03:00.0"), Map.of("0000:03:00.0", "vfio-pci"), 3, "/dev/vfio/3",
                Map.of("0000:03:00.0", "/dev/vfio/devices/vfio0"), List.of("/dev/vfio/3", "/dev/vfio/devices/vfio0"), List.of(1000L),
                List.of("unbind 0000:03:00.0 from e1000e", "give uid 1000 (alice) read and write access to /dev/vfio/3"),
                List.of(), false);
        RebindOptions o = RebindOptions.none().withOwner(1000);
        assertEquals("0000:03:00.0 is on vfio-pci\n"
                + "  nodes:            /dev/vfio/3 /dev/vfio/devices/vfio0\n"
                + "  access:           uid 1000\n"
                + "  done:             unbind 0000:03:00.0 from e1000e\n"
                + "                    give uid 1000 (alice) read and write access to /dev/vfio/3\n", Render.result("rebind", "0000:03:00.0", o, a));
        assertEquals("{\"operation\":\"rebind\",\"address\":\"0000:03:00.0\",\"driver\":\"vfio-pci\",\"dryRun\":false,"
                + "\"group\":false,\"persist\":false,\"owner\":1000,\"devices\":[\"0000:03:00.0\"],\"drivers\":{\"0000:03:00.0\":\"vfio-pci\"},"
                + "\"iommuGroup\":3,\"groupNode\":\"/dev/vfio/3\",\"deviceNodes\":{\"0000:03:00.0\":\"/dev/vfio/devices/vfio0\"},"
                + "\"nodes\":[\"/dev/vfio/3\",\"/dev/vfio/devices/vfio0\"],\"access\":[1000],\"steps\":[\"unbind 0000:03:00.0 from e1000e\","
                + "\"give uid 1000 (alice) read and write access to /dev/vfio/3\"],\"users\":[]}",
                Json.write(Render.json("rebind", "0000:03:00.0", o, a)));
    }
}
