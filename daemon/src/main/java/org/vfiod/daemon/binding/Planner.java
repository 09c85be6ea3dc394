package org.vfiod.daemon.binding;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.vfiod.daemon.aliases.AliasIndex;
import org.vfiod.daemon.aliases.AliasMatch;
import org.vfiod.daemon.sysfs.CallerText;
import org.vfiod.daemon.sysfs.Device;
import org.vfiod.daemon.sysfs.DeviceName;
import org.vfiod.daemon.sysfs.DriverName;
import org.vfiod.daemon.sysfs.KernelBus;
import org.vfiod.daemon.sysfs.Sysfs;
import org.vfiod.daemon.usage.DeviceFolder;
import org.vfiod.daemon.usage.HostUse;
import org.vfiod.daemon.usage.HostUseScanner;

/**
 * Reads a device and its IOMMU group and decides what a Rebind or Restore would do: the vfio driver (the aliases
 * or the caller's {@code driver}), whether the group is viable, the boot VGA check. It writes nothing; its answer
 * is a {@link Decision}.
 */
public final class Planner {
    private static final Logger LOG = LoggerFactory.getLogger(Planner.class);

    private final Sysfs sysfs;
    private final Supplier<AliasIndex> index;
    private final HostUseScanner hostUses;
    /** How the driver is chosen when neither the caller nor a rule says: the daemon's {@code --driver-policy}. */
    private final DriverPolicy defaultPolicy;

    public Planner(Sysfs sysfs, Supplier<AliasIndex> index, HostUseScanner hostUses) {
        this(sysfs, index, hostUses, DriverPolicy.BEST_MATCH);
    }

    public Planner(Sysfs sysfs, Supplier<AliasIndex> index, HostUseScanner hostUses, DriverPolicy defaultPolicy) {
        this.sysfs = sysfs;
        this.index = index;
        this.hostUses = hostUses;
        this.defaultPolicy = defaultPolicy;
    }

    /** What a plan comes to: nothing to do, or a plan to run. */
    public sealed interface Decision {
        record Unchanged(String driver) implements Decision {
        }

        /** {@code users}: who uses the devices that move, when asked (see {@link UsersCheck}); force went past them. */
        record Move(Plan plan, List<String> users) implements Decision {
            public Move {
                users = List.copyOf(users);
            }
        }
    }

    /** How soon a plan asks who uses its devices. */
    public enum UsersCheck {
        /** Now: the plan is final (a dry run, or a plan made under the group's gate). */
        NOW,
        /**
         * Only if something would change before the final plan, which checks again: a module load. Otherwise the
         * check (all of /proc) would run twice for one move.
         */
        BEFORE_ANY_CHANGE
    }

    public Decision rebind(DeviceName name, BindOptions options) throws BindingException {
        return rebind(name, options, UsersCheck.NOW);
    }

    public Decision restore(DeviceName name, BindOptions options) throws BindingException {
        return restore(name, options, UsersCheck.NOW);
    }

    public Decision rebind(DeviceName name, BindOptions options, UsersCheck users) throws BindingException {
        return rebind(name, options, users, Phases.NONE);
    }

    public Decision restore(DeviceName name, BindOptions options, UsersCheck users) throws BindingException {
        return restore(name, options, users, Phases.NONE);
    }

