package org.vfiod.daemon.state;

import org.vfiod.daemon.files.AtomicFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.vfiod.daemon.aliases.AliasIndex;
import org.vfiod.daemon.binding.BindOptions;
import org.vfiod.daemon.binding.BindResult;
import org.vfiod.daemon.binding.BindingException;
import org.vfiod.daemon.binding.RebindEngine;
import org.vfiod.daemon.sysfs.Device;
import org.vfiod.daemon.sysfs.DeviceName;
import org.vfiod.daemon.sysfs.DriverName;
import org.vfiod.daemon.sysfs.PciAddress;
import org.vfiod.daemon.sysfs.PciInfo;
import org.vfiod.daemon.sysfs.Sysfs;

/**
 * Applies the persistent rules: at start (coldplug) to every device present, on every add (hotplug, new VFs), and
 * to the boot path through the generated udev rules. Each outcome is logged and shows in the device's
 * properties (Persistent, Driver, State).
 */
public final class Persistence implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Persistence.class);

    private final RuleStore store;
    private final Sysfs sysfs;
    private final RebindEngine engine;
    private final Supplier<AliasIndex> index;
    private final Optional<Path> udevRulesDir;
    private final Consumer<DeviceName> changed;
    private final Owners owners;
    private final ExecutorService worker = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "persistence");
        t.setDaemon(true);
        return t;
    });

    /** Gives a rule's owner the VFIO nodes of a device the rule put on VFIO. */
    @FunctionalInterface
    public interface Owners {
        /** Returns what was done, for the log; throws with why not (no such user, no node). */
        String grant(DeviceName device, long uid) throws IOException;
    }

    /** {@code changed} is told of every device a rule moved, so its object is refreshed. */
    public Persistence(RuleStore store, Sysfs sysfs, RebindEngine engine, Supplier<AliasIndex> index,
                       Optional<Path> udevRulesDir, Consumer<DeviceName> changed) {
        this(store, sysfs, engine, index, udevRulesDir, changed, (d, uid) -> {
            throw new IOException("no access control here");
        });
    }

    /** {@code owners} gives a rule's owner the nodes of the devices it moves. */
    public Persistence(RuleStore store, Sysfs sysfs, RebindEngine engine, Supplier<AliasIndex> index,
                       Optional<Path> udevRulesDir, Consumer<DeviceName> changed, Owners owners) {
        this.owners = owners;
        this.store = store;
        this.sysfs = sysfs;
        this.engine = engine;
        this.index = index;
        this.udevRulesDir = udevRulesDir;
        this.changed = changed;
        store.checkWith(this::refusals);
    }

    /** The rules the daemon would refuse, judged against the devices present now. */
    private Map<Path, String> refusals(List<PersistentRule> rules) {
        List<Device> devices = presentDevices().orElse(List.of());
        AliasIndex aliases = index.get();
        Map<Path, String> out = new HashMap<>();
        for (PersistentRule r : rules) RuleRefusals.of(r, devices, aliases).ifPresent(why -> out.put(r.file(), why));
        return out;
    }

    public RuleStore store() {
        return store;
    }

    public boolean covers(Device device) {
        return store.covers(device);
    }

    /**
     * Start: read the rules, write the boot rules, keep PFs from autoprobing covered VFs, move every covered device.
     * {@code devices} are every device as the caller just read them, so start-up reads sysfs only once.
     */
    public void coldplug(List<Device> devices) {
        store.reload();
        List<String> pfs = protectVfs(devices);
        writeUdevRules(devices, pfs);
        for (Device d : devices) apply(d, "at start");
    }

    /** A device appeared (hotplug, a new VF): move it if a rule covers it. Runs off the caller's thread. */
    public void onAdded(DeviceName device) {
        worker.execute(() -> {
            try {
                sysfs.read(device).ifPresent(d -> apply(d, "on add"));
            } catch (IOException e) {
                LOG.warn("cannot read added device {}: {}", device, e.toString());
            }
        });
    }

    /** Rules changed through the API: regenerate the boot rules. */
    public void rulesChanged() {
        List<Device> devices = presentDevices().orElse(List.of());
        writeUdevRules(devices, protectVfs(devices));
    }

    /** Every device present now; empty when they cannot be listed (logged). */
    private Optional<List<Device>> presentDevices() {
        try {
            return Optional.of(sysfs.readAll());
        } catch (IOException e) {
            LOG.error("cannot list devices for the persistent rules: {}", e.toString());
            return Optional.empty();
        }
    }

    private void apply(Device d, String when) {
        Optional<PersistentRule> rule = store.ruleFor(d);
        if (rule.isEmpty() || d.bridge()) return;
        if (engine.onVfioDriver(d)) {
            LOG.info("{} {}: already on {} as {} asks", d.name(), when, d.driver().orElse("?"), fileName(rule.get()));
            // the boot rules (udev) put it there before vfiod ran: the owner is vfiod's to give
            grantOwner(d.name(), rule.get(), when);
            return;
        }
        BindOptions options = BindOptions.defaults().withGroup(rule.get().group()).withForce(false);
        if (rule.get().driver().isPresent()) options = options.withDriver(rule.get().driver().get());
        if (rule.get().policy().isPresent()) options = options.withPolicy(rule.get().policy().get());
        try {
            BindResult r = engine.rebind(d.name(), options);
            LOG.info("{} {}: moved to {} by {}", d.name(), when, r.driver(), fileName(rule.get()));
            grantOwner(d.name(), rule.get(), when);
        } catch (BindingException e) {
            LOG.error("{} {}: {} asks for VFIO, but: {}", d.name(), when, fileName(rule.get()), e.getMessage());
        } finally {
            changed.accept(d.name());
        }
    }

    private void grantOwner(DeviceName device, PersistentRule rule, String when) {
        if (rule.owner().isEmpty()) return;
        try {
            LOG.info("{} {}: {}, as {} asks", device, when, owners.grant(device, rule.owner().getAsLong()), fileName(rule));
            // its object shows who has access: read again, also when the device did not move
            changed.accept(device);
        } catch (IOException | RuntimeException e) {
            LOG.error("{} {}: {} names owner {}, but: {}", device, when, fileName(rule), rule.owner().getAsLong(), e.getMessage());
        }
    }

    private static String fileName(PersistentRule rule) {
        return LogText.line(String.valueOf(rule.file().getFileName()));
    }

    /** Turns off sriov_drivers_autoprobe on every PF whose VFs a rule covers; returns those PFs. */
    private List<String> protectVfs(List<Device> devices) {
        List<String> pfs = new ArrayList<>();
        for (Device d : devices) {
            if (d.pci().isEmpty()) continue;
            PciInfo pci = d.pci().get();
            PciAddress pf = PciAddress.require(d.name().name());
            Optional<Integer> vfDevice;
            try {
                vfDevice = sysfs.sriovVfDeviceId(pf);
            } catch (IOException e) {
                continue;
            }
            if (vfDevice.isEmpty()) continue;
            Device vfModel = new Device(d.name(), d.modalias(), Optional.empty(), Optional.empty(), java.util.OptionalInt.empty(),
                    List.of(), false, false, false, Optional.of(new PciInfo(pci.vendorId(), vfDevice.get(), pci.classCode(),
                    pci.subsystemVendorId(), pci.subsystemDeviceId(), Optional.empty(), List.of())));
            boolean covered = store.current().rules().stream().anyMatch(r -> r.match() instanceof DeviceMatch.Id && r.match().matches(vfModel))
                    || pci.virtfns().stream().anyMatch(vf -> store.current().rules().stream().anyMatch(r -> {
                        try {
                            return sysfs.read(vf.toDeviceName()).map(r.match()::matches).orElse(false);
                        } catch (IOException e) {
                            return false;
                        }
                    }));
            if (!covered) continue;
            pfs.add(pf.toString());
            try {
                if (sysfs.sriovDriversAutoprobe(pf).orElse(false)) {
                    sysfs.writeSriovDriversAutoprobe(pf, false);
                    LOG.info("{}: sriov_drivers_autoprobe off, so the host driver does not grab its VFs first", pf);
                }
            } catch (IOException e) {
                LOG.warn("{}: cannot turn off sriov_drivers_autoprobe: {}", pf, e.toString());
            }
        }
        return pfs;
    }

    private void writeUdevRules(List<Device> devices, List<String> pfs) {
        if (udevRulesDir.isEmpty()) return;
        UdevRules.Boot boot = UdevRules.lines(store.current().rules(), devices, index.get(), this::driverName, engine.defaultPolicy());
        for (String left : boot.left()) LOG.warn("not in the boot rules: {}", left);
        List<UdevRules.Line> lines = boot.lines();
        Path file = udevRulesDir.get().resolve(UdevRules.FILE_NAME);
        try {
            if (lines.isEmpty() && pfs.isEmpty()) {
                AtomicFiles.delete(file);
            } else {
                String text = UdevRules.render(store.folder().toString(), lines, pfs);
                if (!Files.exists(file) || !Files.readString(file).equals(text)) AtomicFiles.write(file, text);
            }
        } catch (IOException e) {
            LOG.warn("cannot write {}: {}", file, e.toString());
        }
    }

    /** driver_override takes the driver name: exact once the module is loaded, vfio_pci's known spelling before. */
    private String driverName(String module) {
        try {
            Optional<DriverName> loaded = sysfs.driverOfModule(new DriverName(AliasIndex.normalizeModule(module)));
            if (loaded.isPresent()) return loaded.get().value();
        } catch (IOException | IllegalArgumentException e) {
            LOG.debug("driver of {} unknown: {}", module, e.toString());
        }
        return AliasIndex.normalizeModule(module).equals("vfio_pci") ? "vfio-pci" : module;
    }

    /** Waits for the queued hotplug work (tests). */
    public void awaitIdle(Duration limit) throws Exception {
        worker.submit(() -> { }).get(limit.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
    }

    @Override
    public void close() {
        worker.shutdownNow();
    }
}
