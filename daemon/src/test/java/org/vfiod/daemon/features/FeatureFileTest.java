package org.vfiod.daemon.features;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class FeatureFileTest {
    /** A Kubernetes label: an optional DNS-subdomain prefix, then a name of at most 63 characters; a value likewise. */
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?");
    private static final Pattern PREFIX = Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");

    /** The labels the file gives, as NFD's local source reads it: key=value lines, # comments skipped. */
    private static Map<String, String> labels(String text) {
        Map<String, String> out = new TreeMap<>();
        for (String line : text.split("\n")) {
            if (line.isBlank() || line.startsWith("#")) continue;
            int eq = line.indexOf('=');
            assertTrue(eq > 0, "a key=value line: " + line);
            String key = line.substring(0, eq), value = line.substring(eq + 1);
            int slash = key.indexOf('/');
            assertTrue(slash > 0, "every key in vfiod's namespace: " + key);
            assertEquals(FeatureFile.NAMESPACE, key.substring(0, slash));
            assertTrue(PREFIX.matcher(key.substring(0, slash)).matches(), key);
            assertTrue(NAME.matcher(key.substring(slash + 1)).matches(), "a label name: " + key);
            assertTrue(NAME.matcher(value).matches(), "a label value: " + value);
            assertEquals(null, out.put(key, value), "one line per key: " + key);
        }
        return out;
    }

    @Test
    void countsEachModelAndNamesItsDriver() {
        String text = FeatureFile.render(List.of(new VfioDevice(0x10de, 0x1db6, "vfio-pci"), new VfioDevice(0x15b3, 0x101e, "mlx5_vfio_pci"),
                new VfioDevice(0x10de, 0x1db6, "vfio-pci"))).text();
        assertEquals(Map.of(
                "vfiod.org/vfio.count", "3",
                "vfiod.org/vfio-10de-1db6.count", "2",
                "vfiod.org/vfio-10de-1db6.driver", "vfio-pci",
                "vfiod.org/vfio-15b3-101e.count", "1",
                "vfiod.org/vfio-15b3-101e.driver", "mlx5_vfio_pci"), labels(text));
    }

    @Test
    void aModelOnSeveralDriversCountsEach() {
        Map<String, String> l = labels(FeatureFile.render(List.of(new VfioDevice(0x15b3, 0x101e, "mlx5_vfio_pci"),
                new VfioDevice(0x15b3, 0x101e, "vfio-pci"), new VfioDevice(0x15b3, 0x101e, "vfio-pci"))).text());
        assertEquals("3", l.get("vfiod.org/vfio-15b3-101e.count"));
        assertEquals("mixed", l.get("vfiod.org/vfio-15b3-101e.driver"));
        assertEquals("2", l.get("vfiod.org/vfio-15b3-101e.driver.vfio-pci"));
        assertEquals("1", l.get("vfiod.org/vfio-15b3-101e.driver.mlx5_vfio_pci"));
    }

    @Test
    void noDeviceOnVfioIsACountOfZero() {
        assertEquals(Map.of("vfiod.org/vfio.count", "0"), labels(FeatureFile.render(List.of()).text()));
    }

    @Test
    void theSameDevicesInAnyOrderGiveTheSameBytes() {
        List<VfioDevice> devices = new ArrayList<>();
        for (int i = 0; i < 40; i++) devices.add(new VfioDevice(0x1000 + i % 7, 0x2000 + i % 5, i % 3 == 0 ? "vfio-pci" : "nvgrace_gpu_vfio_pci"));
        String first = FeatureFile.render(devices).text();
        Collections.shuffle(devices, new java.util.Random(7));
        assertEquals(first, FeatureFile.render(devices).text());
    }

    @Test
    void aDriverNameThatIsNoLabelValueCountsAsOther() {
        String weird = "x".repeat(FeatureFile.MAX_DRIVER + 1);
        Map<String, String> l = labels(FeatureFile.render(List.of(new VfioDevice(1, 2, weird), new VfioDevice(1, 3, "bad name"),
                new VfioDevice(1, 4, ""))).text());
        assertEquals("other", l.get("vfiod.org/vfio-0001-0002.driver"));
        assertEquals("other", l.get("vfiod.org/vfio-0001-0003.driver"));
        assertEquals("other", l.get("vfiod.org/vfio-0001-0004.driver"));
        String longest = "y".repeat(FeatureFile.MAX_DRIVER);
        labels(FeatureFile.render(List.of(new VfioDevice(1, 2, longest), new VfioDevice(1, 2, "vfio-pci"))).text());
    }

    @Test
    void moreModelsThanFitStayUnderTheLimitAndSaySo() {
        List<VfioDevice> devices = new ArrayList<>();
        for (int v = 0; v < 40; v++) for (int d = 0; d < 100; d++) devices.add(new VfioDevice(0x1000 + v, d, "vfio-pci"));
        FeatureFile.Rendered r = FeatureFile.render(devices);
        int size = r.text().getBytes(StandardCharsets.UTF_8).length;
        assertTrue(size <= FeatureFile.MAX_BYTES, size + " bytes");
        assertTrue(size > FeatureFile.MAX_BYTES - 200, "filled up to the limit: " + size);
        assertTrue(r.modelsLeftOut() > 0);
        Map<String, String> l = labels(r.text());
        long models = l.keySet().stream().filter(k -> k.endsWith(".count") && !k.equals("vfiod.org/vfio.count")).count();
        assertEquals(4000, models + r.modelsLeftOut());
        assertEquals("4000", l.get("vfiod.org/vfio.count"), "the total counts every device");
        assertTrue(r.text().contains("# " + r.modelsLeftOut() + " model(s) left out"), r.text().substring(r.text().length() - 200));
        assertTrue(l.containsKey("vfiod.org/vfio-1000-0000.count"), "the lowest ids are kept");
        assertFalse(l.containsKey("vfiod.org/vfio-1027-0063.count"), "the highest are left out");

        FeatureFile.Rendered fits = FeatureFile.render(devices.subList(0, 100));
        assertEquals(0, fits.modelsLeftOut());
        assertFalse(fits.text().contains("left out"));
    }
}
