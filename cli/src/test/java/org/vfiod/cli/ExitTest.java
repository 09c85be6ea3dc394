package org.vfiod.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import org.freedesktop.dbus.exceptions.DBusException;
import org.freedesktop.dbus.exceptions.DBusExecutionException;
import org.freedesktop.dbus.exceptions.NotConnected;
import org.junit.jupiter.api.Test;
import org.vfiod1.Error;

class ExitTest {
    private static int code(Throwable t) {
        return Exit.of(t).code();
    }

    @Test
    void the_contract_errors() {
        assertEquals(1, code(new Error.Failed("probe failed; 0000:03:00.0 is back on e1000e")));
        assertEquals(1, code(new Error.Timeout("unbind did not return within 10 s")));
        assertEquals(1, code(new Error.GroupNotViable("shares IOMMU group 1")));
        assertEquals(6, code(new Error.InUse("enp3s0 is up with 10.0.0.5/24")));
        assertEquals(1, code(new Error.NoVfioDriver("no vfio_ alias matches")));
        assertEquals(2, code(new Error.NoSuchDevice("no PCI device 0000:09:00.0")));
        assertEquals(5, code(new Error.Busy("too many calls")));
        assertEquals(64, code(new Error.InvalidArgument("'x' is not a PCI address")));
    }

    @Test
    void access_denied_in_both_spellings() {
        assertEquals(3, code(new org.freedesktop.dbus.errors.AccessDenied("not authorized")));
        assertEquals(3, code(new org.freedesktop.DBus.Error.AccessDenied("not authorized")));
    }

    @Test
    void daemon_or_bus_not_there() {
        assertEquals(4, code(new Exit.Unavailable("cannot connect to the bus at unix:path=/x: No such file", null)));
        Exit.Failure f = Exit.of(new org.freedesktop.dbus.errors.ServiceUnknown("The name org.vfiod was not provided by any .service files"));
        assertEquals(4, f.code());
        assertTrue(f.message().startsWith("vfiod is not running"), f.message());
        assertEquals(4, code(new NotConnected("Disconnected")));
    }

    @Test
    void other_failures() {
        assertEquals(1, code(new org.freedesktop.dbus.errors.NoReply("No reply within specified time")));
        assertEquals(1, code(new org.freedesktop.dbus.errors.UnknownMethod("no such method")));
        assertEquals(1, code(new DBusExecutionException("something else")));
        assertEquals(1, code(new DBusException("checked")));
        assertEquals(1, code(new IOException("disk on fire")));
        assertEquals(64, code(new UsageException("unknown option '--x'")));
        Exit.Failure bug = Exit.of(new NullPointerException());
        assertEquals(70, bug.code());
        assertTrue(bug.message().startsWith("internal error: java.lang.NullPointerException"), bug.message());
    }

    @Test
    void the_message_is_the_daemons_on_one_line() {
        assertEquals("no PCI device 0000:09:00.0", Exit.of(new Error.NoSuchDevice("no PCI device 0000:09:00.0")).message());
        assertEquals("a b ? c", Exit.of(new Error.Failed("a\nb \u001b c\n")).message());
        assertEquals("Failed", Exit.of(new Error.Failed("")).message());
    }
}
