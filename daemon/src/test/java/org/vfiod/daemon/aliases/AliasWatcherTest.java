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

    @Test
    void onlyExistingFoldersAreWatched(@TempDir Path dir) {
        AliasSources s = AliasSources.forModulesDir(dir, List.of(dir.resolve("missing"), dir));
        assertEquals(List.of(dir), AliasWatcher.folders(s));
        assertTrue(AliasWatcher.folders(AliasSources.forModulesDir(dir.resolve("none"), List.of())).isEmpty());
    }
}
