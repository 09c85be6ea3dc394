package org.vfiod.daemon.auth;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import org.freedesktop.dbus.types.Variant;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.vfiod.daemon.bus.BusLink;

/**
 * Asks the bus (GetConnectionCredentials) who owns a unique name. The answer is kept: a unique name is never given
 * to another connection while the bus lives, so it cannot go stale, only unused; the oldest are dropped beyond
 * {@link #KEPT}.
 */
public final class BusCredentials implements Credentials {
    private static final Logger LOG = LoggerFactory.getLogger(BusCredentials.class);
    static final int KEPT = 1024;

    private final BusLink link;
    private final Map<String, CallerCredentials> known = new LinkedHashMap<>(64, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, CallerCredentials> eldest) {
            return size() > KEPT;
        }
    };

    public BusCredentials(BusLink link) {
        this.link = link;
    }

    @Override
    public Optional<CallerCredentials> of(String uniqueName) {
        if (uniqueName == null || !uniqueName.startsWith(":")) return Optional.empty();
        synchronized (known) {
            CallerCredentials c = known.get(uniqueName);
            if (c != null) return Optional.of(c);
        }
        try {
            Object reply = link.callBus("GetConnectionCredentials", "s", uniqueName);
            if (!(reply instanceof Map<?, ?> fields)) return Optional.empty();
            Optional<Long> uid = number(fields.get("UnixUserID"));
            if (uid.isEmpty()) return Optional.empty();
            CallerCredentials c = new CallerCredentials(uid.get(), number(fields.get("ProcessID")).orElse(-1L));
            synchronized (known) {
                known.put(uniqueName, c);
            }
            return Optional.of(c);
        } catch (Exception e) {
            LOG.debug("no credentials for {}: {}", uniqueName, e.toString());
            return Optional.empty();
        }
    }

    private static Optional<Long> number(Object value) {
        Object v = value instanceof Variant<?> variant ? variant.getValue() : value;
        return v instanceof Number n ? Optional.of(n.longValue()) : Optional.empty();
    }
}
