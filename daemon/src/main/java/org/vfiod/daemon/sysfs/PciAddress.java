package org.vfiod.daemon.sysfs;

import java.util.Optional;

/**
 * A PCI address, {@code DDDD:BB:DD.F}. Parsing is the gate between caller text and paths: nothing else that a
 * caller wrote ever becomes part of a path.
 */
public record PciAddress(int domain, int bus, int device, int function) implements Comparable<PciAddress> {
    private static final char[] HEX = "0123456789abcdef".toCharArray();

    public PciAddress {
        if (domain < 0 || domain > 0xffff || bus < 0 || bus > 0xff || device < 0 || device > 0x1f
                || function < 0 || function > 7) {
            throw new IllegalArgumentException("PCI address out of range");
        }
    }

    /**
     * Strict parse of {@code [DDDD:]BB:DD.F} (hex, either case); the domain may be omitted (it is then 0000). Empty
     * for anything else. Hand-written rather than a regular expression: it runs for every device at start-up and
     * for every call on a device path.
     */
    public static Optional<PciAddress> parse(String text) {
        if (text == null) return Optional.empty();
        int n = text.length();
        if (n != 7 && n != 12) return Optional.empty();
        int at = 0;
        int domain = 0;
        if (n == 12) {
            domain = hex(text, 0, 4);
            if (domain < 0 || text.charAt(4) != ':') return Optional.empty();
            at = 5;
        }
        int bus = hex(text, at, 2);
        int device = hex(text, at + 3, 2);
        char f = text.charAt(at + 6);
        if (bus < 0 || text.charAt(at + 2) != ':' || device < 0 || device > 0x1f || text.charAt(at + 5) != '.'
                || f < '0' || f > '7') {
            return Optional.empty();
        }
        return Optional.of(new PciAddress(domain, bus, device, f - '0'));
    }

    /** The value of {@code len} hex digits at {@code from}, or -1. */
    private static int hex(String s, int from, int len) {
        int v = 0;
        for (int i = from; i < from + len; i++) {
            int d = Character.digit(s.charAt(i), 16);
            // Character.digit accepts non-ASCII digits too: only 0-9, a-f, A-F are hex here
            if (d < 0 || s.charAt(i) > 'f') return -1;
            v = v * 16 + d;
        }
        return v;
    }

    /** Like {@link #parse} but for text that must be an address, with a message a person can act on. */
    public static PciAddress require(String text) {
        return parse(text).orElseThrow(() -> new IllegalArgumentException(
                "'" + CallerText.printable(text) + "' is not a PCI address (expected DDDD:BB:DD.F in hex, e.g. 0000:01:00.0)"));
    }

    /** Canonical lower-case form, as the kernel names the device. */
    @Override
    public String toString() {
        return new String(chars(':', ':', '.'));
    }

    private char[] chars(char afterDomain, char afterBus, char afterDevice) {
        return new char[] {HEX[domain >> 12], HEX[(domain >> 8) & 0xf], HEX[(domain >> 4) & 0xf], HEX[domain & 0xf],
                afterDomain, HEX[bus >> 4], HEX[bus & 0xf], afterBus, HEX[device >> 4], HEX[device & 0xf], afterDevice,
                HEX[function]};
    }

    /** The device the kernel lists as this address under {@code /sys/bus/pci/devices}. */
    public DeviceName toDeviceName() {
        return new DeviceName(KernelBus.PCI.id(), toString());
    }

    /*
     * equals and hashCode by hand, with the record's meaning: the generated ones are bound at their first call
     * (ObjectMethods' bootstrap spins some 30 method-handle classes, about 15 ms of a start, when the registry first
     * hashes an address).
     */
    @Override
    public boolean equals(Object o) {
        return o instanceof PciAddress a && a.domain == domain && a.bus == bus && a.device == device && a.function == function;
    }

    @Override
    public int hashCode() {
        return ((domain * 31 + bus) * 31 + device) * 31 + function;
    }

    /** The order of the canonical text (fixed-width hex), without building it. */
    @Override
    public int compareTo(PciAddress o) {
        int c = Integer.compare(domain, o.domain);
        if (c == 0) c = Integer.compare(bus, o.bus);
        if (c == 0) c = Integer.compare(device, o.device);
        return c != 0 ? c : Integer.compare(function, o.function);
    }
}
