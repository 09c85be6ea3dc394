package org.vfiod.client;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import org.freedesktop.dbus.types.UInt32;
import org.freedesktop.dbus.types.Variant;

/**
 * The {@code a{sv} options} of Rebind and Restore (and Assign and Release), typed. Only options that differ from
 * the default are sent. {@code owner}: the uid to give the device's VFIO nodes to (Rebind and Assign only).
 */
public record RebindOptions(boolean group, boolean force, boolean dryRun, boolean persist, Optional<String> driver,
                            OptionalLong timeoutMillis, boolean noUserInteraction, OptionalLong owner) {
    public RebindOptions(boolean group, boolean force, boolean dryRun, boolean persist, Optional<String> driver,
                         OptionalLong timeoutMillis, boolean noUserInteraction) {
        this(group, force, dryRun, persist, driver, timeoutMillis, noUserInteraction, OptionalLong.empty());
    }

    public static RebindOptions none() {
        return new RebindOptions(false, false, false, false, Optional.empty(), OptionalLong.empty(), false);
    }

    public RebindOptions withGroup() {
        return new RebindOptions(true, force, dryRun, persist, driver, timeoutMillis, noUserInteraction, owner);
    }

    public RebindOptions withForce() {
        return new RebindOptions(group, true, dryRun, persist, driver, timeoutMillis, noUserInteraction, owner);
    }

    public RebindOptions withDryRun() {
        return new RebindOptions(group, force, true, persist, driver, timeoutMillis, noUserInteraction, owner);
    }

    public RebindOptions withPersist() {
        return new RebindOptions(group, force, dryRun, true, driver, timeoutMillis, noUserInteraction, owner);
    }

    public RebindOptions withDriver(String name) {
        return new RebindOptions(group, force, dryRun, persist, Optional.of(name), timeoutMillis, noUserInteraction, owner);
    }

    public RebindOptions withTimeoutMillis(long ms) {
        return new RebindOptions(group, force, dryRun, persist, driver, OptionalLong.of(ms), noUserInteraction, owner);
    }

    public RebindOptions withoutUserInteraction() {
        return new RebindOptions(group, force, dryRun, persist, driver, timeoutMillis, true, owner);
    }

    /** Gives {@code uid} read/write access to the device's VFIO nodes (org.vfiod.grant when it is not the caller's). */
    public RebindOptions withOwner(long uid) {
        return new RebindOptions(group, force, dryRun, persist, driver, timeoutMillis, noUserInteraction, OptionalLong.of(uid));
    }

    public Map<String, Variant<?>> toVariants() {
        Map<String, Variant<?>> m = new LinkedHashMap<>();
        if (group) m.put("group", new Variant<>(true));
        if (force) m.put("force", new Variant<>(true));
        if (dryRun) m.put("dry-run", new Variant<>(true));
        if (persist) m.put("persist", new Variant<>(true));
        driver.ifPresent(d -> m.put("driver", new Variant<>(d)));
        timeoutMillis.ifPresent(t -> m.put("timeout", new Variant<>(new UInt32(t))));
        owner.ifPresent(u -> m.put("owner", new Variant<>(new UInt32(u))));
        if (noUserInteraction) m.put("auth.no_user_interaction", new Variant<>(true));
        return m;
    }
}
