package org.vfiod.daemon.state;

import org.vfiod.daemon.binding.DriverPolicy;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.function.UnaryOperator;
import org.vfiod.daemon.aliases.AliasIndex;
import org.vfiod.daemon.aliases.AliasMatch;
import org.vfiod.daemon.sysfs.Device;
import org.vfiod.daemon.sysfs.KernelBus;

/**
 * The boot-time udev rules generated from the persistent rules. A kernel add event for a covered device sets
 * {@code driver_override} while udev runs the rules, before 80-drivers.rules loads the host driver's module, and
 * loads the vfio module itself, so the host driver never probes the device, even before vfiod runs.
 * Generated (not a generic rule plus a helper) because udev matches these keys natively: no process per device
 * at boot, and the file says plainly what will happen.
 */
public final class UdevRules {
    public static final String FILE_NAME = "61-vfiod.rules";

    private UdevRules() {
    }

    /**
     * What one line does: for the matched devices, override with {@code driver} after loading {@code module}.
     * {@code model}: the vendor and device the line also requires, where the match alone could meet hardware the
     * module does not drive.
     */
    public record Line(DeviceMatch match, Optional<DeviceMatch.Id> model, String driver, String module, String subsystem) {
        /** A line for PCI devices. */
        public Line(DeviceMatch match, Optional<DeviceMatch.Id> model, String driver, String module) {
            this(match, model, driver, module, KernelBus.PCI.id());
        }

        public Line(DeviceMatch match, String driver, String module) {
            this(match, Optional.empty(), driver, module);
        }
    }

    /**
     * How many of a device's compatible strings a {@code match compatible} line looks at: udev has one property per
     * place in the list ({@code OF_COMPATIBLE_0}, ...), and a device tree lists a few, most specific first. A string
     * further down is matched by vfiod when it runs, not at boot.
     */
    static final int COMPATIBLE_PLACES = 8;

    /** The lines for the boot, and the rules left to vfiod alone, each with why (to be logged). */
    public record Boot(List<Line> lines, List<String> left) {
        public Boot {
            lines = List.copyOf(lines);
            left = List.copyOf(left);
        }
    }

    /**
     * The boot lines of the rules. udev applies a line to every device it matches, with nothing to check the move
     * the way vfiod does: a line is written only for a rule vfiod would not refuse ({@link RuleRefusals}), and only
     * when its one module drives every device the line can meet at boot, for driver_override binds the driver it
     * names to any device. A rule left out is still applied by vfiod when it runs.
     * {@code driverName} turns a module into the driver name driver_override takes.
     */
    public static Boot lines(List<PersistentRule> rules, List<Device> present, AliasIndex aliases, UnaryOperator<String> driverName) {
        return lines(rules, present, aliases, driverName, DriverPolicy.BEST_MATCH);
    }

    /** As above, choosing the driver of a rule without one of its own by its policy, or else {@code defaultPolicy}. */
    public static Boot lines(List<PersistentRule> rules, List<Device> present, AliasIndex aliases, UnaryOperator<String> driverName,
                             DriverPolicy defaultPolicy) {
        Set<Line> lines = new LinkedHashSet<>();
        List<String> left = new ArrayList<>();
        for (PersistentRule r : rules) {
            String name = LogText.line(String.valueOf(r.file().getFileName()));
            Optional<String> refused = RuleRefusals.of(r, present, aliases);
            if (refused.isPresent()) {
                left.add(name + ": refused: " + refused.get());
                continue;
            }
            List<Device> covered = present.stream().filter(r.match()::matches).toList();
            List<String> meets = bootModaliases(r, covered);
            DriverPolicy policy = r.policy().orElse(defaultPolicy);
            java.util.Set<String> buses = RuleRefusals.buses(r, covered);
            if (r.match() instanceof DeviceMatch.Compatible && buses.isEmpty()) buses = java.util.Set.of(KernelBus.PLATFORM.id());
            // the bus's own vfio driver when no alias chooses one (vfio-platform): it takes any device of its bus
            Optional<KernelBus.VfioFallback> fallback = buses.size() == 1
                    ? KernelBus.named(buses.iterator().next()).flatMap(KernelBus::fallback) : Optional.empty();
            Optional<String> module = r.driver().map(d -> fallback.filter(f -> f.driver().value().equals(d)).map(f -> f.module().value())
                    .orElse(AliasIndex.normalizeModule(d))).or(() -> chosenModule(meets, aliases, policy))
                    .or(() -> fallback.map(f -> f.module().value()));
            if (module.isEmpty()) {
                left.add(name + ": no one vfio driver drives every device of " + r.match().describe()
                        + "; it is applied when vfiod runs, not by udev at boot");
                continue;
            }
            boolean isFallback = fallback.filter(f -> f.module().value().equals(module.get())).isPresent();
            if (buses.size() > 1 || (buses.size() == 1 && !buses.contains(KernelBus.PCI.id()) && !isFallback
                    && !(r.match() instanceof DeviceMatch.Named))) {
                left.add(name + ": " + r.match().describe() + " covers devices of " + String.join(", ", buses)
                        + "; it is applied when vfiod runs, not by udev at boot");
                continue;
            }
            Optional<String> undriven = isFallback ? Optional.empty() : meets.stream().filter(m -> !aliases.drives(module.get(), m)).findFirst();
            if (undriven.isPresent()) {
                left.add(name + ": " + module.get() + " does not drive every device " + r.match().describe()
                        + " may cover at boot (not " + undriven.get() + "); it is applied when vfiod runs, not by udev at boot");
                continue;
            }
            String driver = isFallback ? fallback.get().driver().value() : driverName.apply(module.get());
            lines.add(new Line(r.match(), pinnedModel(r, covered, module.get(), aliases), driver, module.get(),
                    buses.isEmpty() ? KernelBus.PCI.id() : buses.iterator().next()));
        }
        return new Boot(new ArrayList<>(lines), left);
    }

