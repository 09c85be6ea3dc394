package org.vfiod.daemon.sysfs;

import java.util.Optional;
import java.util.regex.Pattern;

/**
 * A PCI address, {@code DDDD:BB:DD.F}. Parsing is the gate between caller text and paths: nothing else that a
 * caller wrote ever becomes part of a path.
 */
public record PciAddress(int domain, int bus, int device, int function) implements Comparable<PciAddress> {
    private static final Pattern FORM =
            Pattern.compile("(?:([0-9a-fA-F]{4}):)?([0-9a-fA-F]{2}):([0-9a-fA-F]{2})\\.([0-7])");

    public PciAddress {
        if (domain < 0 || domain > 0xffff || bus < 0 || bus > 0xff || device < 0 || device > 0x1f
                || function < 0 || function > 7) {
            throw new IllegalArgumentException("PCI address out of range");
        }
    }

    /** Strict parse; the domain may be omitted (it is then 0000). Empty for anything else. */
    public static Optional<PciAddress> parse(String text) {
        if (text == null || text.length() > 12) return Optional.empty();
        var m = FORM.matcher(text);
        if (!m.matches()) return Optional.empty();
        int device = Integer.parseInt(m.group(3), 16);
        if (device > 0x1f) return Optional.empty();
        int domain = m.group(1) == null ? 0 : Integer.parseInt(m.group(1), 16);
        return Optional.of(new PciAddress(domain, Integer.parseInt(m.group(2), 16), device,
                Integer.parseInt(m.group(4))));
    }

    /** Like {@link #parse} but for text that must be an address, with a message a person can act on. */
    public static PciAddress require(String text) {
        return parse(text).orElseThrow(() -> new IllegalArgumentException(
                "'" + CallerText.printable(text) + "' is not a PCI address (expected DDDD:BB:DD.F in hex, e.g. 0000:01:00.0)"));
    }

    /** Canonical lower-case form, as the kernel names the device. */
    @Override
    public String toString() {
        return String.format("%04x:%02x:%02x.%x", domain, bus, device, function);
    }

    /** The D-Bus object path element: {@code pci_0000_01_00_0}. */
    public String objectPathElement() {
        return "pci_" + toString().replace(':', '_').replace('.', '_');
    }

    /** The inverse of {@link #objectPathElement()}. */
    public static Optional<PciAddress> fromObjectPathElement(String element) {
        if (element == null || !element.matches("pci_[0-9a-f]{4}_[0-9a-f]{2}_[0-9a-f]{2}_[0-7]")) return Optional.empty();
        String s = element.substring(4);
        return parse(s.substring(0, 4) + ":" + s.substring(5, 7) + ":" + s.substring(8, 10) + "." + s.substring(11));
    }

    @Override
    public int compareTo(PciAddress o) {
        return toString().compareTo(o.toString());
    }

}
