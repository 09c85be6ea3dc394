package org.vfiod.daemon.bus;

import org.vfiod.daemon.sysfs.CallerText;
import org.vfiod.daemon.sysfs.PciAddress;
import org.vfiod1.Error;

/** A PCI address as a caller sent it: parsed, or refused with InvalidArgument. */
public final class AddressArgument {
    private AddressArgument() {
    }

    public static PciAddress parse(String text) {
        return PciAddress.parse(text).orElseThrow(() -> new Error.InvalidArgument("'" + CallerText.printable(text)
                + "' is not a PCI address (expected DDDD:BB:DD.F in hex, e.g. 0000:01:00.0)"));
    }
}
