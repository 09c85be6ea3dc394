package org.vfiod.daemon.bus;

import org.vfiod.daemon.sysfs.CallerText;
import org.vfiod.daemon.sysfs.DeviceName;
import org.vfiod.daemon.sysfs.PciAddress;
import org.vfiod1.Error;

/**
 * The {@code address} argument of the Manager's methods, as a caller sent it: the org.vfiod1 contract takes a PCI
 * address there, so it is parsed as one (never used raw in a path), or refused with InvalidArgument.
 */
public final class AddressArgument {
    private AddressArgument() {
    }

    public static DeviceName parse(String text) {
        return PciAddress.parse(text).map(PciAddress::toDeviceName).orElseThrow(() -> new Error.InvalidArgument("'"
                + CallerText.printable(text) + "' is not a PCI address (expected DDDD:BB:DD.F in hex, e.g. 0000:01:00.0)"));
    }
}
