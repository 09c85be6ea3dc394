package org.vfiod.client;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.freedesktop.dbus.types.UInt32;
import org.freedesktop.dbus.types.Variant;

/**
 * The full answer of Assign and Release: what moved, where each device of the IOMMU group is, the nodes a VM opens
 * and who may open them, the steps taken (planned, for a dry run) and the users found. See the contract for each key.
 */
public record Assignment(String driver, List<String> devices, Map<String, String> drivers, int group, String groupNode,
                         Map<String, String> deviceNodes, List<String> nodes, List<Long> access, List<String> steps,
                         List<String> users, boolean dryRun) {
    public Assignment {
        devices = List.copyOf(devices);
        drivers = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(drivers));
        deviceNodes = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(deviceNodes));
        nodes = List.copyOf(nodes);
        access = List.copyOf(access);
        steps = List.copyOf(steps);
        users = List.copyOf(users);
    }

    /** Only the driver known (a v1 answer). */
    public static Assignment ofDriver(String driver, boolean dryRun) {
        return new Assignment(driver, List.of(), Map.of(), -1, "", Map.of(), List.of(), List.of(), List.of(), List.of(), dryRun);
    }

    public static Assignment from(Map<String, Variant<?>> m) {
        return new Assignment(str(m, "driver"), strings(m, "devices"), map(m, "drivers"), ((Number) value(m, "group", -1)).intValue(),
                str(m, "group-node"), map(m, "device-nodes"), strings(m, "nodes"), uids(m), strings(m, "steps"),
                strings(m, "users"), (Boolean) value(m, "dry-run", false));
    }

    private static Object value(Map<String, Variant<?>> m, String key, Object fallback) {
        Variant<?> v = m.get(key);
        return v == null ? fallback : v.getValue();
    }

    private static String str(Map<String, Variant<?>> m, String key) {
        return String.valueOf(value(m, key, ""));
    }

    private static List<String> strings(Map<String, Variant<?>> m, String key) {
        Object v = value(m, key, List.of());
        return v instanceof List<?> l ? l.stream().map(String::valueOf).toList() : List.of();
    }

    private static Map<String, String> map(Map<String, Variant<?>> m, String key) {
        Object v = value(m, key, Map.of());
        Map<String, String> out = new LinkedHashMap<>();
        if (v instanceof Map<?, ?> raw) raw.forEach((k, x) -> out.put(String.valueOf(k), String.valueOf(x)));
        return out;
    }

    private static List<Long> uids(Map<String, Variant<?>> m) {
        Object v = value(m, "access", List.of());
        if (!(v instanceof List<?> l)) return List.of();
        return l.stream().map(o -> o instanceof UInt32 u ? u.longValue() : ((Number) o).longValue()).toList();
    }
}
