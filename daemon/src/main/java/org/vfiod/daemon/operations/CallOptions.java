package org.vfiod.daemon.operations;

import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import org.freedesktop.dbus.types.UInt32;
import org.freedesktop.dbus.types.Variant;
import org.vfiod.daemon.binding.BindOptions;
import org.vfiod.daemon.sysfs.CallerText;
import org.vfiod1.Error;

/**
 * The {@code a{sv} options} of a mutating call, checked key by key: an unknown key or a value of the wrong type
 * is an InvalidArgument, before anything else happens.
 */
record CallOptions(BindOptions bind, boolean persist, boolean interactive, OptionalLong owner) {
    static final Duration MAX_TIMEOUT = Duration.ofMinutes(10);

    static CallOptions parse(Map<String, Variant<?>> options) {
        boolean group = false, force = false, dryRun = false, persist = false, noInteraction = false;
        Optional<String> driver = Optional.empty();
        OptionalLong owner = OptionalLong.empty();
        Duration timeout = BindOptions.DEFAULT_TIMEOUT;
        if (options == null) options = Map.of();
        for (Map.Entry<String, Variant<?>> e : options.entrySet()) {
            String key = e.getKey();
            Variant<?> v = e.getValue();
            switch (key) {
                case "group" -> group = bool(key, v);
                case "force" -> force = bool(key, v);
                case "dry-run" -> dryRun = bool(key, v);
                case "persist" -> persist = bool(key, v);
                case "auth.no_user_interaction" -> noInteraction = bool(key, v);
                case "driver" -> {
                    if (!(v.getValue() instanceof String s) || !v.getSig().equals("s")) throw wrongType(key, "s", v);
                    driver = Optional.of(s);
                }
                case "owner" -> {
                    if (!(v.getValue() instanceof UInt32 u)) throw wrongType(key, "u", v);
                    // (uid_t) -1 means "no user" to every system call that takes one
                    if (u.longValue() == 0xffffffffL) throw new Error.InvalidArgument("option 'owner' 4294967295 is no uid");
                    owner = OptionalLong.of(u.longValue());
                }
                case "timeout" -> {
                    if (!(v.getValue() instanceof UInt32 u)) throw wrongType(key, "u", v);
                    long ms = u.longValue();
                    if (ms == 0 || ms > MAX_TIMEOUT.toMillis()) {
                        throw new Error.InvalidArgument("option 'timeout' must be between 1 and " + MAX_TIMEOUT.toMillis() + " ms");
                    }
                    timeout = Duration.ofMillis(ms);
                }
                default -> throw new Error.InvalidArgument("unknown option '" + CallerText.printable(key) + "' (known: group, force, "
                        + "dry-run, persist, driver, timeout, owner, auth.no_user_interaction)");
            }
        }
        return new CallOptions(new BindOptions(group, force, dryRun, driver, timeout), persist, !noInteraction, owner);
    }

    private static boolean bool(String key, Variant<?> v) {
        if (!(v.getValue() instanceof Boolean b)) throw wrongType(key, "b", v);
        return b;
    }

    private static Error.InvalidArgument wrongType(String key, String expected, Variant<?> v) {
        return new Error.InvalidArgument("option '" + key + "' must be of type " + expected + ", not " + v.getSig());
    }
}
