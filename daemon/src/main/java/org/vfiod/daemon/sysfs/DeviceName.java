package org.vfiod.daemon.sysfs;

import org.vfiod1.DevicePaths;

/**
 * The kernel's identity of a device: its bus ({@code pci}) and its name under {@code /sys/bus/<bus>/devices}
 * ({@code 0000:03:00.0}). Both become path elements, so both are checked here; the name is also a word of the
 * journal, hence no spaces. Hand-checked rather than with a regular expression: one is made for every device at
 * start-up and for every event.
 */
public record DeviceName(String bus, String name) implements Comparable<DeviceName> {
    private static final int MAX_BUS = 32;
    private static final int MAX_NAME = 64;

    public DeviceName {
        if (!isBus(bus)) {
            throw new IllegalArgumentException("'" + CallerText.printable(bus) + "' is not a bus name");
        }
        if (!isName(name)) {
            throw new IllegalArgumentException("'" + CallerText.printable(name) + "' is not a kernel device name");
        }
    }

    /** {@code [a-z][a-z0-9_-]{0,31}}: how the kernel spells its buses ({@code pci}, {@code platform}, {@code fsl-mc}). */
    public static boolean isBus(String bus) {
        if (bus == null || bus.isEmpty() || bus.length() > MAX_BUS) return false;
        for (int i = 0; i < bus.length(); i++) {
            char c = bus.charAt(i);
            boolean ok = (c >= 'a' && c <= 'z') || (i > 0 && ((c >= '0' && c <= '9') || c == '_' || c == '-'));
            if (!ok) return false;
        }
        return true;
    }

    /** Printable ASCII without space or {@code /}, at most 64 characters, never {@code .} or {@code ..}. */
    public static boolean isName(String name) {
        if (name == null || name.isEmpty() || name.length() > MAX_NAME || name.equals(".") || name.equals("..")) return false;
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c <= ' ' || c >= 0x7f || c == '/') return false;
        }
        return true;
    }

    /** The kernel name alone: what messages and logs show, and what {@code bind}, {@code unbind} and probe take. */
    @Override
    public String toString() {
        return name;
    }

    /**
     * The D-Bus object path element: the bus and the name escaped as systemd escapes labels, joined by {@code _}
     * ({@code pci_0000_3a03_3a00_2e0}; see {@link DevicePaths}, which also decodes it, for clients).
     */
    public String objectPathElement() {
        return DevicePaths.element(bus, name);
    }

    /** By bus, then name; for PCI's fixed-width lower-case names that is address order. */
    @Override
    public int compareTo(DeviceName o) {
        int c = bus.compareTo(o.bus);
        return c != 0 ? c : name.compareTo(o.name);
    }
}
