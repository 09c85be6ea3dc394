package org.vfiod.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigInteger;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.freedesktop.dbus.types.UInt16;
import org.freedesktop.dbus.types.UInt32;
import org.freedesktop.dbus.types.UInt64;
import org.junit.jupiter.api.Test;

class JsonTest {
    @Test
    void plain_strings() {
        assertEquals("\"vfio-pci\"", Json.quote("vfio-pci"));
        assertEquals("\"\"", Json.quote(""));
        assertEquals("\"/org/vfiod/devices/pci_0000_3a03_3a00_2e0\"", Json.quote("/org/vfiod/devices/pci_0000_3a03_3a00_2e0"));
    }

    @Test
    void quotes_and_backslashes() {
        assertEquals("\"say \\\"hi\\\"\"", Json.quote("say \"hi\""));
        assertEquals("\"C:\\\\dir\\\\\"", Json.quote("C:\\dir\\"));
    }

    @Test
    void control_characters() {
        assertEquals("\"a\\nb\\rc\\td\\be\\ff\"", Json.quote("a\nb\rc\td\be\ff"));
        assertEquals("\"\\u0000\\u0001\\u001b[31m\\u001f\"", Json.quote("\0\u0001\u001b[31m\u001f"));
        assertEquals("\"\\u007f\"", Json.quote("\u007f"));
    }

    @Test
    void non_ascii_is_escaped_so_output_is_ascii_whatever_the_locale() {
        assertEquals("\"Caf\\u00e9 \\u2028 \\u20ac\"", Json.quote("Caf\u00e9 \u2028 \u20ac"));
        // a character outside the BMP is its UTF-16 surrogate pair, as RFC 8259 says
        assertEquals("\"\\ud83d\\ude00\"", Json.quote(new String(Character.toChars(0x1F600))));
        String out = Json.write(Map.of("k", "\u00fc\u4e2d\n"));
        assertTrue(out.chars().allMatch(c -> c >= 0x20 && c < 0x7f), out);
    }

    @Test
    void values() {
        assertEquals("null", Json.write(null));
        assertEquals("true", Json.write(true));
        assertEquals("false", Json.write(false));
        assertEquals("42", Json.write(42));
        assertEquals("-1", Json.write(-1L));
        assertEquals("65535", Json.write(new UInt16(65535)));
        assertEquals("4294967295", Json.write(new UInt32(4294967295L)));
        assertEquals("18446744073709551615", Json.write(new UInt64(new BigInteger("18446744073709551615"))));
        assertEquals("1.5", Json.write(1.5));
        assertEquals("2", Json.write(2.0));
        assertEquals("null", Json.write(Double.NaN));
        assertEquals("null", Json.write(Double.POSITIVE_INFINITY));
    }

    @Test
    void objects_keep_their_order_and_nest() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("z", 1);
        m.put("a", List.of("x", 2, true));
        m.put("n", null);
        m.put("o", Map.of("k\"ey", "v"));
        m.put("e", List.of());
        assertEquals("{\"z\":1,\"a\":[\"x\",2,true],\"n\":null,\"o\":{\"k\\\"ey\":\"v\"},\"e\":[]}", Json.write(m));
        assertEquals("[1,\"two\"]", Json.write(new Object[] {1, "two"}));
        assertEquals("[null]", Json.write(Arrays.asList((Object) null)));
    }

    @Test
    void other_objects_are_their_string() {
        assertEquals("\"/a/b\"", Json.write(new org.freedesktop.dbus.DBusPath("/a/b")));
    }
}
