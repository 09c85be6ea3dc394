package org.vfiod.daemon.auth;

import java.time.Duration;
import java.util.Map;
import org.freedesktop.dbus.messages.Error;
import org.freedesktop.dbus.messages.Message;
import org.freedesktop.dbus.types.UInt32;
import org.freedesktop.dbus.types.Variant;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.vfiod.daemon.bus.BusLink;

/**
 * Asks polkitd, subject {@code system-bus-name}: polkit then looks up the caller's uid and session itself, so
 * nothing the caller says about itself is trusted. Any failure to get an answer is {@link AuthResult.Unavailable}.
 */
public final class PolkitAuthorizer implements Authorizer {
    private static final Logger LOG = LoggerFactory.getLogger(PolkitAuthorizer.class);
    private static final String BUS_NAME = "org.freedesktop.PolicyKit1", PATH = "/org/freedesktop/PolicyKit1/Authority",
            INTERFACE = "org.freedesktop.PolicyKit1.Authority";
    private static final int ALLOW_USER_INTERACTION = 0x1;

    private final BusLink link;

    public PolkitAuthorizer(BusLink link) {
        this.link = link;
    }

    @Override
    public AuthResult check(String busName, String actionId, Map<String, String> details, boolean allowInteraction) {
        try {
            Object subject = new Object[] {"system-bus-name", Map.of("name", new Variant<>(busName))};
            Duration limit = Authorizer.limit(allowInteraction);
            Message reply = link.call(BUS_NAME, PATH, INTERFACE, "CheckAuthorization", limit, "(sa{sv})sa{ss}us",
                    subject, actionId, Map.copyOf(details), new UInt32(allowInteraction ? ALLOW_USER_INTERACTION : 0), "");
            if (reply instanceof Error e) throw new IllegalStateException(BusLink.describe(e));
            Object[] result = fields(reply.getParameters()[0]);
            boolean authorized = (Boolean) result[0];
            boolean challenge = (Boolean) result[1];
            if (authorized) return new AuthResult.Granted();
            String why = challenge
                    ? "authentication is required for " + actionId + " and no agent could ask for it"
                    : "polkit does not allow " + actionId + " for this caller";
            return new AuthResult.Denied(why);
        } catch (Exception e) {
            LOG.warn("polkit check of {} for {} failed: {}", actionId, busName, e.toString());
            return new AuthResult.Unavailable("could not ask polkit (" + e.getClass().getSimpleName()
                    + (e.getMessage() == null ? "" : ": " + e.getMessage()) + ")");
        }
    }

    /** The (bba{ss}) result struct, however dbus-java hands it over. */
    private static Object[] fields(Object struct) {
        if (struct instanceof Object[] a) return a;
        if (struct instanceof org.freedesktop.dbus.Struct s) return s.getParameters();
        throw new IllegalStateException("unexpected CheckAuthorization result " + struct);
    }
}
