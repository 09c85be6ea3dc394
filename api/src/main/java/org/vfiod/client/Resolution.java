package org.vfiod.client;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.freedesktop.dbus.types.Variant;

/** The answer of Manager.Resolve. */
public record Resolution(String module, Optional<String> driver, String pattern, long wildcards, boolean builtin,
                         List<String> tie) {
    @SuppressWarnings("unchecked")
    static Resolution from(Map<String, Variant<?>> m) {
        Variant<?> drv = m.get("driver");
        return new Resolution(String.valueOf(m.get("module").getValue()),
                drv == null ? Optional.empty() : Optional.of(String.valueOf(drv.getValue())),
                String.valueOf(m.get("pattern").getValue()), ((Number) m.get("wildcards").getValue()).longValue(),
                (Boolean) m.get("builtin").getValue(), List.copyOf((List<String>) m.get("tie").getValue()));
    }
}
