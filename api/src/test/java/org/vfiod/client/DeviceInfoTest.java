package org.vfiod.client;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;

class DeviceInfoTest {
    private static DeviceInfo device(String bus, String name) {
        return new DeviceInfo("/x", name, bus, "", 0, 0, 0, "", "", "", "", "", -1, List.of(), false, false, "host");
    }

    @Test
    void pciComesFirstThenTheOtherBusesByNameEachByKernelName() {
        List<DeviceInfo> all = new ArrayList<>(List.of(device("platform", "a000000.virtio_mmio"), device("cdx", "cdx-00:01"),
                device("pci", "0000:03:00.0"), device("fsl-mc", "dprc.1"), device("pci", "0000:01:00.0"), device("cdx", "cdx-00:00")));
        Collections.shuffle(all, new java.util.Random(18));
        all.sort(DeviceInfo.ORDER);
        assertEquals(List.of("pci:0000:01:00.0", "pci:0000:03:00.0", "cdx:cdx-00:00", "cdx:cdx-00:01", "fsl-mc:dprc.1",
                "platform:a000000.virtio_mmio"), all.stream().map(DeviceInfo::busAddress).toList());
    }
}
