package org.vfiod.daemon.model;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vfiod.daemon.aliases.AliasIndex;
import org.vfiod.daemon.aliases.AliasSources;
import org.vfiod.daemon.sysfs.Device;
import org.vfiod.daemon.sysfs.DeviceName;
import org.vfiod.daemon.sysfs.Sysfs;

/** The VfioDriver property: what Rebind would choose, the bus's fallback where no alias matches. */
class VfioDriversTest {
    @TempDir
    Path dir;

    @Test
    void aDeviceNoAliasMatchesShowsItsBusFallbackAndOnlyOnABusWithOne() throws Exception {
        Path modules = Files.createDirectories(dir.resolve("modules"));
        Files.writeString(modules.resolve("modules.alias"), "alias vfio_cdx:v*d*sv*sd*c* vfio_cdx\n");
        AliasIndex aliases = AliasIndex.load(AliasSources.forModulesDir(modules, List.of()));
        VfioDrivers drivers = new VfioDrivers(new Sysfs(Files.createDirectories(dir.resolve("sys")), (a, v) -> { }), () -> aliases);
        assertEquals("vfio-platform", drivers.of(device("platform", "a000000.virtio_mmio", "of:NvirtioT(null)Cvirtio,mmio")));
        assertEquals("vfio-fsl-mc", drivers.of(device("fsl-mc", "dprc.2", "fsl-mc:v00001957ddprc")));
        // the seed's rule first: CDX has aliases (the module's name until it is loaded)
        assertEquals("vfio_cdx", drivers.of(device("cdx", "cdx-00:01", "cdx:v10EEd8001sv0000sd0000c000000")));
        assertEquals("", drivers.of(device("pci", "0000:03:00.0", "pci:v00008086d000010D3sv00008086sd00000001bc02sc00i00")));
    }

    private static Device device(String bus, String name, String modalias) {
        DeviceName n = new DeviceName(bus, name);
        return new Device(n, modalias, Optional.empty(), Optional.empty(), OptionalInt.of(1), List.of(n), false, false, false, Optional.empty());
    }
}
