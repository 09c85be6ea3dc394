package org.vfiod.daemon.auth;

import java.util.Map;
import org.freedesktop.dbus.Struct;
import org.freedesktop.dbus.annotations.DBusInterfaceName;
import org.freedesktop.dbus.annotations.Position;
import org.freedesktop.dbus.interfaces.DBusInterface;
import org.freedesktop.dbus.types.UInt32;
import org.freedesktop.dbus.types.Variant;

/** The part of {@code org.freedesktop.PolicyKit1.Authority} vfiod calls. */
@DBusInterfaceName("org.freedesktop.PolicyKit1.Authority")
public interface PolkitAuthority extends DBusInterface {
    String BUS_NAME = "org.freedesktop.PolicyKit1";
    String PATH = "/org/freedesktop/PolicyKit1/Authority";
    int ALLOW_USER_INTERACTION = 1;

    AuthorizationResult CheckAuthorization(Subject subject, String actionId, Map<String, String> details, UInt32 flags,
                                           String cancellationId);

    /** {@code (sa{sv})}: the subject kind and its details. */
    final class Subject extends Struct {
        @Position(0)
        public final String kind;
        @Position(1)
        public final Map<String, Variant<?>> details;

        public Subject(String kind, Map<String, Variant<?>> details) {
            this.kind = kind;
            this.details = details;
        }
    }

    /** {@code (bba{ss})}: authorized, challenge, details. */
    final class AuthorizationResult extends Struct {
        @Position(0)
        public final boolean authorized;
        @Position(1)
        public final boolean challenge;
        @Position(2)
        public final Map<String, String> details;

        public AuthorizationResult(boolean authorized, boolean challenge, Map<String, String> details) {
            this.authorized = authorized;
            this.challenge = challenge;
            this.details = details;
        }
    }
}
