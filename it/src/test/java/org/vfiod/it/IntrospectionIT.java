package org.vfiod.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.vfiod.client.Introspection;

/** The live daemon's introspection equals the contract committed in api (org/vfiod1/org.vfiod1.xml). */
@ExtendWith(RealComponents.class)
class IntrospectionIT {
    private static String introspect(Env env, String path) {
        String out = env.gdbus(User.OUTSIDER, "introspect", "--dest", Env.BUS_NAME, "--object-path", path, "--xml")
                .assertOk().out();
        return out;
    }

    @Test
    void theManagerAndEveryDeviceMatchTheCommittedXml(Env env) throws Exception {
        env.vfiod();
        String contract = Introspection.contract();
        List<String> manager = Introspection.canonical(contract, "org.vfiod1.Manager");
        List<String> device = Introspection.canonical(contract, "org.vfiod1.Device");
        assertFalse(manager.isEmpty());
        assertEquals(manager, Introspection.canonical(introspect(env, Env.MANAGER), "org.vfiod1.Manager"));
        for (String address : List.of("0000:03:00.0", "0000:01:00.0", "0000:04:00.1")) {
            assertEquals(device, Introspection.canonical(introspect(env, Env.devicePath(address)), "org.vfiod1.Device"), address);
        }
        // the ObjectManager is on the manager's object, as its clients expect
        List<String> om = Introspection.canonical(introspect(env, Env.MANAGER), "org.freedesktop.DBus.ObjectManager");
        assertEquals(List.of("method GetManagedObjects [out:a{oa{sa{sv}}}]", "signal InterfacesAdded [out:o, out:a{sa{sv}}]",
                "signal InterfacesRemoved [out:o, out:as]"), om);
    }
}
