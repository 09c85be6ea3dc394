package org.vfiod.daemon.access;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The group node a device's properties and answers name. On Debian's arm64 kernel with vfio-platform in no-IOMMU mode
 * (e2e/scenario-platform.sh) the kernel made {@code /dev/vfio/noiommu-0} and vfiod said {@code /dev/vfio/0}.
 */
class VfioNodesTest {
    @TempDir
    Path dev;

    private VfioNodes nodes() {
        return new VfioNodes(dev, new PosixAclAccess());
    }

    private void node(String name) throws IOException {
        Files.createDirectories(dev.resolve("vfio"));
        Files.createFile(dev.resolve("vfio").resolve(name));
    }

    @Test
    void anIommuGroupsNodeIsItsNumber() throws IOException {
        node("7");
        assertEquals(dev.resolve("vfio/7"), nodes().groupNode(7));
    }

    @Test
    void aNoIommuGroupsNodeIsNoiommuDashItsNumber() throws IOException {
        node("noiommu-0");
        assertEquals(dev.resolve("vfio/noiommu-0"), nodes().groupNode(0));
        // another group's no-IOMMU node says nothing of this one
        assertEquals(dev.resolve("vfio/1"), nodes().groupNode(1));
    }

    @Test
    void beforeUdevMadeANodeItIsTheNumberedOne() {
        assertEquals(dev.resolve("vfio/3"), nodes().groupNode(3));
    }
}
