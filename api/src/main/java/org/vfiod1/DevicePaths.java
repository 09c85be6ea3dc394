package org.vfiod1;

import java.util.Collection;
import java.util.List;
import java.util.Optional;

/**
 * How vfiod names a device's object: {@code /org/vfiod/devices/<bus>_<name>}, the bus and the kernel name each
 * escaped as systemd escapes a label in an object path ({@code bus_label_escape}): every character outside
 * {@code [A-Za-z0-9]} becomes {@code _} and its two lower-case hex digits ({@code :} {@code _3a}, {@code .}
 * {@code _2e}, {@code _} {@code _5f}, {@code -} {@code _2d}), joined by a literal {@code _}. So
 * {@code pci_0000_3a03_3a00_2e0}, {@code platform_a000000_2evirtio_5fmmio}, {@code fsl_2dmc_dprc_2e1},
 * {@code cdx_cdx_2d00_3a01}.
 * (systemd also escapes a leading digit; an element here always starts with its bus, a letter, so that never
 * arises.)
 *
 * <p>Reversible, unlike vfiod's first form ({@code pci_0000_03_00_0}), in which {@code a.b} and {@code a_b} met:
 * {@link #decode} takes the one known bus whose escaped name and {@code _} begin the element and unescapes the
 * rest. Clients should still take paths from DeviceByAddress and ListDevices rather than build them.
 */
public final class DevicePaths {
    /** The folder of the device objects, with its trailing {@code /}. */
    public static final String PREFIX = Manager.DEVICES_PATH + "/";
    /**
     * The buses of this contract, for a client that decodes a path without asking vfiod; vfiod itself decodes with
     * the buses it implements.
     */
    public static final List<String> BUSES = List.of("pci", "platform", "cdx", "fsl-mc", "amba");

    private static final char[] HEX = "0123456789abcdef".toCharArray();

    private DevicePaths() {
    }

    /** A device as the kernel names it, and as Manager methods take it: {@code bus:name}. */
    public record Address(String bus, String name) {
        @Override
        public String toString() {
            return bus + ":" + name;
        }
    }

    /** The object path of the device {@code name} on {@code bus}. */
    public static String path(String bus, String name) {
        return PREFIX + element(bus, name);
    }

    /**
     * The last element of that path. Both parts must be non-empty ASCII (what the kernel gives): anything else is
     * no device vfiod could name.
     */
    public static String element(String bus, String name) {
        StringBuilder b = new StringBuilder(3 * (bus.length() + name.length()) + 1);
        escape(b, bus);
        b.append('_');
        escape(b, name);
        return b.toString();
    }

    private static void escape(StringBuilder b, String s) {
        if (s.isEmpty()) throw new IllegalArgumentException("an empty bus or device name has no object path");
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c >= 0x80) throw new IllegalArgumentException("'" + s + "' is not ASCII: no kernel device name");
            if (isAlnum(c)) b.append(c);
            else b.append('_').append(HEX[c >> 4]).append(HEX[c & 0xf]);
        }
    }

    /** The device of a path under {@link #PREFIX}, decoded with the buses of this contract ({@link #BUSES}). */
    public static Optional<Address> decode(String path) {
        return decode(path, BUSES);
    }

    /** The device of a path under {@link #PREFIX}, decoded with {@code buses}; empty for any other path. */
    public static Optional<Address> decode(String path, Collection<String> buses) {
        if (path == null || !path.startsWith(PREFIX)) return Optional.empty();
        return decodeElement(path.substring(PREFIX.length()), buses);
    }

    /**
     * The device an element names: the bus in {@code buses} whose escaped name and {@code _} begin it, and the rest
     * unescaped. Empty when no bus or more than one fits, or when the element is not exactly what {@link #element}
     * makes of that device (an upper-case or needless escape, a stray {@code _}, a non-ASCII or empty name): each
     * device has one path and each path at most one device.
     */
    public static Optional<Address> decodeElement(String element, Collection<String> buses) {
        if (element == null) return Optional.empty();
        Optional<Address> found = Optional.empty();
        for (String bus : buses) {
            String prefix;
            try {
                prefix = element(bus, "x");
            } catch (IllegalArgumentException e) {
                continue;
            }
            prefix = prefix.substring(0, prefix.length() - 1);
            if (!element.startsWith(prefix)) continue;
            Optional<String> name = unescape(element, prefix.length());
            if (name.isEmpty()) continue;
            if (found.isPresent()) return Optional.empty(); // two buses read it: no one device
            found = Optional.of(new Address(bus, name.get()));
        }
        return found;
    }

    /** {@code s} from {@code from} unescaped, if it is the canonical escape of a non-empty ASCII name. */
    private static Optional<String> unescape(String s, int from) {
        if (from >= s.length()) return Optional.empty();
        StringBuilder out = new StringBuilder(s.length() - from);
        for (int i = from; i < s.length(); i++) {
            char c = s.charAt(i);
            if (isAlnum(c)) {
                out.append(c);
            } else if (c == '_' && i + 2 < s.length()) {
                int hi = lowerHex(s.charAt(i + 1));
                int lo = lowerHex(s.charAt(i + 2));
                if (hi < 0 || lo < 0 || hi > 7) return Optional.empty();
                char d = (char) (hi << 4 | lo);
                if (isAlnum(d)) return Optional.empty(); // never escaped, so not a path vfiod made
                out.append(d);
                i += 2;
            } else {
                return Optional.empty();
            }
        }
        return Optional.of(out.toString());
    }

    private static int lowerHex(char c) {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        return -1;
    }

    private static boolean isAlnum(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    }
}
