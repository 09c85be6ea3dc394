package org.vfiod.cli;

import java.util.Optional;
import org.vfiod.client.DeviceInfo;
import org.vfiod1.DevicePaths;

/**
 * How vfioctl names a device to people and to vfiod: a PCI device by its address alone ({@code 0000:03:00.0}, as
 * ever), a device of another bus as {@code bus:name} ({@code platform:a000000.virtio_mmio}), the form the Manager's
 * methods take. Which names a bus gives is vfiod's to say: here only the shape is checked.
 */
final class DeviceNames {
    private static final String PCI = "pci";

    private DeviceNames() {
    }

    /**
     * What the Manager is asked with for a device argument: a PCI address with or without its domain or
     * {@code pci:}, in either case, made canonical; {@code bus:name}; or the device's object path, decoded. Null if
     * it is none of these.
     */
    static String canonicalDevice(String text) {
        if (text == null) return null;
        if (text.startsWith("/")) return fromObjectPath(text);
        String pci = Pci.canonicalAddress(text.startsWith(PCI + ":") ? text.substring(PCI.length() + 1) : text);
        if (pci != null) return pci;
        int colon = text.indexOf(':');
        if (colon < 0) return null;
        String bus = text.substring(0, colon);
        String name = text.substring(colon + 1);
        return isBus(bus) && !bus.equals(PCI) && isName(name) ? text : null;
    }

    /** The device of a vfiod object path, as {@link #of} names it, or null when the path names none. */
    static String fromObjectPath(String path) {
        Optional<DevicePaths.Address> a = DevicePaths.decode(path);
        if (a.isEmpty()) return null;
        if (!a.get().bus().equals(PCI)) return isBus(a.get().bus()) && isName(a.get().name()) ? a.get().toString() : null;
        String canonical = Pci.canonicalAddress(a.get().name());
        return canonical != null && canonical.equals(a.get().name()) ? canonical : null;
    }

    /** The device a path names, or the path itself when it names none vfioctl can decode. */
    static String addressOrPath(String path) {
        String a = fromObjectPath(path);
        return a == null ? path : a;
    }

    /** The device as vfioctl shows it, and as {@code vfioctl rebind} takes it. */
    static String of(DeviceInfo d) {
        return isPci(d) ? d.address() : d.subsystem() + ":" + d.address();
    }

    /** A PCI device, or one of a vfiod that did not say its bus. */
    static boolean isPci(DeviceInfo d) {
        return d.subsystem().isEmpty() || d.subsystem().equals(PCI);
    }

    /** How the kernel spells a bus: {@code [a-z][a-z0-9_-]}, at most 32. */
    private static boolean isBus(String s) {
        if (s.isEmpty() || s.length() > 32) return false;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (!((c >= 'a' && c <= 'z') || (i > 0 && ((c >= '0' && c <= '9') || c == '_' || c == '-')))) return false;
        }
        return true;
    }

    /** A kernel device name: printable ASCII without space or {@code /}, at most 64, never {@code .} or {@code ..}. */
    private static boolean isName(String s) {
        if (s.isEmpty() || s.length() > 64 || s.equals(".") || s.equals("..")) return false;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c <= ' ' || c >= 0x7f || c == '/') return false;
        }
        return true;
    }
}
