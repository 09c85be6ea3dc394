package org.vfiod.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.time.Duration;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.vfiod.daemon.sim.SimulatedSysfs;

/**
 * Signals as a client on the bus receives them (gdbus monitor): PropertiesChanged after a Rebind, DeviceAdded and
 * InterfacesAdded when a device appears in the tree, DeviceRemoved and InterfacesRemoved when it is unplugged.
 */
@ExtendWith(RealComponents.class)
class SignalsIT {
    static final String NIC = "0000:03:00.0";
    static final String NEW = "0000:05:00.0";
    static final Duration SIGNAL_LIMIT = Duration.ofSeconds(10);

    @Test
    void rebindAnnouncesTheNewDriver(Env env) {
        env.vfiod();
        SignalMonitor monitor = env.monitor();
        env.manager(User.MEMBER, "Rebind", NIC, "{}").assertOk();
        String changed = "^" + Pattern.quote(Env.devicePath(NIC))
                + ": org\\.freedesktop\\.DBus\\.Properties\\.PropertiesChanged \\('org\\.vfiod1\\.Device', \\{.*";
        monitor.await(changed + "'State': <'busy'>", SIGNAL_LIMIT);
        // the contract does not say which changes travel together in one signal: each must be announced
        monitor.await(changed + "'Driver': <'vfio-pci'>", SIGNAL_LIMIT);
        monitor.await(changed + "'DriverOverride': <'vfio-pci'>", SIGNAL_LIMIT);
        monitor.await(changed + "'State': <'vfio'>", SIGNAL_LIMIT);
    }

    @Test
    void aDeviceAppearingInTheTreeIsAnnounced(Env env) throws IOException {
        env.vfiod();
        SignalMonitor monitor = env.monitor();
        plugNic(env);
        String added = Pattern.quote("(objectpath '" + Env.devicePath(NEW) + "',)");
        monitor.await("^/org/vfiod: org\\.vfiod1\\.Manager\\.DeviceAdded " + added, SIGNAL_LIMIT);
        String ifaces = monitor.await("^/org/vfiod: org\\.freedesktop\\.DBus\\.ObjectManager\\.InterfacesAdded \\(objectpath '"
                + Pattern.quote(Env.devicePath(NEW)) + "', \\{'org\\.vfiod1\\.Device': \\{", SIGNAL_LIMIT);
        assertTrue(ifaces.contains("'Address': <'" + NEW + "'>"), ifaces);
        // the new object answers
        assertEquals(NEW, env.deviceProperty(NEW, "Address"));
        assertTrue(env.manager(User.OUTSIDER, "ListDevices").assertOk().out().contains(Env.devicePath(NEW)));
        assertEquals("'" + Env.devicePath(NEW) + "'", env.manager(User.OUTSIDER, "DeviceByAddress", NEW).assertOk().out()
                .replaceAll("^\\(objectpath (.*),\\)$", "$1").strip());
    }

    @Test
    void anUnpluggedDeviceIsAnnouncedAndItsObjectGoes(Env env) throws IOException {
        env.vfiod();
        SignalMonitor monitor = env.monitor();
        plugNic(env);
        monitor.await("org\\.vfiod1\\.Manager\\.DeviceAdded", SIGNAL_LIMIT);
        env.sim().unplug(NEW);
        String path = Pattern.quote(Env.devicePath(NEW));
        monitor.await("^/org/vfiod: org\\.vfiod1\\.Manager\\.DeviceRemoved \\(objectpath '" + path + "',\\)", SIGNAL_LIMIT);
        monitor.await("^/org/vfiod: org\\.freedesktop\\.DBus\\.ObjectManager\\.InterfacesRemoved \\(objectpath '" + path
                + "', \\['org\\.vfiod1\\.Device'\\]\\)", SIGNAL_LIMIT);
        assertFalse(env.manager(User.ROOT, "ListDevices").assertOk().out().contains(Env.devicePath(NEW)));
        env.manager(User.ROOT, "DeviceByAddress", NEW).assertError(Env.NO_SUCH_DEVICE);
        Reply gone = env.get(User.ROOT, Env.devicePath(NEW), Env.DEVICE_IFACE, "Address");
        assertFalse(gone.ok(), gone::describe);
    }

    private static void plugNic(Env env) throws IOException {
        SimulatedSysfs.create(env.sysfsRoot())
                .device(SimulatedSysfs.Device.of(NEW, 0x8086, 0x10d3, 0x020000, 7, "e1000e"));
    }
}
