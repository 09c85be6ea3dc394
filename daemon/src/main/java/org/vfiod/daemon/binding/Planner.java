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
        refuseObjectAlone(device);
        AliasIndex aliases = index.get();
        DriverPolicy policy = options.policy().orElse(defaultPolicy);
        List<String> notes = new ArrayList<>();
        refuseWithoutGroup(device, notes);
        DriverName module = chooseModule(device, options.driver(), policy, aliases, notes);

        List<Device> followers = objectsOf(device);
        List<Device> others = groupEndpoints(device, followers);
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
                DriverName m = automatic(other, policy, aliases, notes).orElseThrow(() -> new BindingException.NoVfioDriver(
                        "no vfio driver matches " + other.name() + " (" + other.modalias() + "), which shares IOMMU group "
                        + device.iommuGroup().getAsInt() + " with " + name));
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
        if (planned.get(0).name().equals(name)) {
            for (Device f : followers) planned.add(new PlannedDevice(f.name(), Prior.of(f), new Target.Follows(name), onVfioDriver(f, aliases)));
        }
        refuseWithoutBindAttributes(planned);
        List<String> found = List.of();
        if (users == UsersCheck.NOW || planned.stream().anyMatch(p -> p.target() instanceof Target.Module)) {
            phases.lap("plan");
            List<Device> all = new ArrayList<>(moving);
            all.addAll(followers);
            found = refuseIfInUse(all.stream().filter(d -> planned.stream().anyMatch(p -> p.name().equals(d.name()))).toList(),
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
        refuseObjectAlone(device);
        AliasIndex aliases = index.get();
        List<Device> followers = objectsOf(device);
        List<Device> targets = new ArrayList<>();
        targets.add(device);
        if (options.group()) targets.addAll(groupEndpoints(device, followers));
        List<PlannedDevice> planned = new ArrayList<>(targets.stream()
                // a driverless device is probed again: whatever left it so (a hung unbind that returned, someone
                // else's unbind), giving it back means letting the kernel pick its host driver
                .filter(d -> d.driverOverride().isPresent() || onVfioDriver(d, aliases) || d.driver().isEmpty())
                .map(d -> new PlannedDevice(d.name(), Prior.of(d), new Target.Host(), onVfioDriver(d, aliases)))
                .toList());
        if (planned.isEmpty()) return new Decision.Unchanged(device.driver().orElse(""));
        if (planned.get(0).name().equals(name)) {
            for (Device f : followers) planned.add(new PlannedDevice(f.name(), Prior.of(f), new Target.Follows(name), onVfioDriver(f, aliases)));
        }
        refuseWithoutBindAttributes(planned);
        // a VM holding one of them: a Restore would hang in the kernel until it lets go
        List<String> found = List.of();
        if (users == UsersCheck.NOW) {
            phases.lap("plan");
            List<Device> all = new ArrayList<>(targets);
            all.addAll(followers);
            found = refuseIfInUse(all.stream().filter(d -> planned.stream().anyMatch(p -> p.name().equals(d.name()))).toList(),
                    options, aliases);
            phases.lap("host-use check");
        }
        return new Decision.Move(new Plan(Direction.TO_HOST, groupKey(device), name, planned, List.of()), found);
    }

    /**
     * The bus table's container rule: an object of a container (fsl-mc's {@code dpni.1} in {@code dprc.2}) moves only
     * with its container, the unit of assignment.
     */
    private void refuseObjectAlone(Device device) throws BindingException {
        Optional<DeviceName> container;
        try {
            container = sysfs.containerOf(device.name());
        } catch (IOException e) {
            throw new BindingException.Failed("cannot read the container of " + device.name() + ": " + RebindEngine.describe(e)
                    + "; nothing was changed");
        }
        if (container.isPresent()) {
            throw new BindingException.GroupNotViable(device.name() + " is an object of the " + KernelBus.titleOf(device.name())
                    + " container " + container.get() + ", which is the unit of assignment: move " + container.get()
                    + " (its objects follow it); nothing was changed");
        }
    }

    /** The objects that follow the device when it is a container; none otherwise. */
    private List<Device> objectsOf(Device device) throws BindingException {
        if (!KernelBus.of(device.name()).map(b -> b.isContainer(device.name())).orElse(false)) return List.of();
        List<Device> out = new ArrayList<>();
        try {
            for (DeviceName o : sysfs.containedIn(device.name())) sysfs.read(o).ifPresent(out::add);
        } catch (IOException e) {
            throw new BindingException.Failed("cannot read the objects of " + device.name() + ": " + RebindEngine.describe(e)
                    + "; nothing was changed");
        }
        return out;
    }

    /**
     * A device without an IOMMU group has nothing to isolate its DMA: refused, unless vfio runs in its unsafe
     * no-IOMMU mode, which gives it a fake group when it binds; then it is allowed, with a warning in the log and
     * in the answer's steps.
     */
    private void refuseWithoutGroup(Device device, List<String> notes) throws BindingException {
        if (device.iommuGroup().isPresent()) return;
        boolean noIommu;
        try {
            noIommu = sysfs.noIommuMode();
        } catch (IOException e) {
            throw new BindingException.Failed("cannot read vfio's no-IOMMU mode: " + RebindEngine.describe(e) + "; nothing was changed");
        }
        if (!noIommu) {
            throw new BindingException.GroupNotViable(device.name() + " has no IOMMU group: no IOMMU translates its DMA (none on "
                    + "the machine, off in the firmware or on the kernel command line, or none in front of its bus), so a VM given it "
                    + "could reach all of the host's memory; nothing was changed (vfio's unsafe no-IOMMU mode, "
                    + "vfio.enable_unsafe_noiommu_mode=1, would allow it with no isolation at all)");
        }
        String warning = "WARNING: " + device.name() + " has no IOMMU group, and vfio runs in its unsafe no-IOMMU mode "
                + "(module/vfio/parameters/enable_unsafe_noiommu_mode is Y): vfio gives it a fake group (/dev/vfio/noiommu-N) "
                + "with no DMA isolation, and whoever uses it can reach all of the host's memory";
        LOG.warn("{}", warning);
        notes.add(warning);
    }

    /**
     * A driver registered with {@code suppress_bind_attrs} has no {@code unbind} and no {@code bind}: a device cannot
     * be taken from it, nor given back to it by a rollback; refused before the first write.
     */
    private void refuseWithoutBindAttributes(List<PlannedDevice> planned) throws BindingException {
        for (PlannedDevice p : planned) {
            for (Step s : p.steps()) {
                if (!(s instanceof Step.Unbind u)) continue;
                if (!sysfs.driverHas(u.device(), u.from(), "unbind")) {
                    throw new BindingException.Failed(u.device() + " cannot be taken from its driver " + u.from() + ": " + u.from()
                            + " has no unbind (it is registered with suppress_bind_attrs); nothing was changed");
                }
                if (!sysfs.driverHas(u.device(), u.from(), "bind")) {
                    throw new BindingException.Failed(u.device() + " cannot be moved safely: its driver " + u.from()
                            + " has no bind, so a rollback could not give the device back to it; nothing was changed");
                }
            }
        }
    }

    /**
     * Who uses the device and the other endpoints of its IOMMU group, one line each: what a move of the group would
     * take from the host, or from a VM.
     */
    public List<String> users(DeviceName name) throws BindingException {
        Device device = readOrFail(name);
        List<Device> all = new ArrayList<>();
        all.add(device);
        List<Device> followers = objectsOf(device);
        all.addAll(groupEndpoints(device, followers));
        all.addAll(followers);
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
        return device.vfioDev() || device.driver().map(d -> aliases.isVfioModule(d) || KernelBus.isFallbackDriver(d)).orElse(false);
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
        Optional<KernelBus.VfioFallback> fallback = KernelBus.of(device.name()).flatMap(KernelBus::fallback);
        if (requested.isPresent()) {
            String r = requested.get();
            // the bus's own vfio driver, which has no id table and so no alias to claim the device by
            if (fallback.isPresent() && (r.equals(fallback.get().driver().value()) || r.equals(fallback.get().module().value()))) {
                return fallback.get().module();
            }
            if (!DriverName.isValid(r) || !aliases.isVfioModule(r)) {
                List<String> known = new ArrayList<>(knownVfioModules(aliases));
                fallback.ifPresent(f -> known.add(f.driver().value()));
                throw new BindingException.InvalidArgument("'" + CallerText.printable(r) + "' is not a vfio driver known to the "
                        + "module aliases (known: " + String.join(", ", known) + ")");
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
        return automatic(device, policy, aliases, notes).orElseThrow(() -> new BindingException.NoVfioDriver("no vfio driver matches "
                + device.name() + " (" + device.modalias() + "); is the vfio-" + device.name().bus() + " module installed for this kernel?"));
    }

    /**
     * The module of a device no caller chose one for: the aliases' choice (the seed's rule, always first), else the
     * fallback vfio driver of its bus, named as such in the notes and the log; empty when there is neither.
     */
    private static Optional<DriverName> automatic(Device device, DriverPolicy policy, AliasIndex aliases, List<String> notes) {
        if (aliases.resolve(device.modalias()).isPresent()) return Optional.of(chosen(device, policy, aliases, notes));
        Optional<KernelBus> bus = KernelBus.of(device.name());
        if (bus.isEmpty() || bus.get().fallback().isEmpty()) return Optional.empty();
        KernelBus.VfioFallback fallback = bus.get().fallback().get();
        String note = device.name() + ": no vfio_ alias matches " + (device.modalias().isEmpty() ? "it" : device.modalias()) + "; "
                + fallback.driver() + " is the fallback vfio driver of the " + bus.get().title() + " bus (it has no id table and "
                + "binds through driver_override alone)";
        LOG.info("{}", note);
        notes.add(note);
        return Optional.of(fallback.module());
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

    /**
     * The other endpoints of the device's IOMMU group: bridges excluded (they stay on their host driver), and so are
     * a container's objects, which share its group and follow it.
     */
    private List<Device> groupEndpoints(Device device, List<Device> followers) throws BindingException {
        List<Device> out = new ArrayList<>();
        for (DeviceName member : device.groupMembers()) {
            if (member.equals(device.name()) || followers.stream().anyMatch(f -> f.name().equals(member))) continue;
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

    /**
     * The key of the gate the device's operations pass: its IOMMU group, or the device alone without one (no-IOMMU
     * mode), named with its bus, since two buses may each have a device of the same kernel name.
     */
    private static String groupKey(OptionalInt group, DeviceName name) {
        return group.isPresent() ? "IOMMU group " + group.getAsInt() : "device " + name.bus() + " " + name.name();
    }

    private static String describe(List<Device> devices) {
        return devices.stream().map(d -> d.name() + " (" + d.driver().orElse("no driver") + ")").collect(Collectors.joining(", "));
    }
}
