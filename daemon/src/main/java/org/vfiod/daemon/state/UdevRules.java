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
    public record Line(DeviceMatch match, Optional<DeviceMatch.Id> model, String driver, String module) {
        public Line(DeviceMatch match, String driver, String module) {
            this(match, Optional.empty(), driver, module);
        }
    }

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
            Optional<String> module = r.driver().map(AliasIndex::normalizeModule).or(() -> chosenModule(meets, aliases, policy));
            if (module.isEmpty()) {
                left.add(name + ": no one vfio driver drives every device of " + r.match().describe()
                        + "; it is applied when vfiod runs, not by udev at boot");
                continue;
            }
            Optional<String> undriven = meets.stream().filter(m -> !aliases.drives(module.get(), m)).findFirst();
            if (undriven.isPresent()) {
                left.add(name + ": " + module.get() + " does not drive every device " + r.match().describe()
                        + " may cover at boot (not " + undriven.get() + "); it is applied when vfiod runs, not by udev at boot");
                continue;
            }
            lines.add(new Line(r.match(), pinnedModel(r, covered, module.get(), aliases), driverName.apply(module.get()), module.get()));
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
        if (r.match() instanceof DeviceMatch.Address && covered.isEmpty()) out.add(RuleRefusals.ANY_DEVICE);
        return out;
    }

    /**
     * An address may hold another card at the next boot: a line for a module that does not drive any device is kept
     * to the model there now.
     */
    private static Optional<DeviceMatch.Id> pinnedModel(PersistentRule r, List<Device> covered, String module, AliasIndex aliases) {
        if (!(r.match() instanceof DeviceMatch.Address) || covered.isEmpty() || aliases.drives(module, RuleRefusals.ANY_DEVICE)) {
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
            b.append("ACTION==\"add\", SUBSYSTEM==\"pci\", ").append(match(l.match()));
            l.model().ifPresent(m -> b.append(", ").append(match(m)));
            b.append(", ATTR{driver_override}=\"").append(l.driver()).append("\"")
                    .append(", RUN{builtin}+=\"kmod load ").append(l.module()).append("\"\n");
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
