package org.vfiod.daemon.bus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Map;
import org.freedesktop.DBus.Error.UnknownInterface;
import org.freedesktop.dbus.types.Variant;
import org.junit.jupiter.api.Test;

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
}
