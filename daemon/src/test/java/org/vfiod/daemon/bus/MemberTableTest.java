package org.vfiod.daemon.bus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.List;
import java.util.Set;
import org.freedesktop.DBus.Error.AccessDenied;
import org.freedesktop.DBus.Error.InvalidArgs;
import org.junit.jupiter.api.Test;
import org.vfiod.daemon.bus.MemberTable.Kind;
import org.vfiod.daemon.bus.MemberTable.Member;
import org.vfiod.daemon.bus.MemberTable.Mutates;
import org.vfiod.daemon.bus.MemberTable.Refused;
import org.vfiod.daemon.bus.MemberTable.Route;

/** The bouncer in the member table: a mutation runs only under the polkit action its entry names. No bus needed. */
class MemberTableTest {
    private static final String IFACE = "org.vfiod1.Manager";
    private static final MemberTable TABLE = new MemberTable(null, null);

    private static Member unreachable(String name, String action) {
        return MemberTable.mutates(IFACE, name, "", "s", action, (t, a, c) -> fail(name + " ran although it names no polkit action"));
    }

    @Test
    void aMutatingMemberThatNamesNoActionIsRefusedBeforeItRuns() {
        Kind kind = new Kind(List.of(unreachable("Unnamed", null), unreachable("Blank", " "),
                MemberTable.reads(IFACE, "Look", "", "s", (t, a) -> "fine")), List.of());
        for (String name : List.of("Unnamed", "Blank")) {
            Route route = MemberTable.route(kind, "/org/vfiod", IFACE, name, "");
            Refused refused = assertInstanceOf(Refused.class, route, name);
            assertInstanceOf(AccessDenied.class, refused.error(), name);
            assertEquals(IFACE + "." + name + " names no polkit action; refusing it", refused.error().getMessage());
        }
        // found without an interface too: the refusal does not depend on how the member is named
        assertInstanceOf(Refused.class, MemberTable.route(kind, "/org/vfiod", null, "Unnamed", ""));
        // a read needs no action
        assertEquals("Look", assertInstanceOf(Member.class, MemberTable.route(kind, "/org/vfiod", IFACE, "Look", "")).name());
    }

    @Test
    void theSignatureIsCheckedFirst() {
        Kind kind = new Kind(List.of(unreachable("Unnamed", null)), List.of());
        Refused refused = assertInstanceOf(Refused.class, MemberTable.route(kind, "/org/vfiod", IFACE, "Unnamed", "s"));
        assertInstanceOf(InvalidArgs.class, refused.error());
    }

    @Test
    void everyMutatingMemberOfvfiodNamesAKnownActionAndIsLetThrough() {
        int mutations = 0;
        for (Kind kind : List.of(TABLE.managerObject(), TABLE.deviceObject(), MemberTable.ANCESTOR, MemberTable.NO_OBJECT)) {
            for (Member m : kind.members()) {
                if (!(m.access() instanceof Mutates w)) continue;
                mutations++;
                assertTrue(Set.of(Actions.REBIND, Actions.RELOAD).contains(w.action()), m + " names " + w.action());
                assertSame(m, MemberTable.route(kind, "/x", m.iface(), m.name(), m.in()));
            }
        }
        assertEquals(9, mutations, "Manager.Rebind, Restore, Assign, Release, Reload; Device.Rebind, Restore, Assign, Release");
    }
}
