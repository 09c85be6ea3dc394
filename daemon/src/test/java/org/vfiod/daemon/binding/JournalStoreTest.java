package org.vfiod.daemon.binding;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vfiod.daemon.sysfs.DeviceName;
import org.vfiod.daemon.sysfs.DriverName;
import org.vfiod.daemon.sysfs.Sysfs;

/**
 * One journal file per gate key: two moves in flight on different keys never write the same file, which is what
 * the reconcile after a crash rests on. The reconcile of a file of the earlier naming is in the sim module's
 * {@code ReconcilerTest}.
 */
class JournalStoreTest {
    @TempDir
    Path dir;

    @Test
    void anIommuGroupKeepsTheFileNameEarlierVersionsGaveIt() {
        assertEquals("group-12.journal", JournalStore.fileName("IOMMU group 12"));
        assertEquals("group-0.journal", JournalStore.fileName("IOMMU group 0"));
    }

    @Test
    void aDeviceWithoutAGroupIsNamedByItsBusAndItsNameEscaped() {
        assertEquals("device-pci-0000_3a00_3a03_2e0.journal", JournalStore.fileName("device pci 0000:00:03.0"));
        assertEquals("device-fsl_2dmc-dprc_2e1.journal", JournalStore.fileName("device fsl-mc dprc.1"));
    }

    @Test
    void distinctKeysGetDistinctFiles() {
        // the pairs the earlier naming (':' and every other odd character as '_', the bus left out) put together
        List<String> keys = List.of("IOMMU group 1", "IOMMU group 01", "IOMMU group 1 ", "device platform a.b", "device platform a_b",
                "device platform a:b", "device platform a-b", "device pci 0000:00:03.0", "device platform 0000:00:03.0",
                "device cdx cdx-00:01", "device platform cdx-00:01", "device fsl-mc dprc.1", "device fsl mc-dprc.1",
                "device fsl_mc dprc.1", "device fsl-m c-dprc.1", "device a- 2e", "device a 2d.", "group-1", "device-a-b",
                "device platform a b", "device platform a_20b", "IOMMU group x", "device  a b", "device é x");
        Map<String, String> byFile = new HashMap<>();
        for (String key : keys) {
            String file = JournalStore.fileName(key);
            String before = byFile.put(file, key);
            assertEquals(null, before, "'" + before + "' and '" + key + "' share " + file);
            assertEquals(file, file.replaceAll("[^A-Za-z0-9_.-]", ""), "a plain file name: " + file);
        }
    }

    @Test
    void devicesWithoutAGroupOnTwoBusesWithOneNameHaveTwoGatesAndTwoJournals() throws Exception {
        Path sys = Files.createDirectories(dir.resolve("sys"));
        Planner planner = new Planner(new Sysfs(sys, (attribute, value) -> {
            throw new AssertionError("no write expected: " + attribute);
        }), () -> null, null);
        DeviceName onPlatform = new DeviceName("platform", "a.b");
        DeviceName onAmba = new DeviceName("amba", "a.b");
        DeviceName underscore = new DeviceName("platform", "a_b");
        String platformKey = planner.groupKeyWithoutLock(onPlatform);
        String ambaKey = planner.groupKeyWithoutLock(onAmba);
        assertNotEquals(platformKey, ambaKey, "two devices of one name on two buses are two gates");

        // the moves in flight at once: each has its own file and reads back as its own plan
        JournalStore journal = new JournalStore(dir.resolve("journal"));
        List<Plan> plans = List.of(plan(platformKey, onPlatform), plan(ambaKey, onAmba),
                plan(planner.groupKeyWithoutLock(underscore), underscore));
        for (Plan p : plans) journal.begin(p);
        List<JournalStore.Leftover> left = journal.leftovers();
        assertEquals(3, left.size(), left.toString());
        for (Plan p : plans) {
            JournalStore.Leftover l = left.stream().filter(x -> x.file().getFileName().toString().equals(JournalStore.fileName(p.groupKey())))
                    .findFirst().orElseThrow(() -> new AssertionError("no journal for " + p.groupKey() + " in " + left));
            assertEquals(p, assertInstanceOf(JournalStore.Leftover.Readable.class, l).record().plan());
        }
    }

    private static Plan plan(String key, DeviceName device) {
        return new Plan(Direction.TO_VFIO, key, device, List.of(new PlannedDevice(device, new Prior(Optional.of("host-driver"), Optional.empty()),
                new Target.Driver(new DriverName(device.bus().equals("amba") ? "vfio-amba" : "vfio-platform")), false)), List.of());
    }
}
