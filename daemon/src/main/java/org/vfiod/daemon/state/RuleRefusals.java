package org.vfiod.daemon.state;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.vfiod.daemon.aliases.AliasIndex;
import org.vfiod.daemon.sysfs.Device;
import org.vfiod.daemon.sysfs.KernelBus;

/**
 * The checks the daemon makes of a move, made of a rule when the rules are loaded. A rule the daemon would refuse
 * is not in effect: it is reported once and never reaches the boot rules, where udev would apply it unchecked.
 */
final class RuleRefusals {
    private RuleRefusals() {
    }

    /** Why the daemon would refuse what the rule asks, judged against every device {@code present} now; empty if not. */
    static Optional<String> of(PersistentRule rule, List<Device> present, AliasIndex aliases) {
        List<Device> covered = present.stream().filter(rule.match()::matches).toList();
        for (Device d : covered) {
            if (d.bootVga()) {
                return Optional.of("it covers " + d.name() + ", the boot VGA device, which moves only with force, and a rule"
                        + " never gives force; match the devices you mean by id or address");
            }
        }
        if (rule.driver().isEmpty()) return Optional.empty();
        String driver = rule.driver().get();
        if (KernelBus.isFallbackDriver(driver)) {
            // a bus's own vfio driver (vfio-platform): no alias to check it by, but only for devices of its bus
            for (String bus : buses(rule, covered)) {
                boolean its = KernelBus.named(bus).flatMap(KernelBus::fallback)
                        .filter(f -> f.driver().value().equals(driver) || f.module().value().equals(driver)).isPresent();
                if (!its) return Optional.of("driver " + LogText.excerpt(driver) + " is not the vfio driver of the " + bus + " bus");
            }
            return Optional.empty();
        }
        if (!aliases.isVfioModule(driver)) {
            return Optional.of("driver " + LogText.excerpt(driver) + " is not a vfio driver known to the module aliases");
        }
        for (String modalias : modaliases(rule, covered)) {
            if (!aliases.drives(driver, modalias)) {
                return Optional.of("driver " + LogText.excerpt(driver) + " does not drive " + modalias
                        + ": none of its vfio_ aliases matches it");
            }
        }
        return Optional.empty();
    }

    /** The buses of the devices a rule covers: those present, and the bus a rule by bus and name names. */
    static java.util.Set<String> buses(PersistentRule rule, List<Device> covered) {
        java.util.Set<String> out = new java.util.TreeSet<>();
        for (Device d : covered) out.add(d.name().bus());
        if (rule.match() instanceof DeviceMatch.Named n) out.add(n.device().bus());
        if (rule.match() instanceof DeviceMatch.Address || rule.match() instanceof DeviceMatch.Id
                || rule.match() instanceof DeviceMatch.DeviceClass) {
            out.add(KernelBus.PCI.id());
        }
        return out;
    }

    /** What the devices a rule covers say they are: those present, and for a model rule the model itself. */
    static List<String> modaliases(PersistentRule rule, List<Device> covered) {
        List<String> out = new ArrayList<>();
        for (Device d : covered) out.add(d.modalias());
        if (rule.match() instanceof DeviceMatch.Id id) out.add(modalias(id));
        return out;
    }

    /** A device of the model: variant aliases are keyed by vendor and device, so those decide. */
    static String modalias(DeviceMatch.Id id) {
        return String.format("pci:v%08Xd%08Xsv%08Xsd%08Xbc00sc00i00", id.vendor(), id.device(),
                id.subVendor().orElse(0), id.subDevice().orElse(0));
    }

    /**
     * A device of the class from no vendor at all: only a driver that takes any device matches it, the one safe choice
     * for a rule that covers whatever hardware is plugged in later.
     */
    static String modalias(DeviceMatch.DeviceClass c) {
        int full = c.value() << ((6 - c.digits()) * 4);
        return String.format("pci:v00000000d00000000sv00000000sd00000000bc%02Xsc%02Xi%02X", full >> 16, (full >> 8) & 0xff, full & 0xff);
    }

    /** A device from no vendor: what an address rule may meet at boot when no device sits there now. */
    static final String ANY_DEVICE = "pci:v00000000d00000000sv00000000sd00000000bc00sc00i00";
}
