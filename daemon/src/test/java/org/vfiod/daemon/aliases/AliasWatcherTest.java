package org.vfiod.daemon.aliases;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AliasWatcherTest {
    static final String CATCH_ALL = "alias vfio_pci:v*d*sv*sd*bc*sc*i* vfio_pci\n";
    static final String MLX5 = "alias vfio_pci:v000015B3d00001021sv*sd*bc*sc*i* mlx5_vfio_pci\n";

    @Test
    void depmodReplacingModulesAliasReloadsOnceForABurst(@TempDir Path dir) throws Exception {
        Path modules = Files.createDirectories(dir.resolve("modules"));
        Path modprobe = Files.createDirectories(dir.resolve("modprobe.d"));
        Files.writeString(modules.resolve("modules.alias"), CATCH_ALL);
        AliasSources sources = AliasSources.forModulesDir(modules, List.of(modprobe));
        AtomicReference<AliasIndex> index = new AtomicReference<>(AliasIndex.load(sources));
        LinkedBlockingQueue<AliasIndex> reloads = new LinkedBlockingQueue<>();
        try (AliasWatcher w = new AliasWatcher(sources, index, Duration.ofMillis(300), reloads::add)) {
            // depmod writes a temporary file and renames it over modules.alias, several files in a row
            for (int i = 0; i < 5; i++) {
                Path tmp = modules.resolve("modules.alias.tmp" + i);
                Files.writeString(tmp, CATCH_ALL + MLX5);
                Files.move(tmp, modules.resolve("modules.alias"), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            }
            AliasIndex fresh = reloads.poll(20, TimeUnit.SECONDS);
            assertEquals(2, fresh.size());
            assertEquals(fresh, index.get());
            assertEquals("mlx5_vfio_pci", index.get().resolve("pci:v000015B3d00001021sv000015B3sd00000001bc02sc00i00").orElseThrow().module());
            assertEquals(null, reloads.poll(1, TimeUnit.SECONDS), "a burst is one reload");

            // an admin adds an alias in modprobe.d
            Files.writeString(modprobe.resolve("vfio.conf"), "alias vfio_pci:v00008086d000010D3sv*sd*bc*sc*i* vfio_pci\n");
            assertEquals(3, reloads.poll(20, TimeUnit.SECONDS).size());

            // a broken source keeps the previous index
            Files.delete(modules.resolve("modules.alias"));
            assertEquals(null, reloads.poll(2, TimeUnit.SECONDS));
            assertEquals(3, index.get().size());
        }
    }

    /**
     * Issue 14: modules.alias replaced half-written during a reload. A file written in place is seen cut in the
     * middle of a line, where the cut line still parses (an alias to "mlx5_vf"): the watcher keeps the previous index
     * until the file is whole again, then takes the new one. Never a torn index.
     */
    @Test
    void aModulesAliasWrittenInPlaceIsTakenOnlyOnceItIsWhole(@TempDir Path dir) throws Exception {
        Path modules = Files.createDirectories(dir.resolve("modules"));
        Path file = modules.resolve("modules.alias");
        Files.writeString(file, CATCH_ALL);
        AliasSources sources = AliasSources.forModulesDir(modules, List.of());
        AtomicReference<AliasIndex> index = new AtomicReference<>(AliasIndex.load(sources));
        AliasIndex first = index.get();
        LinkedBlockingQueue<AliasIndex> reloads = new LinkedBlockingQueue<>();
        String cut = CATCH_ALL + MLX5.substring(0, MLX5.indexOf("mlx5_vf") + "mlx5_vf".length());
        try (AliasWatcher w = new AliasWatcher(sources, index, Duration.ofMillis(100), reloads::add)) {
            Files.writeString(file, cut);
            assertEquals(null, reloads.poll(2, TimeUnit.SECONDS), "a half-written modules.alias is not taken");
            assertEquals(first, index.get());
            Files.writeString(file, "", java.nio.file.StandardOpenOption.TRUNCATE_EXISTING);
            assertEquals(null, reloads.poll(2, TimeUnit.SECONDS), "an emptied modules.alias is not taken");
            assertEquals(first, index.get());
            Files.writeString(file, CATCH_ALL + MLX5);
            AliasIndex fresh = reloads.poll(20, TimeUnit.SECONDS);
            assertEquals(2, fresh.size());
            assertEquals("mlx5_vfio_pci", index.get().resolve("pci:v000015B3d00001021sv000015B3sd00000001bc02sc00i00").orElseThrow().module());
        }
    }

    @Test
    void aReloadRefusesACutFileThatAStartTakes(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("modules.alias");
        Files.writeString(file, CATCH_ALL + MLX5.substring(0, MLX5.length() - 5));
        AliasSources sources = AliasSources.forModulesDir(dir, List.of());
        AliasSourceException e = org.junit.jupiter.api.Assertions.assertThrows(AliasSourceException.class, () -> AliasIndex.reload(sources));
        assertTrue(e.getMessage().contains("ends in the middle of a line"), e.getMessage());
        // a start has nothing better: the cut line parses as an alias to "mlx5_vf", which modprobe will not find
        assertEquals(2, AliasIndex.load(sources).size());
        Files.writeString(file, CATCH_ALL + MLX5);
        assertEquals(2, AliasIndex.reload(sources).size());
    }

    /**
     * A writer replacing modules.alias by rename and in place, as fast as it can, while reloads run: every reload
     * either refuses the file or gives one of the two whole versions' indexes.
     */
    @Test
    void reloadsDuringRewritesSeeAWholeVersionOrNothing(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("modules.alias");
        String small = "# Aliases extracted from modules themselves.\n" + CATCH_ALL;
        String big = small + MLX5 + "alias vfio_pci:v000010DEd*sv*sd*bc03sc*i* nvgrace_gpu_vfio_pci\n";
        Files.writeString(file, small);
        AliasSources sources = AliasSources.forModulesDir(dir, List.of());
        java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
        Thread writer = new Thread(() -> {
            int i = 0;
            try {
                while (!stop.get()) {
                    String text = (i % 2 == 0) ? big : small;
                    if (i % 4 < 2) {
                        Path tmp = dir.resolve("modules.alias.tmp");
                        Files.writeString(tmp, text);
                        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
                    } else {
                        // in place: truncate, then the text in two writes cut inside a line
                        try (var ch = java.nio.channels.FileChannel.open(file, java.nio.file.StandardOpenOption.WRITE,
                                java.nio.file.StandardOpenOption.TRUNCATE_EXISTING)) {
                            byte[] b = text.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
                            int half = b.length - 9;
                            ch.write(java.nio.ByteBuffer.wrap(b, 0, half));
                            Thread.onSpinWait();
                            ch.write(java.nio.ByteBuffer.wrap(b, half, b.length - half));
                        }
                    }
                    i++;
                }
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        writer.start();
        int whole = 0, refused = 0;
        try {
            for (int k = 0; k < 3000; k++) {
                try {
                    AliasIndex x = AliasIndex.reload(sources);
                    java.util.Set<String> modules = x.aliases().stream().map(VfioAlias::module).collect(java.util.stream.Collectors.toSet());
                    assertTrue(modules.equals(java.util.Set.of("vfio_pci")) || modules.equals(java.util.Set.of("vfio_pci", "mlx5_vfio_pci", "nvgrace_gpu_vfio_pci")),
                            "a torn index: " + modules);
                    assertEquals(0, x.malformedLines(), "a torn index: " + x.problems());
                    whole++;
                } catch (AliasSourceException changing) {
                    refused++;
                }
            }
        } finally {
            stop.set(true);
            writer.join();
        }
        System.out.println("reloads during rewrites: " + whole + " whole versions, " + refused + " refused");
        assertTrue(whole > 0, "no reload ever saw a whole file");
    }

    @Test
    void onlyExistingFoldersAreWatched(@TempDir Path dir) {
        AliasSources s = AliasSources.forModulesDir(dir, List.of(dir.resolve("missing"), dir));
        assertEquals(List.of(dir), AliasWatcher.folders(s));
        assertTrue(AliasWatcher.folders(AliasSources.forModulesDir(dir.resolve("none"), List.of())).isEmpty());
    }
}
