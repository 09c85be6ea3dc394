package org.vfiod.daemon.usage;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** The lines of a {@code /proc/<pid>/mountinfo}. */
final class MountTable {
    /**
     * @param number the device the kernel says is mounted (field 3); btrfs gives an anonymous 0:N here
     * @param source the mount source after the " - " separator, such as /dev/nvme0n1p2, which btrfs does name
     */
    record Mount(DeviceNumber number, String source, String mountPoint) {
    }

    private MountTable() {
    }

    static List<Mount> parse(String mountinfo) {
        List<Mount> out = new ArrayList<>();
        for (String line : mountinfo.split("\n")) parseLine(line).ifPresent(out::add);
        return out;
    }

    private static Optional<Mount> parseLine(String line) {
        // id parent MAJ:MIN root mount-point options [optional fields...] - fstype source super-options
        String[] f = line.split(" ");
        if (f.length < 10) return Optional.empty();
        Optional<DeviceNumber> number = DeviceNumber.parse(f[2]);
        if (number.isEmpty()) return Optional.empty();
        String source = "";
        for (int i = 6; i + 2 < f.length; i++) {
            if (f[i].equals("-")) {
                source = unescape(f[i + 2]);
                break;
            }
        }
        return Optional.of(new Mount(number.get(), source, unescape(f[4])));
    }

    /** The kernel writes space, tab, newline and backslash in paths as \040, \011, \012 and \134. */
    static String unescape(String text) {
        if (text.indexOf('\\') < 0) return text;
        StringBuilder out = new StringBuilder(text.length());
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '\\' && isOctal(text, i + 1)) {
                out.append((char) Integer.parseInt(text.substring(i + 1, i + 4), 8));
                i += 3;
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }

    private static boolean isOctal(String text, int at) {
        if (at + 3 > text.length()) return false;
        for (int i = at; i < at + 3; i++) if (text.charAt(i) < '0' || text.charAt(i) > '7') return false;
        return true;
    }
}