    /** A Rebind's decision; the host-use check, when made, is timed apart from the rest in {@code phases}. */
    public Decision rebind(DeviceName name, BindOptions options, UsersCheck users, Phases phases) throws BindingException {
        Device device = readOrFail(name);
        AliasIndex aliases = index.get();
        DriverPolicy policy = options.policy().orElse(defaultPolicy);
        List<String> notes = new ArrayList<>();
        DriverName module = chooseModule(device, options.driver(), policy, aliases, notes);

        List<Device> others = groupEndpoints(device);
        if (!options.group()) {
            List<Device> blockers = others.stream().filter(d -> d.driver().isPresent() && !onVfioDriver(d, aliases)).toList();
            if (!blockers.isEmpty()) {
                throw new BindingException.GroupNotViable(name + " shares IOMMU group "
                        + device.iommuGroup().getAsInt() + " with " + describe(blockers)
                        + "; a VM can only use the whole group: pass group to move them together");
            }
        }
        List<Device> moving = new ArrayList<>();
        List<DriverName> modules = new ArrayList<>();
        moving.add(device);
        modules.add(module);
        if (options.group()) {
            for (Device other : others) {
                if (aliases.resolve(other.modalias()).isEmpty()) {
                    throw new BindingException.NoVfioDriver("no vfio driver matches " + other.name()
                            + " (" + other.modalias() + "), which shares IOMMU group " + device.iommuGroup().getAsInt()
                            + " with " + name);
                }
                DriverName m = chosen(other, policy, aliases, notes);
                moving.add(other);
                modules.add(m);
            }
        }
        List<PlannedDevice> planned = new ArrayList<>();
        for (int i = 0; i < moving.size(); i++) {
            Device d = moving.get(i);
            Target target = target(d.name(), modules.get(i), aliases);
            if (target instanceof Target.Driver t && d.driver().filter(t.name().value()::equals).isPresent()) continue;
            planned.add(new PlannedDevice(d.name(), Prior.of(d), target, onVfioDriver(d, aliases)));
        }
        if (planned.isEmpty()) return new Decision.Unchanged(device.driver().orElse(""));
        List<String> found = List.of();
        if (users == UsersCheck.NOW || planned.stream().anyMatch(p -> p.target() instanceof Target.Module)) {
            phases.lap("plan");
            found = refuseIfInUse(moving.stream().filter(d -> planned.stream().anyMatch(p -> p.name().equals(d.name()))).toList(),
                    options, aliases);
            phases.lap("host-use check");
        }
        List<Sysfs.Framebuffer> framebuffers = List.of();
        if (moving.stream().anyMatch(Device::bootVga)) {
            // forced past the boot VGA check: the firmware framebuffer and fbcon still scan out of this GPU, and the
            // host driver's remove would wait for them; they are let go of first (and taken back on rollback)
            try {
                framebuffers = sysfs.bootFramebuffers();
            } catch (IOException e) {
                throw new BindingException.Failed("cannot read the boot framebuffers: " + RebindEngine.describe(e) + "; nothing was changed");
            }
        }
        return new Decision.Move(new Plan(Direction.TO_VFIO, groupKey(device), name, planned, framebuffers, notes), found);
    }

    /** A Restore's decision, timed as {@link #rebind(DeviceName, BindOptions, UsersCheck, Phases)} is. */
    public Decision restore(DeviceName name, BindOptions options, UsersCheck users, Phases phases) throws BindingException {
        Device device = readOrFail(name);
        AliasIndex aliases = index.get();
        List<Device> targets = new ArrayList<>();
        targets.add(device);
        if (options.group()) targets.addAll(groupEndpoints(device));
        List<PlannedDevice> planned = targets.stream()
                // a driverless device is probed again: whatever left it so (a hung unbind that returned, someone
                // else's unbind), giving it back means letting the kernel pick its host driver
                .filter(d -> d.driverOverride().isPresent() || onVfioDriver(d, aliases) || d.driver().isEmpty())
                .map(d -> new PlannedDevice(d.name(), Prior.of(d), new Target.Host(), onVfioDriver(d, aliases)))
                .toList();
        if (planned.isEmpty()) return new Decision.Unchanged(device.driver().orElse(""));
        // a VM holding one of them: a Restore would hang in the kernel until it lets go
        List<String> found = List.of();
        if (users == UsersCheck.NOW) {
            phases.lap("plan");
            found = refuseIfInUse(targets.stream().filter(d -> planned.stream().anyMatch(p -> p.name().equals(d.name()))).toList(),
                    options, aliases);
            phases.lap("host-use check");
        }
        return new Decision.Move(new Plan(Direction.TO_HOST, groupKey(device), name, planned, List.of()), found);
    }

    /**
     * Who uses the device and the other endpoints of its IOMMU group, one line each: what a move of the group would
     * take from the host, or from a VM.
     */
    public List<String> users(DeviceName name) throws BindingException {
        Device device = readOrFail(name);
        List<Device> all = new ArrayList<>();
        all.add(device);
        all.addAll(groupEndpoints(device));
        return users(all, index.get());
    }

