package org.vfiod.cli;

/**
 * The small PCI facts vfioctl needs without asking the daemon: the form of an address, driver names, and the names
 * of the PCI base classes (every bus's device names are {@link DeviceNames}). Plain string work, no regular
 * expressions, so that a command costs no pattern compilation at start.
 */
final class Pci {
    private Pci() {
    }

    /** {@code [DDDD:]BB:DD.F} in hex, device at most 1f and function at most 7, in canonical lower case; else null. */
    static String canonicalAddress(String text) {
        if (text == null) return null;
        String s = text.length() == 7 ? "0000:" + text : text;
        if (s.length() != 12 || s.charAt(4) != ':' || s.charAt(7) != ':' || s.charAt(10) != '.') return null;
        for (int i : new int[] {0, 1, 2, 3, 5, 6, 8, 9}) {
            if (Character.digit(s.charAt(i), 16) < 0) return null;
        }
        if (Character.digit(s.charAt(8), 16) > 1) return null; // device 00..1f
        char f = s.charAt(11);
        if (f < '0' || f > '7') return null;
        return s.toLowerCase(java.util.Locale.ROOT);
    }

    /** A kernel driver or module name: letters, digits, {@code _ . + -}, at most 64, not starting with a sign. */
    static boolean isDriverName(String s) {
        if (s == null || s.isEmpty() || s.length() > 64 || s.equals("..")) return false;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'
                    || (i > 0 && (c == '.' || c == '+' || c == '-'));
            if (!ok) return false;
        }
        return true;
    }

    /**
     * Whether a driver name is a vfio driver: {@code vfio} as a whole word of the name, words split at {@code _}
     * and {@code -} ({@code vfio-pci}, {@code vfio_pci}, {@code mlx5_vfio_pci}, {@code hisi_acc_vfio_pci},
     * {@code virtio-vfio-pci}; not {@code e1000e} or {@code novfio}).
     */
    static boolean isVfioDriver(String driver) {
        if (driver == null) return false;
        String n = driver.replace('-', '_');
        return n.equals("vfio") || n.startsWith("vfio_") || n.endsWith("_vfio") || n.contains("_vfio_");
    }

    /** PCI-to-PCI and host bridges: vfiod leaves them on their host driver when it moves a group. */
    static boolean isBridge(long classCode) {
        long sub = (classCode >> 8) & 0xff;
        return (classCode >> 16) == 0x06 && (sub == 0x04 || sub == 0x00);
    }

    private static final String[] BASE_CLASSES = {
        "Unclassified device", "Mass storage controller", "Network controller", "Display controller",
        "Multimedia controller", "Memory controller", "Bridge", "Communication controller",
        "Generic system peripheral", "Input device controller", "Docking station", "Processor",
        "Serial bus controller", "Wireless controller", "Intelligent controller", "Satellite communications controller",
        "Encryption controller", "Signal processing controller", "Processing accelerators", "Non-Essential Instrumentation",
    };

    /** The base class's name as pci.ids spells it ({@code Network controller}), or {@code Class xx}. */
    static String className(long classCode) {
        int base = (int) ((classCode >> 16) & 0xff);
        if (base < BASE_CLASSES.length) return BASE_CLASSES[base];
        if (base == 0x40) return "Coprocessor";
        if (base == 0xff) return "Unassigned class";
        return "Class " + hex(base, 2);
    }

    /** {@code value} as lower-case hex, zero-padded to {@code digits}. */
    static String hex(long value, int digits) {
        String h = Long.toHexString(value);
        if (h.length() >= digits) return h;
        return "0".repeat(digits - h.length()) + h;
    }
}
