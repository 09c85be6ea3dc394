package org.vfiod.daemon.bus;

import java.util.Optional;
import java.util.StringJoiner;
import org.vfiod.daemon.sysfs.CallerText;
import org.vfiod.daemon.sysfs.DeviceName;
import org.vfiod.daemon.sysfs.KernelBus;
import org.vfiod1.Error;

/**
 * The {@code address} argument of the Manager's methods, as a caller sent it: {@code bus:name}
 * ({@code platform:a000000.virtio_mmio}, {@code pci:0000:03:00.0}), or a PCI address alone, as version 1 of the
 * contract took it. It becomes a {@link DeviceName} only through a bus's own parser, so nothing a caller wrote is
 * ever used raw in a path; anything else is InvalidArgument.
 */
public final class AddressArgument {
    private AddressArgument() {
    }

    /** Every refusal says this, with the text quoted once, shortened and printable. */
    public static final String NOT_AN_ADDRESS = "is not a device address";

    public static DeviceName parse(String text) {
        // a PCI address first: 0000:03:00.0 has colons too, and its "bus" would be 0000
        Optional<DeviceName> pci = KernelBus.PCI.parse(text);
        if (pci.isPresent()) return pci.get();
        int colon = text == null ? -1 : text.indexOf(':');
        if (colon < 0) throw invalid(text, "");
        // the bus never has a colon; the name may (cdx-00:01, 0000:03:00.0)
        Optional<KernelBus> bus = KernelBus.named(text.substring(0, colon));
        if (bus.isEmpty()) throw invalid(text, ": its bus is not one vfiod serves");
        return bus.get().parse(text.substring(colon + 1))
                .orElseThrow(() -> invalid(text, ": the " + bus.get().title() + " bus gives no device that name"));
    }

    /** The refusal, with the forms that are accepted, so that the caller can act on it. */
    private static Error.InvalidArgument invalid(String text, String why) {
        StringJoiner buses = new StringJoiner(", ");
        for (KernelBus b : KernelBus.values()) buses.add(b.id());
        // printable() escapes after it shortens: cut again, so that control characters cannot make it long
        String quoted = CallerText.printable(text);
        if (quoted.length() > 48) quoted = quoted.substring(0, 45) + "...";
        return new Error.InvalidArgument("'" + quoted + "' " + NOT_AN_ADDRESS + why
                + " (expected BUS:NAME, BUS one of " + buses + ", NAME as in /sys/bus/BUS/devices, e.g. pci:0000:03:00.0;"
                + " or a PCI address, e.g. 0000:03:00.0)");
    }
}