    /**
     * Refuses, with every user named, unless {@code force} or a dry run: then the users are only logged, and
     * returned, for the answer.
     */
    private List<String> refuseIfInUse(List<Device> devices, BindOptions options, AliasIndex aliases) throws BindingException {
        List<String> users = users(devices, aliases);
        if (users.isEmpty()) return users;
        if (options.force()) {
            if (!options.dryRun()) LOG.warn("forced past its users: {}", String.join("; ", users));
            return users;
        }
        throw new BindingException.InUse(String.join("; ", users) + "; nothing was changed: stop using it first, or pass force");
    }

    private List<String> users(List<Device> devices, AliasIndex aliases) throws BindingException {
        List<String> out = new ArrayList<>();
        List<DeviceFolder> folders = new ArrayList<>();
        try {
            for (Device d : devices) {
                if (d.bootVga()) out.add(bootVgaUse(d));
                Optional<Path> dir = sysfs.deviceDir(d.name());
                if (dir.isPresent()) folders.add(new DeviceFolder(dir.get(), onVfioDriver(d, aliases)));
            }
            for (HostUse use : hostUses.scan(folders)) out.add(use.describe());
        } catch (IOException e) {
            // not knowing who uses it is no licence to take it
            throw new BindingException.Failed("cannot tell who uses " + devices.get(0).name() + ": " + RebindEngine.describe(e)
                    + "; nothing was changed");
        }
        return out;
    }

    /** The boot GPU's users: the framebuffer console and the firmware framebuffer that scan out of it now. */
    private String bootVgaUse(Device d) {
        List<String> users = new ArrayList<>();
        try {
            for (Sysfs.Framebuffer fb : sysfs.bootFramebuffers()) {
                users.add(fb instanceof Sysfs.Framebuffer.Console ? fb.name() + " (the framebuffer console)" : fb.name());
            }
        } catch (IOException e) {
            users.add("(the framebuffers cannot be read: " + RebindEngine.describe(e) + ")");
        }
        return d.name() + " is the boot VGA device" + (users.isEmpty() ? ", which the firmware's console may still use"
                : ": " + String.join(" and ", users) + (users.size() == 1 ? " scans" : " scan") + " out of it");
    }

    /** The gate's key, as a plan has it, read from the iommu_group link only (no device lock taken). */
    String groupKeyWithoutLock(DeviceName name) throws BindingException {
        try {
            return groupKey(sysfs.iommuGroup(name), name);
        } catch (IOException e) {
            throw new BindingException.Failed("cannot read " + name + " from sysfs: " + RebindEngine.describe(e));
        }
    }

    DriverPolicy defaultPolicy() {
        return defaultPolicy;
    }

    /** Whether the device sits on a vfio driver now. */
    public boolean onVfioDriver(Device device) {
        return onVfioDriver(device, index.get());
    }

    private static boolean onVfioDriver(Device device, AliasIndex aliases) {
        return device.vfioDev() || device.driver().map(aliases::isVfioModule).orElse(false);
    }

    private Target target(DeviceName device, DriverName module, AliasIndex aliases) throws BindingException {
        if (!aliases.isBuiltin(module.value()) && !sysfs.moduleLoaded(module)) return new Target.Module(module);
        try {
            return new Target.Driver(sysfs.driverOfModule(module).orElseThrow(() -> noDriverRegistered(device, module)));
        } catch (IOException e) {
            throw new BindingException.Failed("cannot read the drivers of module " + module + ": " + RebindEngine.describe(e) + "; nothing was changed");
        }
    }

    /** A loaded module without a driver on the device's bus: a module that is no vfio driver of that bus. */
    static BindingException.NoVfioDriver noDriverRegistered(DeviceName device, DriverName module) {
        return new BindingException.NoVfioDriver("module " + module + " is loaded but registered no " + KernelBus.titleOf(device)
                + " driver (looked in module/" + module + "/drivers and bus/" + device.bus() + "/drivers)");
    }

    Device readOrFail(DeviceName name) throws BindingException {
        try {
            return sysfs.read(name).orElseThrow(() -> new BindingException.NoSuchDevice("no " + KernelBus.titleOf(name) + " device " + name));
        } catch (IOException e) {
            throw new BindingException.Failed("cannot read " + name + " from sysfs: " + RebindEngine.describe(e));
        }
    }

