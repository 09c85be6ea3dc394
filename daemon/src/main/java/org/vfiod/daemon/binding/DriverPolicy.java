package org.vfiod.daemon.binding;

import java.util.Arrays;
import java.util.Optional;

/**
 * How the vfio driver is chosen when the caller names none. The aliases' best match is the right driver for the
 * hardware; but a consumer that only knows vfio-pci (KubeVirt's device plugin lists only devices whose driver is
 * exactly vfio-pci) cannot see a device on a variant driver, so an admin may prefer vfio-pci, per rule or for all.
 */
public enum DriverPolicy {
    /** The vfio_ alias with the fewest wildcards: a variant driver where one claims the device. */
    BEST_MATCH("best-match"),
    /** vfio-pci wherever its aliases claim the device, even where a variant driver matches better; else the best match. */
    PREFER_VFIO_PCI("prefer-vfio-pci");

    /** The module a {@link #PREFER_VFIO_PCI} policy prefers, as the aliases name it. */
    public static final String PREFER_VFIO_PCI_MODULE = "vfio_pci";

    private final String text;

    DriverPolicy(String text) {
        this.text = text;
    }

    /** Its spelling in a rule file, on the command line and in logs. */
    public String text() {
        return text;
    }

    public static Optional<DriverPolicy> parse(String text) {
        return Arrays.stream(values()).filter(p -> p.text.equals(text)).findFirst();
    }

    /** The spellings, for a usage message. */
    public static String spellings() {
        return String.join(", ", Arrays.stream(values()).map(DriverPolicy::text).toList());
    }

    @Override
    public String toString() {
        return text;
    }
}
