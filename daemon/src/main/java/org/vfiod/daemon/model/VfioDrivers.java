package org.vfiod.daemon.model;

import java.io.IOException;
import java.util.Map;
import java.util.Optional;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.Supplier;
import org.vfiod.daemon.aliases.AliasIndex;
import org.vfiod.daemon.sysfs.Device;
import org.vfiod.daemon.sysfs.DriverName;
import org.vfiod.daemon.sysfs.KernelBus;
import org.vfiod.daemon.sysfs.Sysfs;

/**
 * The driver Rebind would choose for a device: the driver name once its module is loaded, the module name before.
 * A module's driver name never changes once it is known, so it is remembered instead of listing sysfs for every
 * device. A device read before the module was loaded shows the module's name until it is read again: the registry
 * takes each module whose driver it learns ({@link #nextLearned}) and gives the devices that show its name the
 * driver's.
 */
final class VfioDrivers {
    private final Sysfs sysfs;
    private final Supplier<AliasIndex> index;
    private final Map<String, String> driverOfModule = new ConcurrentHashMap<>();
    private final Queue<String> learned = new ConcurrentLinkedQueue<>();

    VfioDrivers(Sysfs sysfs, Supplier<AliasIndex> index) {
        this.sysfs = sysfs;
        this.index = index;
    }

    /**
     * The aliases' choice, else the fallback vfio driver of the device's bus (vfio-platform), as the planner chooses;
     * "" when neither.
     */
    String of(Device d) {
        return index.get().resolve(d.modalias()).map(m -> driverOf(m.module()))
                .or(() -> KernelBus.of(d.name()).flatMap(KernelBus::fallback).map(f -> f.driver().value()))
                .orElse("");
    }

    private String driverOf(String module) {
        String known = driverOfModule.get(module);
        if (known != null) return known;
        try {
            Optional<DriverName> driver = sysfs.driverOfModule(new DriverName(module));
            driver.ifPresent(x -> {
                if (driverOfModule.putIfAbsent(module, x.value()) == null) learned.add(module);
            });
            return driver.map(DriverName::value).orElse(module);
        } catch (IOException e) {
            return module;
        }
    }

    /** A module whose driver became known since the last call (its devices may still show its name), or null. */
    String nextLearned() {
        return learned.poll();
    }
}
