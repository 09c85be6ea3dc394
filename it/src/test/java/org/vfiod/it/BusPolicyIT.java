package org.vfiod.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The project's bus policy (packaging/dbus/org.vfiod.conf) as dbus-daemon enforces it. */
@ExtendWith(RealComponents.class)
class BusPolicyIT {
    static Reply requestName(Env env, User user) {
        // flags 4 = DO_NOT_QUEUE
        return env.gdbus(user, "call", "--dest", "org.freedesktop.DBus", "--object-path", "/org/freedesktop/DBus",
                "--method", "org.freedesktop.DBus.RequestName", Env.BUS_NAME, "4");
    }

    @Test
    void onlyRootMayOwnTheName(Env env) {
        assertFalse(env.bus().hasOwner(Env.BUS_NAME));
        requestName(env, User.OUTSIDER).assertError(Env.ACCESS_DENIED, "is not allowed to own the service \"org.vfiod\"");
        // being trusted by polkit does not help: owning is the bus policy's business
        requestName(env, User.MEMBER).assertError(Env.ACCESS_DENIED, "is not allowed to own the service \"org.vfiod\"");
        // 1 = DBUS_REQUEST_NAME_REPLY_PRIMARY_OWNER (released again when gdbus disconnects)
        assertEquals("(uint32 1,)", requestName(env, User.ROOT).assertOk().out().strip());
    }

    @Test
    void whileVfiodRunsRootIsToldTheNameIsTaken(Env env) {
        env.vfiod();
        // 3 = DBUS_REQUEST_NAME_REPLY_EXISTS: vfiod allows replacement only by --replace (REPLACE_EXISTING), not by this
        assertEquals("(uint32 3,)", requestName(env, User.ROOT).assertOk().out().strip());
        requestName(env, User.OUTSIDER).assertError(Env.ACCESS_DENIED);
    }

    @Test
    void everyoneMayCallTheReadOnlyMethods(Env env) {
        env.vfiod();
        for (User u : User.values()) {
            assertEquals("(<uint32 1>,)", env.get(u, Env.MANAGER, Env.MANAGER_IFACE, "Version").assertOk().out().strip());
            env.manager(u, "ListDevices").assertOk();
            env.call(u, Env.MANAGER, "org.freedesktop.DBus.ObjectManager.GetManagedObjects").assertOk();
            env.call(u, Env.devicePath("0000:03:00.0"), "org.freedesktop.DBus.Introspectable.Introspect").assertOk();
        }
    }
}
