package org.vfiod.daemon.binding;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.vfiod.daemon.aliases.AliasIndex;
import org.vfiod.daemon.sysfs.CallerText;
import org.vfiod.daemon.sysfs.DriverName;
import org.vfiod.daemon.sysfs.PciAddress;
import org.vfiod.daemon.sysfs.PciDevice;
import org.vfiod.daemon.sysfs.Sysfs;

/**
 * Reads a device and its IOMMU group and decides what a Rebind or Restore would do: the vfio driver (the aliases
 * or the caller's {@code driver}), whether the group is viable, the boot VGA check. It writes nothing; its answer
 * is a {@link Decision}.
 */
public final class Planner {
    private static final Logger LOG = LoggerFactory.getLogger(Planner.class);

    private final Sysfs sysfs;
    private final Supplier<AliasIndex> index;

    public Planner(Sysfs sysfs, Supplier<AliasIndex> index) {
        this.sysfs = sysfs;
        this.index = index;
    }

    /** What a plan comes to: nothing to do, or a plan to run. */
    public sealed interface Decision {
        record Unchanged(String driver) implements Decision {
        }

        record Move(Plan plan) implements Decision {
        }
    }

    public Decision rebind(PciAddress address, BindOptions options) throws BindingException {
        PciDevice device = readOrFail(address);
        AliasIndex aliases = index.get();
        DriverName module = chooseModule(device, options.driver(), aliases);

        List<PciDevice> others = groupEndpoints(device);
        if (!options.group()) {
            List<PciDevice> blockers = others.stream().filter(d -> d.driver().isPresent() && !onVfioDriver(d, aliases)).toList();
            if (!blockers.isEmpty()) {
                throw new BindingException.GroupNotViable(address + " shares IOMMU group "
                        + device.iommuGroup().getAsInt() + " with " + describe(blockers)
                        + "; a VM can only use the whole group: pass group to move them together");
            }
        }
        List<PciDevice> moving = new ArrayList<>();
        List<DriverName> modules = new ArrayList<>();
        moving.add(device);
        modules.add(module);
        if (options.group()) {
            for (PciDevice other : others) {
                DriverName m = aliases.resolve(other.modalias()).map(a -> new DriverName(a.module()))
                        .orElseThrow(() -> new BindingException.NoVfioDriver("no vfio driver matches " + other.address()
                                + " (" + other.modalias() + "), which shares IOMMU group " + device.iommuGroup().getAsInt()
                                + " with " + address));
                moving.add(other);
                modules.add(m);
            }
        }
        if (!options.force()) {
            for (PciDevice d : moving) {
                if (d.bootVga()) {
                    throw new BindingException.Failed(d.address() + " is the boot VGA device: the console and "
                            + "firmware framebuffer may still use it; pass force to take it anyway");
                }
            }
        }
        List<PlannedDevice> planned = new ArrayList<>();
        for (int i = 0; i < moving.size(); i++) {
            PciDevice d = moving.get(i);
            Target target = target(modules.get(i), aliases);
            if (target instanceof Target.Driver t && d.driver().filter(t.name().value()::equals).isPresent()) continue;
            planned.add(new PlannedDevice(d.address(), Prior.of(d), target, onVfioDriver(d, aliases)));
        }
        if (planned.isEmpty()) return new Decision.Unchanged(device.driver().orElse(""));
        List<Sysfs.Framebuffer> framebuffers = List.of();
        if (moving.stream().anyMatch(PciDevice::bootVga)) {
            // forced past the boot VGA check: the firmware framebuffer and fbcon still scan out of this GPU, and the
            // host driver's remove would wait for them; they are let go of first (and taken back on rollback)
            try {
                framebuffers = sysfs.bootFramebuffers();
            } catch (IOException e) {
                throw new BindingException.Failed("cannot read the boot framebuffers: " + RebindEngine.describe(e) + "; nothing was changed");
            }
        }
        return new Decision.Move(new Plan(Direction.TO_VFIO, groupKey(device), address, planned, framebuffers));
    }

