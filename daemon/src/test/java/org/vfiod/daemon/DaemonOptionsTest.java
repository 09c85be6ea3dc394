package org.vfiod.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.vfiod.daemon.binding.DriverPolicy;

class DaemonOptionsTest {
    @Test
    void theFeatureFileIsOffUnlessAskedForAndThePolicyIsTheBestMatch() throws Exception {
        DaemonOptions o = DaemonOptions.parse(List.of("--modules-dir", "/m"));
        assertEquals(Optional.empty(), o.featuresFile());
        assertEquals(DriverPolicy.BEST_MATCH, o.driverPolicy());
    }

    @Test
    void nfdFeaturesTakesNfdsFolderOrAPath() throws Exception {
        assertEquals(Optional.of(Path.of("/etc/kubernetes/node-feature-discovery/features.d/vfiod")),
                DaemonOptions.parse(List.of("--modules-dir", "/m", "--nfd-features")).featuresFile());
        DaemonOptions o = DaemonOptions.parse(List.of("--nfd-features", "--modules-dir", "/m"));
        assertEquals(Optional.of(DaemonOptions.NFD_FEATURES_FILE), o.featuresFile(), "an option after it is no path");
        assertEquals(Path.of("/m"), o.modulesDir());
        assertEquals(Optional.of(Path.of("/tmp/f/vfiod")),
                DaemonOptions.parse(List.of("--modules-dir", "/m", "--nfd-features", "/tmp/f/vfiod")).featuresFile());
    }

    @Test
    void driverPolicyTakesItsSpellingsOnly() throws Exception {
        assertEquals(DriverPolicy.PREFER_VFIO_PCI,
                DaemonOptions.parse(List.of("--modules-dir", "/m", "--driver-policy", "prefer-vfio-pci")).driverPolicy());
        DaemonOptions.UsageException e = assertThrows(DaemonOptions.UsageException.class,
                () -> DaemonOptions.parse(List.of("--modules-dir", "/m", "--driver-policy", "vfio-pci")));
        assertTrue(e.getMessage().contains("best-match, prefer-vfio-pci"), e.getMessage());
    }
}
