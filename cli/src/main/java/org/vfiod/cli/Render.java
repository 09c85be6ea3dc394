package org.vfiod.cli;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.vfiod.client.Assignment;
import org.vfiod.client.DeviceInfo;
import org.vfiod.client.RebindOptions;
import org.vfiod.client.Resolution;

/**
 * How vfioctl shows things, as text for people and as JSON for scripts. In JSON, a value the daemon reports as
 * empty (no driver, no names, no IOMMU group) is {@code null}; ids and the class are hex strings as lspci writes
 * them; devices are named by address.
 */
final class Render {
    private Render() {
    }

    // ---- devices

    static String table(List<DeviceInfo> devices) {
        Table t = new Table("ADDRESS", "VENDOR:DEVICE", "DRIVER", "VFIO DRIVER", "GROUP", "STATE", "PERSISTENT", "NAME");
        for (DeviceInfo d : devices) {
            t.add(DeviceNames.of(d), ids(d), d.driver(), d.vfioDriver(), group(d), d.state(), yesNo(d.persistent()), name(d));
        }
        return t.toString();
    }

    static String show(DeviceInfo d) {
        return show(d, List.of());
    }

    /** The device, and who uses it (the host or a VM): what would stop a move, one line each. */
    static String show(DeviceInfo d, List<String> users) {
        StringBuilder b = new StringBuilder();
        b.append(Exit.oneLine(DeviceNames.of(d))).append("  ").append(Exit.oneLine(name(d))).append('\n');
        line(b, "object path", d.path());
        line(b, "vendor:device", ids(d));
        line(b, "class", d.classCode() < 0 || !DeviceNames.isPci(d) ? "" : Pci.hex(d.classCode(), 6) + " (" + Pci.className(d.classCode()) + ")");
        line(b, "vendor", d.vendor());
        line(b, "product", d.product());
        line(b, "modalias", d.modalias());
        line(b, "driver", d.driver());
        line(b, "driver override", d.driverOverride());
        line(b, "vfio driver", d.vfioDriver());
        String group = group(d);
        List<String> members = addresses(d.groupDevices());
        line(b, "IOMMU group", members.isEmpty() ? group : group + ": " + String.join(" ", members));
        line(b, "boot VGA", yesNo(d.bootVga()));
        line(b, "persistent", yesNo(d.persistent()));
        line(b, "state", d.state());
        if (!d.vfioGroupNode().isEmpty()) line(b, "vfio nodes", (d.vfioGroupNode() + " " + d.vfioDeviceNode()).strip());
        if (!d.accessUids().isEmpty()) line(b, "access", "uid " + String.join(", ", d.accessUids().stream().map(String::valueOf).toList()));
        if (users.isEmpty()) line(b, "used by", "nothing");
        for (int i = 0; i < users.size(); i++) {
            if (i == 0) line(b, "used by", users.get(i));
            else b.append(" ".repeat(2 + 18)).append(Exit.oneLine(users.get(i))).append('\n');
        }
        return b.toString();
    }

    private static void line(StringBuilder b, String label, String value) {
        line(b, "  ", label, value);
    }

    private static void line(StringBuilder b, String indent, String label, String value) {
        b.append(indent).append(label).append(':').append(" ".repeat(Math.max(1, 17 - label.length())))
                .append(value == null || value.isEmpty() ? "-" : Exit.oneLine(value)).append('\n');
    }

