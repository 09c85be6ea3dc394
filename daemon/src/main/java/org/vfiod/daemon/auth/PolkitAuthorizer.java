package org.vfiod.daemon.auth;

import java.util.Map;
import org.freedesktop.dbus.connections.impl.DBusConnection;
import org.freedesktop.dbus.types.UInt32;
import org.freedesktop.dbus.types.Variant;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Asks polkitd, subject {@code system-bus-name}: polkit then looks up the caller's uid and session itself, so
 * nothing the caller says about itself is trusted. Any failure to get an answer is {@link AuthResult.Unavailable}.
 */
public final class PolkitAuthorizer implements Authorizer {
    private static final Logger LOG = LoggerFactory.getLogger(PolkitAuthorizer.class);

    private final DBusConnection connection;

    public PolkitAuthorizer(DBusConnection connection) {
        this.connection = connection;
    }

    @Override
    public AuthResult check(String busName, String actionId, boolean allowInteraction) {
        try {
            PolkitAuthority authority = connection.getRemoteObject(PolkitAuthority.BUS_NAME, PolkitAuthority.PATH,
                    PolkitAuthority.class);
            PolkitAuthority.AuthorizationResult r = authority.CheckAuthorization(
                    new PolkitAuthority.Subject("system-bus-name", Map.of("name", new Variant<>(busName))), actionId,
                    Map.of(), new UInt32(allowInteraction ? PolkitAuthority.ALLOW_USER_INTERACTION : 0), "");
            if (r.authorized) return new AuthResult.Granted();
            String why = r.challenge
                    ? "authentication is required for " + actionId + " and no agent could ask for it"
                    : "polkit does not allow " + actionId + " for this caller";
            return new AuthResult.Denied(why);
        } catch (Exception e) {
            LOG.warn("polkit check of {} for {} failed: {}", actionId, busName, e.toString());
            return new AuthResult.Unavailable("could not ask polkit (" + e.getClass().getSimpleName()
                    + (e.getMessage() == null ? "" : ": " + e.getMessage()) + ")");
        }
    }
}