    public Decision restore(PciAddress address, BindOptions options) throws BindingException {
        PciDevice device = readOrFail(address);
        AliasIndex aliases = index.get();
        List<PciDevice> targets = new ArrayList<>();
        targets.add(device);
        if (options.group()) targets.addAll(groupEndpoints(device));
        List<PlannedDevice> planned = targets.stream()
                // a driverless device is probed again: whatever left it so (a hung unbind that returned, someone
                // else's unbind), giving it back means letting the kernel pick its host driver
                .filter(d -> d.driverOverride().isPresent() || onVfioDriver(d, aliases) || d.driver().isEmpty())
                .map(d -> new PlannedDevice(d.address(), Prior.of(d), new Target.Host(), onVfioDriver(d, aliases)))
                .toList();
        if (planned.isEmpty()) return new Decision.Unchanged(device.driver().orElse(""));
        return new Decision.Move(new Plan(Direction.TO_HOST, groupKey(device), address, planned, List.of()));
    }

    /** The key of the gate the device's operations pass: its IOMMU group, or the device alone without one. */
    public String groupKey(PciAddress address) throws BindingException {
        return groupKey(readOrFail(address));
    }

    /** Whether the device sits on a vfio driver now. */
    public boolean onVfioDriver(PciDevice device) {
        return onVfioDriver(device, index.get());
    }

    private static boolean onVfioDriver(PciDevice device, AliasIndex aliases) {
        return device.vfioDev() || device.driver().map(aliases::isVfioModule).orElse(false);
    }

    private Target target(DriverName module, AliasIndex aliases) throws BindingException {
        if (!aliases.isBuiltin(module.value()) && !sysfs.moduleLoaded(module)) return new Target.Module(module);
        try {
            return new Target.Driver(sysfs.driverOfModule(module).orElseThrow(() -> new BindingException.NoVfioDriver("module " + module
                    + " is loaded but registered no PCI driver (looked in module/" + module + "/drivers and bus/pci/drivers)")));
        } catch (IOException e) {
            throw new BindingException.Failed("cannot read the drivers of module " + module + ": " + RebindEngine.describe(e) + "; nothing was changed");
        }
    }

    PciDevice readOrFail(PciAddress address) throws BindingException {
        try {
            return sysfs.read(address).orElseThrow(() -> new BindingException.NoSuchDevice("no PCI device " + address));
        } catch (IOException e) {
            throw new BindingException.Failed("cannot read " + address + " from sysfs: " + RebindEngine.describe(e));
        }
    }

    private DriverName chooseModule(PciDevice device, Optional<String> requested, AliasIndex aliases)
            throws BindingException {
        if (requested.isPresent()) {
            String r = requested.get();
            if (!DriverName.isValid(r) || !aliases.isVfioModule(r)) {
                throw new BindingException.InvalidArgument("'" + CallerText.printable(r) + "' is not a vfio driver known to the "
                        + "module aliases (known: " + String.join(", ", knownVfioModules(aliases)) + ")");
            }
            return new DriverName(AliasIndex.normalizeModule(r));
        }
        return aliases.resolve(device.modalias()).map(m -> {
            if (m.tie()) LOG.warn("{}: {} chosen over {} on source order ({} wildcards each)", device.address(), m.module(), m.tiedWith(), m.wildcards());
            return new DriverName(m.module());
        }).orElseThrow(() -> new BindingException.NoVfioDriver("no vfio driver matches " + device.address() + " ("
                + device.modalias() + "); is the vfio-pci module installed for this kernel?"));
    }

    private static List<String> knownVfioModules(AliasIndex aliases) {
        return aliases.aliases().stream().map(a -> a.module()).distinct().sorted().toList();
    }

    /** The other endpoints of the device's IOMMU group (bridges excluded: they stay on their host driver). */
    private List<PciDevice> groupEndpoints(PciDevice device) throws BindingException {
        List<PciDevice> out = new ArrayList<>();
        for (PciAddress member : device.groupMembers()) {
            if (member.equals(device.address())) continue;
            try {
                sysfs.read(member).filter(m -> !m.isBridge()).ifPresent(out::add);
            } catch (IOException e) {
                throw new BindingException.Failed("cannot read " + member + " of IOMMU group: " + RebindEngine.describe(e));
            }
        }
        return out;
    }

    private static String groupKey(PciDevice device) {
        return device.iommuGroup().isPresent() ? "IOMMU group " + device.iommuGroup().getAsInt() : "device " + device.address();
    }

    private static String describe(List<PciDevice> devices) {
        return devices.stream().map(d -> d.address() + " (" + d.driver().orElse("no driver") + ")").collect(Collectors.joining(", "));
    }
}
