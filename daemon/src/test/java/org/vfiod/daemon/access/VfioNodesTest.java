package org.vfiod.daemon.access;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The group node: vfio/N, or vfio/noiommu-N for the fake group of vfio's unsafe no-IOMMU mode. */
class VfioNodesTest {
    @TempDir
    Path dev;

    @Test
    void theNoIommuGroupNodeIsTheOneWhereOnlyItIsThere() throws Exception {
        VfioNodes nodes = new VfioNodes(dev, new NodeAccess() {
            @Override
            public List<Long> users(Path node) {
                return List.of();
            }

            @Override
            public void grant(Path node, long uid) {
            }

            @Override
            public void revokeAll(Path node) {
            }
        });
        assertEquals(dev.resolve("vfio/7"), nodes.groupNode(7), "neither there yet: the usual name");
        Files.createDirectories(dev.resolve("vfio"));
        Files.createFile(dev.resolve("vfio/noiommu-7"));
        assertEquals(dev.resolve("vfio/noiommu-7"), nodes.groupNode(7));
        Files.createFile(dev.resolve("vfio/7"));
        assertEquals(dev.resolve("vfio/7"), nodes.groupNode(7));
    }
}
