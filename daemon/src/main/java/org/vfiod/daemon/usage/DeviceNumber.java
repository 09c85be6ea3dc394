package org.vfiod.daemon.usage;

import java.util.Optional;

/** A MAJ:MIN, as sysfs's {@code dev} files and mountinfo's third field write it. */
record DeviceNumber(int major, int minor) implements Comparable<DeviceNumber> {
    static Optional<DeviceNumber> parse(String text) {
        String t = text.strip();
        int colon = t.indexOf(':');
        if (colon <= 0) return Optional.empty();
        try {
            return Optional.of(new DeviceNumber(Integer.parseInt(t.substring(0, colon)), Integer.parseInt(t.substring(colon + 1))));
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }

    @Override
    public int compareTo(DeviceNumber o) {
        return major != o.major ? Integer.compare(major, o.major) : Integer.compare(minor, o.minor);
    }

    @Override
    public String toString() {
        return major + ":" + minor;
    }
}
