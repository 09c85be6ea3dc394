package org.vfiod.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Rebind through the real bus and the real polkitd, by root, by a member of group vfio (allowed by the installed
 * rule) and by a user outside it (refused by the policy's defaults: no active session, allow_any is no).
 * busctl calls the Manager method, gdbus the Device method, so both entry points are covered by both tools.
 */
@ExtendWith(RealComponents.class)
class AuthorizationIT {
    static final String NIC = "0000:03:00.0";

    enum Tool { BUSCTL, GDBUS }

    static Stream<Arguments> callers() {
        return Stream.of(Tool.values()).flatMap(t -> Stream.of(User.values()).map(u -> Arguments.of(t, u)));
    }

    @ParameterizedTest(name = "[{index}] {0} as {1}")
    @MethodSource("callers")
    void rebindIsAuthorizedByPolkit(Tool tool, User user, Env env) {
        env.vfiod();
        SysfsSnapshot before = env.snapshot();
        Reply r = tool == Tool.BUSCTL
                ? env.busctl(user, "call", Env.BUS_NAME, Env.MANAGER, Env.MANAGER_IFACE, "Rebind", "sa{sv}", NIC, "0")
                : env.device(user, NIC, "Rebind", "{}");

        if (user == User.OUTSIDER) {
            assertNotEquals(0, r.exit(), () -> "the outsider's Rebind must fail: " + r.describe());
            if (tool == Tool.GDBUS) {
                r.assertError(Env.ACCESS_DENIED, "not authorized", "nothing was changed");
            } else {
                // sd-bus maps the standard AccessDenied name to EACCES and prints strerror, not the name
                assertTrue(r.err().contains("Access denied"), r::describe);
            }
            assertEquals("e1000e", env.driverOf(NIC), "driver link");
            assertEquals("(null)", env.overrideOf(NIC), "driver_override");
            before.assertUnchanged("a refused Rebind");
            assertEquals("e1000e", env.deviceProperty(NIC, "Driver"));
            assertEquals("host", env.deviceProperty(NIC, "State"));
        } else {
            r.assertOk();
            assertEquals(tool == Tool.BUSCTL ? "s \"vfio-pci\"" : "('vfio-pci',)", r.out().strip(), r::describe);
            assertEquals("vfio-pci", env.driverOf(NIC), "driver link");
            assertEquals("vfio-pci", env.overrideOf(NIC), "driver_override");
            assertEquals("vfio-pci", env.deviceProperty(NIC, "Driver"));
            assertEquals("vfio", env.deviceProperty(NIC, "State"));
        }
    }

    @Test
    void memberCanRestoreTheHostDriver(Env env) {
        env.vfiod();
        assertEquals("vfio-pci", Env.string(env.device(User.MEMBER, NIC, "Rebind", "{}").assertOk()));
        assertEquals("e1000e", Env.string(env.manager(User.MEMBER, "Restore", NIC, "{}").assertOk()));
        assertEquals("e1000e", env.driverOf(NIC));
        assertEquals("(null)", env.overrideOf(NIC));
    }

    @Test
    void outsiderCannotRestoreEither(Env env) {
        env.vfiod();
        env.manager(User.ROOT, "Rebind", NIC, "{}").assertOk();
        SysfsSnapshot before = env.snapshot();
        env.device(User.OUTSIDER, NIC, "Restore", "{}").assertError(Env.ACCESS_DENIED, "not authorized");
        assertEquals("vfio-pci", env.driverOf(NIC));
        before.assertUnchanged("a refused Restore");
    }

    @Test
    void dryRunNeedsNoAuthorizationAndChangesNothing(Env env) {
        env.vfiod();
        SysfsSnapshot before = env.snapshot();
        Reply r = env.manager(User.OUTSIDER, "Rebind", NIC, "{'dry-run': <true>}").assertOk();
        // vfio_pci is not loaded yet in a fresh tree, so the plan can only name the module, not its driver
        assertTrue(Set.of("vfio_pci", "vfio-pci").contains(Env.string(r)), r::describe);
        before.assertUnchanged("a dry run");
    }

    @Test
    void forceNeedsItsOwnActionBesidesRebind(Env env) {
        env.vfiod();
        SysfsSnapshot before = env.snapshot();
        // the member may move devices (the group rule) but not force: org.vfiod.force is auth_admin, and no agent
        // answers here
        env.manager(User.MEMBER, "Rebind", NIC, "{'force': <true>}").assertError(Env.ACCESS_DENIED, "not authorized");
        env.device(User.MEMBER, NIC, "Restore", "{'force': <true>}").assertError(Env.ACCESS_DENIED, "not authorized");
        before.assertUnchanged("a forced Rebind by the member");
        // a dry run asks nobody
        env.manager(User.MEMBER, "Rebind", NIC, "{'force': <true>, 'dry-run': <true>}").assertOk();
        // root may
        assertEquals("vfio-pci", Env.string(env.manager(User.ROOT, "Rebind", NIC, "{'force': <true>}").assertOk()));
    }

    @Test
    void outsiderCannotReload(Env env) {
        env.vfiod();
        env.manager(User.OUTSIDER, "Reload").assertError(Env.ACCESS_DENIED, "not authorized");
        env.manager(User.ROOT, "Reload").assertOk();
    }
}
