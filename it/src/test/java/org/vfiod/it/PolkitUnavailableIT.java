package org.vfiod.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * With polkitd gone, vfiod fails closed: every mutating call is AccessDenied, saying authorization is unavailable,
 * even for root and for a caller the rules would allow; the read-only part of the API keeps working.
 */
@ExtendWith(RealComponents.class)
class PolkitUnavailableIT {
    static final String NIC = "0000:03:00.0";

    @Test
    void mutatingCallsFailClosed(Env env) {
        env.vfiod();
        env.stopPolkitd();
        SysfsSnapshot before = env.snapshot();
        for (User u : new User[] {User.ROOT, User.MEMBER}) {
            env.manager(u, "Rebind", NIC, "{}").assertError(Env.ACCESS_DENIED, "authorization unavailable", "nothing was changed");
            env.device(u, NIC, "Rebind", "{'auth.no_user_interaction': <true>}")
                    .assertError(Env.ACCESS_DENIED, "authorization unavailable");
            env.manager(u, "Restore", NIC, "{}").assertError(Env.ACCESS_DENIED, "authorization unavailable");
            env.device(u, NIC, "Restore", "{}").assertError(Env.ACCESS_DENIED, "authorization unavailable");
            env.manager(u, "Reload").assertError(Env.ACCESS_DENIED, "authorization unavailable");
        }
        before.assertUnchanged("mutating calls without polkitd");
        assertEquals("e1000e", env.driverOf(NIC));
        assertEquals("(null)", env.overrideOf(NIC));
    }

    @Test
    void readOnlyCallsStillWork(Env env) {
        env.vfiod();
        env.stopPolkitd();
        SysfsSnapshot before = env.snapshot();
        for (User u : new User[] {User.ROOT, User.OUTSIDER}) {
            assertTrue(env.manager(u, "ListDevices").assertOk().out().contains(Env.devicePath(NIC)));
            assertEquals("(objectpath '" + Env.devicePath(NIC) + "',)", env.manager(u, "DeviceByAddress", NIC).assertOk().out().strip());
            String modalias = Env.string(env.get(u, Env.devicePath(NIC), Env.DEVICE_IFACE, "Modalias").assertOk());
            assertTrue(env.manager(u, "Resolve", modalias).assertOk().out().contains("vfio_pci"));
            assertEquals("(<'e1000e'>,)", env.get(u, Env.devicePath(NIC), Env.DEVICE_IFACE, "Driver").assertOk().out().strip());
            env.call(u, Env.devicePath(NIC), "org.freedesktop.DBus.Properties.GetAll", Env.DEVICE_IFACE).assertOk();
            env.call(u, Env.MANAGER, "org.freedesktop.DBus.ObjectManager.GetManagedObjects").assertOk();
            env.call(u, Env.MANAGER, "org.freedesktop.DBus.Introspectable.Introspect").assertOk();
            // a dry run asks nobody: it plans and changes nothing
            String planned = Env.string(env.manager(u, "Rebind", NIC, "{'dry-run': <true>}").assertOk());
            assertTrue(Set.of("vfio_pci", "vfio-pci").contains(planned), planned);
        }
        before.assertUnchanged("read-only calls without polkitd");
    }
}
