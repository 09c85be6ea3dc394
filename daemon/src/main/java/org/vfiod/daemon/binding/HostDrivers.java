package org.vfiod.daemon.binding;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;
import org.vfiod.daemon.aliases.AliasIndex;
import org.vfiod.daemon.sysfs.Device;
import org.vfiod.daemon.sysfs.DeviceName;
import org.vfiod.daemon.sysfs.DriverName;
import org.vfiod.daemon.sysfs.Sysfs;

/**
 * The host drivers a device's modalias matches in modules.alias (what lspci -k lists as its kernel modules), each
 * with what the kernel has of it now: what a dry-run Restore predicts, and who refused a Restore whose probe bound
 * nothing. One reading for both, so that the prediction and the refusal name the same drivers.
 */
final class HostDrivers {
    /**
     * A matching module, in modules.alias order: {@code driver}, the driver it registered on a bus, as the kernel
     * names it (cdx-sim-net for module cdx_sim_net); {@code loaded}, whether the module is in the kernel at all.
     */
    record Candidate(String module, Optional<String> driver, boolean loaded) {
    }

    private final Sysfs sysfs;
    private final Supplier<AliasIndex> index;

    HostDrivers(Sysfs sysfs, Supplier<AliasIndex> index) {
        this.sysfs = sysfs;
        this.index = index;
    }

    /** The device's host-driver candidates; none for a device that is gone or that no alias matches. */
    List<Candidate> of(DeviceName device) throws IOException {
        Optional<Device> d = sysfs.read(device);
        if (d.isEmpty()) return List.of();
        List<Candidate> out = new ArrayList<>();
        for (String m : index.get().hostModules(d.get().modalias())) {
            if (!DriverName.isValid(m)) {
                out.add(new Candidate(m, Optional.empty(), false));
                continue;
            }
            DriverName module = new DriverName(m);
            Optional<String> driver = sysfs.driverOfModule(module).map(DriverName::value);
            out.add(new Candidate(m, driver, driver.isPresent() || sysfs.moduleLoaded(module)));
        }
        return out;
    }
}
