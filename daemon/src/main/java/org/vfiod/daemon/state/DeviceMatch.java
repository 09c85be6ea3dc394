package org.vfiod.daemon.state;

import java.util.Locale;
import java.util.Optional;
import java.util.OptionalInt;
import org.vfiod.daemon.sysfs.Device;
import org.vfiod.daemon.sysfs.DeviceName;
import org.vfiod.daemon.sysfs.KernelBus;
import org.vfiod.daemon.sysfs.PciAddress;
import org.vfiod.daemon.sysfs.PciInfo;

/**
 * Which devices a persistent rule covers: one PCI address, one model (vendor:device[:subvendor:subdevice]), or a
 * PCI class; on any bus of the bus table one device by its bus and kernel name ({@code bus platform name
 * a000000.virtio_mmio}); or every device whose device-tree node lists a compatible string.
 */
public sealed interface DeviceMatch {
    boolean matches(Device device);

    /** The rule file's {@code match} line, without the keyword. */
    String describe();

    record Address(PciAddress address) implements DeviceMatch {
        @Override
        public boolean matches(Device d) {
            return d.name().equals(address.toDeviceName());
        }

        @Override
        public String describe() {
            return "address " + address;
        }
    }

    /** Covers every device of a model: all the VFs of an SR-IOV card, every GPU of one kind. */
    record Id(int vendor, int device, OptionalInt subVendor, OptionalInt subDevice) implements DeviceMatch {
        @Override
        public boolean matches(Device d) {
            return d.pci().filter(this::matches).isPresent();
        }

        boolean matches(PciInfo d) {
            return d.vendorId() == vendor && d.deviceId() == device
                    && (subVendor.isEmpty() || subVendor.getAsInt() == d.subsystemVendorId())
                    && (subDevice.isEmpty() || subDevice.getAsInt() == d.subsystemDeviceId());
        }

        @Override
        public String describe() {
            String s = String.format("id %04x:%04x", vendor, device);
            if (subVendor.isPresent()) s += String.format(":%04x:%04x", subVendor.getAsInt(), subDevice.getAsInt());
            return s;
        }
    }

    /** A class prefix of 2, 4 or 6 hex digits: {@code 03} every display controller, {@code 0300} VGA, {@code 030000}. */
    record DeviceClass(int value, int digits) implements DeviceMatch {
        @Override
        public boolean matches(Device d) {
            int shift = (6 - digits) * 4;
            return d.pci().filter(p -> (p.classCode() >> shift) == value).isPresent();
        }

        @Override
        public String describe() {
            return "class " + String.format("%0" + digits + "x", value);
        }
    }

    /**
     * One device of any bus, by its bus and kernel name. The name is used as udev's {@code KERNEL==} pattern, so one
     * with a glob or quoting character is refused when parsed.
     */
    record Named(DeviceName device) implements DeviceMatch {
        @Override
        public boolean matches(Device d) {
            return d.name().equals(device);
        }

        @Override
        public String describe() {
            return "bus " + device.bus() + " name " + device.name();
        }
    }

    /**
     * Every device whose device-tree node lists the compatible string, in any place of its list ({@code of_node/
     * compatible}, NUL-separated, most specific first).
     */
    record Compatible(String value) implements DeviceMatch {
        @Override
        public boolean matches(Device d) {
            return d.compatible().contains(value);
        }

        @Override
        public String describe() {
            return "compatible " + value;
        }
    }

    /** Parses {@code match bus BUS name NAME}; empty with the reason in {@code why}. */
    static Optional<DeviceMatch> named(String bus, String name, StringBuilder why) {
        Optional<KernelBus> b = KernelBus.named(bus);
        if (b.isEmpty()) {
            why.append("'").append(LogText.excerpt(bus)).append("' is not a bus vfiod knows (");
            for (KernelBus k : KernelBus.values()) why.append(k.ordinal() == 0 ? "" : ", ").append(k.id());
            why.append(")");
            return Optional.empty();
        }
        Optional<DeviceName> d = b.get().parse(name);
        if (d.isEmpty() && b.get() == KernelBus.PCI) d = org.vfiod.daemon.sysfs.PciAddress.parse(name).map(a -> a.toDeviceName());
        if (d.isEmpty() || !udevSafe(name)) {
            why.append("'").append(LogText.excerpt(name)).append("' is not a ").append(b.get().title()).append(" device name")
                    .append(" (nor one without the characters udev reads as a pattern: * ? [ ] | \" \\)");
            return Optional.empty();
        }
        return Optional.of(new Named(d.get()));
    }

    private static boolean udevSafe(String s) {
        for (int i = 0; i < s.length(); i++) if ("*?[]|\"\\".indexOf(s.charAt(i)) >= 0) return false;
        return true;
    }

    /** Parses the words after {@code match}; empty with the reason in {@code why} when they are not a match. */
    static Optional<DeviceMatch> parse(String kind, String value, StringBuilder why) {
        String v = value.toLowerCase(Locale.ROOT);
        switch (kind) {
            case "address" -> {
                Optional<PciAddress> a = PciAddress.parse(value);
                if (a.isEmpty()) why.append("'").append(LogText.excerpt(value)).append("' is not a PCI address");
                return a.map(Address::new);
            }
            case "id" -> {
                if (!v.matches("[0-9a-f]{4}:[0-9a-f]{4}(:[0-9a-f]{4}:[0-9a-f]{4})?")) {
                    why.append("id must be VVVV:DDDD or VVVV:DDDD:SVVV:SDDD in hex");
                    return Optional.empty();
                }
                String[] p = v.split(":");
                return Optional.of(new Id(Integer.parseInt(p[0], 16), Integer.parseInt(p[1], 16),
                        p.length > 2 ? OptionalInt.of(Integer.parseInt(p[2], 16)) : OptionalInt.empty(),
                        p.length > 2 ? OptionalInt.of(Integer.parseInt(p[3], 16)) : OptionalInt.empty()));
            }
            case "class" -> {
                String c = v.startsWith("0x") ? v.substring(2) : v;
                if (!c.matches("[0-9a-f]{2}|[0-9a-f]{4}|[0-9a-f]{6}")) {
                    why.append("class must be 2, 4 or 6 hex digits (03, 0300, 030000)");
                    return Optional.empty();
                }
                return Optional.of(new DeviceClass(Integer.parseInt(c, 16), c.length()));
            }
            case "compatible" -> {
                // a device-tree compatible string: vendor,model in letters, digits and , . _ + -
                if (!value.matches("[A-Za-z0-9][A-Za-z0-9,._+-]{0,127}")) {
                    why.append("compatible takes one device-tree compatible string, such as virtio,mmio");
                    return Optional.empty();
                }
                return Optional.of(new Compatible(value));
            }
            default -> {
                why.append("unknown match kind '").append(LogText.excerpt(kind)).append("' (address, id, class, compatible, or bus B name N)");
                return Optional.empty();
            }
        }
    }
}