    private DriverName chooseModule(Device device, Optional<String> requested, DriverPolicy policy, AliasIndex aliases,
                                    List<String> notes) throws BindingException {
        if (requested.isPresent()) {
            String r = requested.get();
            if (!DriverName.isValid(r) || !aliases.isVfioModule(r)) {
                throw new BindingException.InvalidArgument("'" + CallerText.printable(r) + "' is not a vfio driver known to the "
                        + "module aliases (known: " + String.join(", ", knownVfioModules(aliases)) + ")");
            }
            // driver_override binds whatever driver it names, known hardware or not: a variant driver on a device it
            // was not written for can do real harm, so it must claim the device by its own aliases
            if (!aliases.drives(r, device.modalias())) {
                throw new BindingException.InvalidArgument("'" + CallerText.printable(r) + "' does not drive " + device.name()
                        + ": none of its vfio_ aliases matches " + device.modalias() + " (vfio drivers for it: "
                        + String.join(", ", vfioModulesFor(device, aliases)) + "); nothing was changed");
            }
            return new DriverName(AliasIndex.normalizeModule(r));
        }
        if (aliases.resolve(device.modalias()).isEmpty()) {
            throw new BindingException.NoVfioDriver("no vfio driver matches " + device.name() + " ("
                    + device.modalias() + "); is the vfio-pci module installed for this kernel?");
        }
        return chosen(device, policy, aliases, notes);
    }

    /**
     * The module of a device no caller chose one for, whose aliases match some vfio driver: the best match, or under
     * {@link DriverPolicy#PREFER_VFIO_PCI} vfio-pci where it drives the device; a choice over a variant driver is noted.
     */
    private static DriverName chosen(Device device, DriverPolicy policy, AliasIndex aliases, List<String> notes) {
        AliasMatch best = aliases.resolve(device.modalias()).orElseThrow();
        if (policy == DriverPolicy.PREFER_VFIO_PCI && !best.module().equals(DriverPolicy.PREFER_VFIO_PCI_MODULE)) {
            if (aliases.drives(DriverPolicy.PREFER_VFIO_PCI_MODULE, device.modalias())) {
                notes.add(device.name() + ": vfio-pci instead of the variant driver " + best.module() + ", by the driver policy "
                        + policy + " (a consumer that lists only vfio-pci devices, such as KubeVirt's device plugin, sees it)");
                return new DriverName(DriverPolicy.PREFER_VFIO_PCI_MODULE);
            }
            notes.add(device.name() + ": " + best.module() + " despite the driver policy " + policy
                    + ": vfio-pci's aliases do not claim " + device.modalias());
        }
        if (best.tie()) LOG.warn("{}: {} chosen over {} on source order ({} wildcards each)", device.name(), best.module(), best.tiedWith(), best.wildcards());
        return new DriverName(best.module());
    }

    private static List<String> vfioModulesFor(Device device, AliasIndex aliases) {
        List<String> modules = knownVfioModules(aliases).stream().filter(m -> aliases.drives(m, device.modalias())).toList();
        return modules.isEmpty() ? List.of("none") : modules;
    }

    private static List<String> knownVfioModules(AliasIndex aliases) {
        return aliases.aliases().stream().map(a -> a.module()).distinct().sorted().toList();
    }

    /** The other endpoints of the device's IOMMU group (bridges excluded: they stay on their host driver). */
    private List<Device> groupEndpoints(Device device) throws BindingException {
        List<Device> out = new ArrayList<>();
        for (DeviceName member : device.groupMembers()) {
            if (member.equals(device.name())) continue;
            try {
                sysfs.read(member).filter(m -> !m.bridge()).ifPresent(out::add);
            } catch (IOException e) {
                throw new BindingException.Failed("cannot read " + member + " of IOMMU group: " + RebindEngine.describe(e));
            }
        }
        return out;
    }

    private static String groupKey(Device device) {
        return groupKey(device.iommuGroup(), device.name());
    }

    /** The key of the gate the device's operations pass: its IOMMU group, or the device alone without one. */
    private static String groupKey(OptionalInt group, DeviceName name) {
        return group.isPresent() ? "IOMMU group " + group.getAsInt() : "device " + name;
    }

    private static String describe(List<Device> devices) {
        return devices.stream().map(d -> d.name() + " (" + d.driver().orElse("no driver") + ")").collect(Collectors.joining(", "));
    }
}
