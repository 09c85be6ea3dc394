package org.vfiod.daemon.bus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Map;
import org.freedesktop.DBus.Error.PropertyReadOnly;
import org.freedesktop.DBus.Error.UnknownInterface;
import org.freedesktop.dbus.types.Variant;
import org.junit.jupiter.api.Test;
import org.vfiod.daemon.bus.MemberTable.Member;

class ReadOnlyPropertiesTest {
    private static final String OWN = "org.vfiod1.Device";
    private static final Map<String, Variant<?>> PROPERTIES = Map.of("Driver", new Variant<>("e1000e"));

    @Test
    void getAndGetAllAnswerAnUnknownInterfaceAlike() {
        assertThrows(UnknownInterface.class, () -> ReadOnlyProperties.get(OWN, PROPERTIES, "org.vfiod1.Nothing", "Driver"));
        assertThrows(UnknownInterface.class, () -> ReadOnlyProperties.getAll(OWN, PROPERTIES, "org.vfiod1.Nothing"));
        assertThrows(UnknownInterface.class, () -> ReadOnlyProperties.getAll(OWN, PROPERTIES, MemberTable.PEER));
    }

    @Test
    void getAllOfOurInterfaceOrOfAllIsEveryProperty() {
        assertEquals(PROPERTIES, ReadOnlyProperties.getAll(OWN, PROPERTIES, OWN));
        assertEquals(PROPERTIES, ReadOnlyProperties.getAll(OWN, PROPERTIES, ""));
    }

    @Test
    void setIsRefusedFromTheHeaderWithoutItsArguments() {
        for (MemberTable.Kind kind : new MemberTable(null, null).kinds()) {
            Member set = assertInstanceOf(Member.class, MemberTable.route(kind, "/org/vfiod", MemberTable.PROPERTIES, "Set", "ssv"));
            MemberTable.Refuses refuses = assertInstanceOf(MemberTable.Refuses.class, set.access());
            assertInstanceOf(PropertyReadOnly.class, refuses.error());
            // the handler never looks at its arguments: there are none, since they were never unmarshalled
            assertThrows(PropertyReadOnly.class, () -> set.access().invoke(null, null, null));
        }
    }
}