    static Map<String, Object> json(DeviceInfo d) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("address", d.address());
        m.put("path", d.path());
        m.put("subsystem", d.subsystem());
        boolean pci = DeviceNames.isPci(d);
        m.put("vendorId", d.vendorId() < 0 || !pci ? null : Pci.hex(d.vendorId(), 4));
        m.put("deviceId", d.deviceId() < 0 || !pci ? null : Pci.hex(d.deviceId(), 4));
        m.put("class", d.classCode() < 0 || !pci ? null : Pci.hex(d.classCode(), 6));
        m.put("className", d.classCode() < 0 || !pci ? null : Pci.className(d.classCode()));
        m.put("vendor", orNull(d.vendor()));
        m.put("product", orNull(d.product()));
        m.put("modalias", d.modalias());
        m.put("driver", orNull(d.driver()));
        m.put("driverOverride", orNull(d.driverOverride()));
        m.put("vfioDriver", orNull(d.vfioDriver()));
        m.put("iommuGroup", d.iommuGroup() < 0 ? null : d.iommuGroup());
        m.put("groupDevices", addresses(d.groupDevices()));
        m.put("bootVga", d.bootVga());
        m.put("persistent", d.persistent());
        m.put("state", d.state());
        m.put("vfioGroupNode", orNull(d.vfioGroupNode()));
        m.put("vfioDeviceNode", orNull(d.vfioDeviceNode()));
        m.put("access", d.accessUids());
        return m;
    }

    static List<Object> json(List<DeviceInfo> devices) {
        List<Object> out = new ArrayList<>(devices.size());
        for (DeviceInfo d : devices) out.add(json(d));
        return out;
    }

    /**
     * {@code 8086:10d3}, or {@code ????:????} parts when the daemon did not say; {@code -} off PCI, where vfiod
     * reports no ids (the modalias says what the device is).
     */
    static String ids(DeviceInfo d) {
        if (!DeviceNames.isPci(d)) return "-";
        return (d.vendorId() < 0 ? "????" : Pci.hex(d.vendorId(), 4)) + ":" + (d.deviceId() < 0 ? "????" : Pci.hex(d.deviceId(), 4));
    }

    /**
     * Like lspci: {@code Network controller: Intel Corporation 82574L}, and a note on the boot VGA device. Off PCI,
     * which has no class code: the bus and the modalias ({@code platform device: of:NvirtioT(null)Cvirtio,mmio}).
     */
    static String name(DeviceInfo d) {
        if (!DeviceNames.isPci(d)) {
            String names = (d.vendor() + " " + d.product()).strip();
            return d.subsystem() + " device: " + (names.isEmpty() ? d.modalias() : names);
        }
        StringBuilder b = new StringBuilder(Pci.className(d.classCode()));
        String names = (d.vendor() + " " + d.product()).strip();
        if (!names.isEmpty()) b.append(": ").append(names);
        if (d.bootVga()) b.append(" [boot VGA]");
        return b.toString();
    }

    private static String group(DeviceInfo d) {
        return d.iommuGroup() < 0 ? "" : Integer.toString(d.iommuGroup());
    }

    private static List<String> addresses(List<String> paths) {
        List<String> out = new ArrayList<>(paths.size());
        for (String p : paths) out.add(DeviceNames.addressOrPath(p));
        return out;
    }

    private static String yesNo(boolean b) {
        return b ? "yes" : "no";
    }

    private static String orNull(String s) {
        return s == null || s.isEmpty() ? null : s;
    }

    // ---- resolve

    static String resolution(Resolution r) {
        StringBuilder b = new StringBuilder();
        line(b, "", "module", r.module());
        line(b, "", "driver", r.driver().orElse(""));
        line(b, "", "pattern", r.pattern());
        line(b, "", "wildcards", Long.toString(r.wildcards()));
        line(b, "", "builtin", yesNo(r.builtin()));
        line(b, "", "tied with", String.join(", ", r.tie()));
        return b.toString();
    }

    static Map<String, Object> json(String modalias, Resolution r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("modalias", modalias);
        m.put("module", r.module());
        m.put("driver", r.driver().orElse(null));
        m.put("pattern", r.pattern());
        m.put("wildcards", r.wildcards());
        m.put("builtin", r.builtin());
        m.put("tie", r.tie());
        return m;
    }

    // ---- rebind / restore

    /** {@code driver} is what the daemon answered: the device's driver after the call, "" for none. */
    static String result(String operation, String address, RebindOptions o, String driver) {
        StringBuilder b = new StringBuilder(address);
        // a dry-run Restore answers "" when it cannot tell which host driver the kernel's probe will pick
        if (driver.isEmpty()) b.append(!o.dryRun() ? " has no driver" : operation.equals("restore")
                ? " would be on the host driver the kernel picks" : " would have no driver");
        else b.append(o.dryRun() ? " would be on " : " is on ").append(Exit.oneLine(driver));
        if (o.group()) b.append(", with its IOMMU group");
        if (o.persist()) b.append(operation.equals("restore") ? "; not persistent" : "; persistent");
        if (o.dryRun()) b.append(" (dry run: nothing changed)");
        return b.append('\n').toString();
    }

    /**
     * The full answer: the line above, then the nodes a VM opens, who may open them, what was done (or would be) and
     * the users found, each when there is any.
     */
    static String result(String operation, String address, RebindOptions o, Assignment a) {
        StringBuilder b = new StringBuilder(result(operation, address, o, a.driver()));
        if (!a.nodes().isEmpty()) line(b, "nodes", String.join(" ", a.nodes()));
        if (!a.access().isEmpty()) line(b, "access", "uid " + String.join(", ", a.access().stream().map(String::valueOf).toList()));
        lines(b, a.dryRun() ? "would" : "done", a.steps());
        lines(b, "used by", a.users());
        return b.toString();
    }

    /** The first under its label, the others aligned beneath it. */
    private static void lines(StringBuilder b, String label, List<String> values) {
        for (int i = 0; i < values.size(); i++) {
            if (i == 0) line(b, label, values.get(i));
            else b.append(" ".repeat(2 + 18)).append(Exit.oneLine(values.get(i))).append('\n');
        }
    }

    static Map<String, Object> json(String operation, String address, RebindOptions o, Assignment a) {
        Map<String, Object> m = json(operation, address, o, a.driver());
        m.put("owner", o.owner().isPresent() ? o.owner().getAsLong() : null);
        m.put("devices", a.devices());
        m.put("drivers", a.drivers());
        m.put("iommuGroup", a.group() < 0 ? null : a.group());
        m.put("groupNode", orNull(a.groupNode()));
        m.put("deviceNodes", a.deviceNodes());
        m.put("nodes", a.nodes());
        m.put("access", a.access());
        m.put("steps", a.steps());
        m.put("users", a.users());
        return m;
    }

    static Map<String, Object> json(String operation, String address, RebindOptions o, String driver) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("operation", operation);
        m.put("address", address);
        m.put("driver", orNull(driver));
        m.put("dryRun", o.dryRun());
        m.put("group", o.group());
        m.put("persist", o.persist());
        return m;
    }

    // ---- monitor

    /** One monitor line: {@code time event address [Name=value...]}. */
    static String event(String time, String event, String path, Map<String, Object> properties) {
        StringBuilder b = new StringBuilder(time).append(' ').append(event);
        if (path != null) b.append(' ').append(Exit.oneLine(DeviceNames.addressOrPath(path)));
        if (properties != null) {
            for (Map.Entry<String, Object> e : properties.entrySet()) {
                b.append(' ').append(Exit.oneLine(e.getKey())).append('=').append(textValue(e.getKey(), e.getValue()));
            }
        }
        return b.toString();
    }

    static Map<String, Object> eventJson(String time, String event, String path, Map<String, Object> properties) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("time", time);
        m.put("event", event);
        if (path != null) {
            m.put("address", DeviceNames.fromObjectPath(path));
            m.put("path", path);
        }
        if (properties != null) {
            Map<String, Object> p = new LinkedHashMap<>();
            properties.forEach((k, v) -> p.put(k, jsonValue(k, v)));
            m.put("properties", p);
        }
        return m;
    }

    private static Object jsonValue(String key, Object v) {
        if (key.equals("GroupDevices") && v instanceof List<?> list) {
            List<String> out = new ArrayList<>();
            for (Object o : list) out.add(DeviceNames.addressOrPath(String.valueOf(o)));
            return out;
        }
        return v;
    }

    /** A property value for a monitor line: plain when it is one simple word, else as a JSON literal. */
    private static String textValue(String key, Object v) {
        Object j = jsonValue(key, v);
        if (j instanceof List<?> list) {
            List<String> parts = new ArrayList<>();
            for (Object o : list) parts.add(String.valueOf(o));
            String joined = String.join(",", parts);
            return simple(joined) ? joined : Json.quote(joined);
        }
        if (j instanceof String s) return simple(s) ? s : Json.quote(s);
        return j == null ? "null" : Exit.oneLine(String.valueOf(j));
    }

    private static boolean simple(String s) {
        if (s.isEmpty()) return false;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c <= ' ' || c > '~' || c == '"' || c == '\\' || c == '=') return false;
        }
        return true;
    }
}
