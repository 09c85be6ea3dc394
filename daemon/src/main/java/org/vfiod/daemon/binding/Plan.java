package org.vfiod.daemon.binding;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.vfiod.daemon.sysfs.DeviceName;
import org.vfiod.daemon.sysfs.DriverName;
import org.vfiod.daemon.sysfs.KernelBus;
import org.vfiod.daemon.sysfs.Sysfs;

/**
 * What a Rebind or Restore will do, decided before any write: the devices with their prior state and target, the
 * boot framebuffers to let go of first, and, derived from those, the ordered kernel writes. Immutable: the executor
 * runs it, the journal records it, a dry run shows it. {@code notes} say why a choice was made that the caller may
 * not expect (a driver policy over the aliases' best match); the journal does not keep them.
 */
public record Plan(Direction direction, String groupKey, DeviceName requested, List<PlannedDevice> devices,
                   List<Sysfs.Framebuffer> framebuffers, List<String> notes) {
    public Plan {
        devices = List.copyOf(devices);
        framebuffers = List.copyOf(framebuffers);
        notes = List.copyOf(notes);
        if (devices.isEmpty()) throw new IllegalArgumentException("a plan moves at least one device");
    }

    public Plan(Direction direction, String groupKey, DeviceName requested, List<PlannedDevice> devices,
                List<Sysfs.Framebuffer> framebuffers) {
        this(direction, groupKey, requested, devices, framebuffers, List.of());
    }

    /** Every write, in order: the framebuffers first, then each device's steps. */
    public List<Step> steps() {
        List<Step> out = new ArrayList<>();
        for (Sysfs.Framebuffer fb : framebuffers) out.add(new Step.ReleaseFramebuffer(fb));
        for (PlannedDevice d : devices) out.addAll(d.steps());
        return out;
    }

    /** The vfio modules this plan needs that are not loaded yet. */
    public Set<DriverName> modulesToLoad() {
        Set<DriverName> out = new LinkedHashSet<>();
        for (PlannedDevice d : devices) if (d.target() instanceof Target.Module m) out.add(m.module());
        return out;
    }

    public List<DeviceName> names() {
        return devices.stream().map(PlannedDevice::name).toList();
    }

    /** What a dry run answers: why the drivers were chosen where it needs saying, then the module loads and the writes. */
    public List<String> describe() {
        List<String> out = new ArrayList<>(notes);
        for (DriverName m : modulesToLoad()) out.add("load module " + m);
        for (PlannedDevice d : devices) {
            if (d.target() instanceof Target.Follows f) {
                out.add(d.name() + " follows its container " + f.container() + ": the kernel removes it with " + f.container()
                        + "'s driver and adds it again under the new one" + (direction == Direction.TO_VFIO ? ", which must bind it" : ""));
            }
        }
        for (Step s : steps()) {
            if (s instanceof Step.Probe p) {
                Target t = targetOf(p.device());
                if (t instanceof Target.Driver drv) out.add("probe " + p.device() + " and check that " + drv.name() + " bound it");
                else if (t instanceof Target.Module m) out.add("probe " + p.device() + " and check that the " + KernelBus.titleOf(p.device()) + " driver of module " + m.module() + " bound it");
                else out.add("probe " + p.device() + " (the kernel picks the host driver)");
            } else if (s instanceof Step.SetOverride o && targetOf(o.device()) instanceof Target.Module m) {
                out.add("set driver_override of " + o.device() + " to the " + KernelBus.titleOf(o.device()) + " driver of module " + m.module());
            } else {
                out.add(s.text());
            }
        }
        return out;
    }

    private Target targetOf(DeviceName device) {
        return devices.stream().filter(d -> d.name().equals(device)).findFirst().orElseThrow().target();
    }
}