    /**
     * What a line for the rule may meet at boot: the devices it covers now, the model of a model rule, and for a class
     * rule (or an address with nothing there now) any device at all.
     */
    private static List<String> bootModaliases(PersistentRule r, List<Device> covered) {
        List<String> out = new ArrayList<>(RuleRefusals.modaliases(r, covered));
        if (r.match() instanceof DeviceMatch.DeviceClass c) out.add(RuleRefusals.modalias(c));
        boolean pciName = r.match() instanceof DeviceMatch.Address
                || (r.match() instanceof DeviceMatch.Named n && n.device().bus().equals(KernelBus.PCI.id()));
        if (pciName && covered.isEmpty()) out.add(RuleRefusals.ANY_DEVICE);
        return out;
    }

    /**
     * An address may hold another card at the next boot: a line for a module that does not drive any device is kept
     * to the model there now.
     */
    private static Optional<DeviceMatch.Id> pinnedModel(PersistentRule r, List<Device> covered, String module, AliasIndex aliases) {
        if (!(r.match() instanceof DeviceMatch.Address) || covered.isEmpty() || covered.get(0).pci().isEmpty()
                || aliases.drives(module, RuleRefusals.ANY_DEVICE)) {
            return Optional.empty();
        }
        return covered.get(0).pci().map(p -> new DeviceMatch.Id(p.vendorId(), p.deviceId(), OptionalInt.empty(),
                OptionalInt.empty()));
    }

    /** The module the aliases choose for every one of the modaliases; empty when they choose none, or not one for all. */
    private static Optional<String> chosenModule(List<String> modaliases, AliasIndex aliases, DriverPolicy policy) {
        Set<String> chosen = new LinkedHashSet<>();
        for (String m : modaliases) {
            // the same choice the planner makes: vfio-pci first under the policy, where its aliases claim the device
            boolean vfioPci = policy == DriverPolicy.PREFER_VFIO_PCI && aliases.drives(DriverPolicy.PREFER_VFIO_PCI_MODULE, m);
            chosen.add(vfioPci ? DriverPolicy.PREFER_VFIO_PCI_MODULE : aliases.resolve(m).map(AliasMatch::module).orElse(""));
        }
        return chosen.size() == 1 && !chosen.contains("") ? Optional.of(chosen.iterator().next()) : Optional.empty();
    }

    public static String render(String source, List<Line> lines, List<String> autoprobeOffPfs) {
        StringBuilder b = new StringBuilder();
        b.append("# Generated by vfiod from ").append(source).append(". Do not edit: edit the rules there;\n")
                .append("# vfiod rewrites this file when they change.\n");
        for (Line l : lines) {
            // a compatible string may stand anywhere in the device's list: one line per place udev names
            int places = l.match() instanceof DeviceMatch.Compatible ? COMPATIBLE_PLACES : 1;
            for (int i = 0; i < places; i++) {
                b.append("ACTION==\"add\", SUBSYSTEM==\"").append(l.subsystem()).append("\", ");
                if (l.match() instanceof DeviceMatch.Compatible c) b.append("ENV{OF_COMPATIBLE_").append(i).append("}==\"").append(c.value()).append("\"");
                else b.append(match(l.match()));
                l.model().ifPresent(m -> b.append(", ").append(match(m)));
                b.append(", ATTR{driver_override}=\"").append(l.driver()).append("\"")
                        .append(", RUN{builtin}+=\"kmod load ").append(l.module()).append("\"\n");
            }
        }
        for (String pf : autoprobeOffPfs) {
            b.append("# SR-IOV: a rule covers the VFs of ").append(pf).append(": keep the host driver from probing them\n")
                    .append("ACTION==\"add\", SUBSYSTEM==\"pci\", KERNEL==\"").append(pf)
                    .append("\", ATTR{sriov_drivers_autoprobe}=\"0\"\n");
        }
        return b.toString();
    }

    private static String match(DeviceMatch m) {
        if (m instanceof DeviceMatch.Address a) return "KERNEL==\"" + a.address() + "\"";
        // parsed without udev's pattern characters
        if (m instanceof DeviceMatch.Named n) return "KERNEL==\"" + n.device().name() + "\"";
        if (m instanceof DeviceMatch.Id id) {
            String s = String.format("ATTR{vendor}==\"0x%04x\", ATTR{device}==\"0x%04x\"", id.vendor(), id.device());
            if (id.subVendor().isPresent()) {
                s += String.format(", ATTR{subsystem_vendor}==\"0x%04x\", ATTR{subsystem_device}==\"0x%04x\"",
                        id.subVendor().getAsInt(), id.subDevice().getAsInt());
            }
            return s;
        }
        DeviceMatch.DeviceClass c = (DeviceMatch.DeviceClass) m;
        return "ATTR{class}==\"0x" + String.format("%0" + c.digits() + "x", c.value()) + (c.digits() < 6 ? "*" : "") + "\"";
    }
}
