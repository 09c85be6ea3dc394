package org.vfiod.daemon.binding;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.vfiod.daemon.sysfs.DeviceName;
import org.vfiod.daemon.sysfs.DriverName;

/**
 * One device of a plan: which it is, where it goes, and the writes that take it there. {@code priorIsVfio} says
 * whether its prior driver is a vfio driver, which decides whether a Restore unbinds it.
 */
public record PlannedDevice(DeviceName name, Prior prior, Target target, boolean priorIsVfio) {

    /** The writes, in order. A move to VFIO: override, unbind (when bound), probe. A Restore: clear the override,
     * unbind from vfio (when on it), probe (when that leaves it driverless). An object that follows its container: none. */
    public List<Step> steps() {
        List<Step> out = new ArrayList<>();
        if (target instanceof Target.Follows) return out;
        if (target instanceof Target.Host) {
            out.add(new Step.SetOverride(name, Optional.empty()));
            if (prior.driver().isPresent() && priorIsVfio) out.add(new Step.Unbind(name, new DriverName(prior.driver().get())));
            if (prior.driver().isEmpty() || priorIsVfio) out.add(new Step.Probe(name));
            return out;
        }
        DriverName driver = target instanceof Target.Driver d ? d.name() : ((Target.Module) target).module();
        out.add(new Step.SetOverride(name, Optional.of(driver)));
        prior.driver().ifPresent(from -> out.add(new Step.Unbind(name, new DriverName(from))));
        out.add(new Step.Probe(name));
        return out;
    }

    /** The driver this device must end on; empty for a Restore, which takes whatever host driver there is. */
    public Optional<DriverName> targetDriver() {
        return target instanceof Target.Driver d ? Optional.of(d.name()) : Optional.empty();
    }
}
