package org.vfiod.daemon.udev;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

class UdevHardwareNamesTest {
    /** A virtio network device as QEMU presents it; vendor 1AF4 is Red Hat in the PCI ID database. */
    static final String VIRTIO_NET = "pci:v00001AF4d00001041sv00001AF4sd00001041bc02sc00i00";

    /** The places libudev looks for hwdb.bin (systemd 252), most specific first. */
    static final List<Path> HWDB = List.of(Path.of("/etc/systemd/hwdb/hwdb.bin"), Path.of("/etc/udev/hwdb.bin"),
            Path.of("/usr/lib/systemd/hwdb/hwdb.bin"), Path.of("/usr/lib/udev/hwdb.bin"));

    /** Skips without a hwdb, except in CI, which installs the udev package and must not skip silently. */
    static void assumeHwdb() {
        boolean present = HWDB.stream().anyMatch(Files::isRegularFile);
        if (!present && "true".equals(System.getenv("CI"))) {
            fail("CI=true but no hwdb.bin: install the udev package (apt-get install udev)");
        }
        assumeTrue(present, "no hwdb.bin; install the udev package for vendor and model names");
    }

    @Test
    void aVirtioDeviceResolvesToRedHat() {
        assumeHwdb();
        try (HardwareNames names = UdevHardwareNames.open()) {
            assertTrue(names instanceof UdevHardwareNames u && u.available());
            HardwareNames.Names n = names.lookup(VIRTIO_NET);
            assertEquals(Optional.of("Red Hat, Inc."), n.vendor());
            assertTrue(n.model().isPresent(), "no model for " + VIRTIO_NET);
            assertSame(n, names.lookup(VIRTIO_NET), "not cached");
        }
    }

    @Test
    void thisMachinesVirtioDevicesHaveAVendor() throws Exception {
        assumeHwdb();
        Path pci = Path.of("/sys/bus/pci/devices");
        assumeTrue(Files.isDirectory(pci));
        List<String> virtio = new ArrayList<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(pci)) {
            for (Path dev : entries) {
                String modalias = Files.readString(dev.resolve("modalias"), StandardCharsets.US_ASCII).strip();
                if (modalias.startsWith("pci:v00001AF4")) virtio.add(modalias);
            }
        }
        assumeTrue(!virtio.isEmpty(), "no virtio PCI devices on this machine");
        try (HardwareNames names = UdevHardwareNames.open()) {
            for (String modalias : virtio) {
                assertEquals(Optional.of("Red Hat, Inc."), names.lookup(modalias).vendor(), modalias);
            }
        }
    }

    @Test
    void unknownOrBlankModaliasesHaveNoNames() {
        try (HardwareNames names = UdevHardwareNames.open()) {
            HardwareNames.Names none = new HardwareNames.Names(Optional.empty(), Optional.empty());
            assertEquals(none, names.lookup(""));
            assertEquals(none, names.lookup(null));
            assertEquals(none, names.lookup("no such modalias"));
            assertEquals(none, names.lookup("pci:vFFFFFFFFdFFFFFFFF"));
        }
    }

    @Test
    void concurrentLookupsAgree() throws Exception {
        assumeHwdb();
        String[] aliases = {VIRTIO_NET, "pci:v00008086d00000D57sv00000000sd00000000bc06sc00i00",
                "pci:v000010DEd00001EB8sv000010DEsd000012A2bc03sc02i00", "usb:v1D6Bp0002d0606dc09dsc00dp03ic09isc00ip00in00"};
        try (HardwareNames names = UdevHardwareNames.open()) {
            List<HardwareNames.Names> expected = new ArrayList<>();
            for (String a : aliases) expected.add(names.lookup(a));
            // a fresh instance, so the threads race on the hwdb itself and not only on the cache
            try (HardwareNames fresh = UdevHardwareNames.open()) {
                ExecutorService pool = Executors.newFixedThreadPool(4);
                try {
                    List<Future<Boolean>> results = new ArrayList<>();
                    for (int t = 0; t < 4; t++) {
                        int offset = t;
                        results.add(pool.submit(() -> {
                            for (int i = 0; i < 200; i++) {
                                int k = (i + offset) % aliases.length;
                                if (!expected.get(k).equals(fresh.lookup(aliases[k]))) return false;
                            }
                            return true;
                        }));
                    }
                    for (Future<Boolean> f : results) assertTrue(f.get());
                } finally {
                    pool.shutdownNow();
                }
            }
        }
    }

    @Test
    void afterCloseNamesAreEmpty() {
        HardwareNames names = UdevHardwareNames.open();
        names.close();
        HardwareNames.Names n = names.lookup(VIRTIO_NET);
        assertFalse(n.vendor().isPresent());
        assertFalse(n.model().isPresent());
        names.close();
    }
}
