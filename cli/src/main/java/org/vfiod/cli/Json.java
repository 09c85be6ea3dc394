package org.vfiod.cli;

import java.util.Collection;
import java.util.Map;

/**
 * A small JSON writer (RFC 8259), by hand so that vfioctl needs no library. Output is pure ASCII: everything
 * outside printable ASCII is written as a {@code \\uXXXX} escape, so the bytes are the same whatever the locale's
 * charset. Maps keep their iteration order (pass a LinkedHashMap).
 */
final class Json {
    private static final char[] HEX = "0123456789abcdef".toCharArray();

    private Json() {
    }

    /** {@code value} as JSON: null, Boolean, Number, CharSequence, Map (keys as strings), Collection, array of Object; anything else as its string. */
    static String write(Object value) {
        StringBuilder b = new StringBuilder(256);
        write(b, value);
        return b.toString();
    }

    static void write(StringBuilder b, Object value) {
        if (value == null) {
            b.append("null");
        } else if (value instanceof Boolean bool) {
            b.append(bool.booleanValue() ? "true" : "false");
        } else if (value instanceof Number n) {
            number(b, n);
        } else if (value instanceof Map<?, ?> map) {
            b.append('{');
            boolean first = true;
            for (Map.Entry<?, ?> e : map.entrySet()) {
                if (!first) b.append(',');
                first = false;
                quote(b, String.valueOf(e.getKey()));
                b.append(':');
                write(b, e.getValue());
            }
            b.append('}');
        } else if (value instanceof Collection<?> list) {
            b.append('[');
            boolean first = true;
            for (Object o : list) {
                if (!first) b.append(',');
                first = false;
                write(b, o);
            }
            b.append(']');
        } else if (value instanceof Object[] array) {
            write(b, java.util.Arrays.asList(array));
        } else {
            quote(b, value.toString());
        }
    }

    private static void number(StringBuilder b, Number n) {
        if (n instanceof Double || n instanceof Float) {
            double d = n.doubleValue();
            if (Double.isNaN(d) || Double.isInfinite(d)) {
                b.append("null");
                return;
            }
            if (d == Math.rint(d) && Math.abs(d) < 1e15) {
                b.append((long) d);
                return;
            }
            b.append(d);
            return;
        }
        // Integer, Long, BigInteger, BigDecimal and dbus-java's UInt16/UInt32/UInt64 all print as plain digits
        String s = n.toString();
        if (isJsonNumber(s)) b.append(s);
        else quote(b, s);
    }

    private static boolean isJsonNumber(String s) {
        if (s.isEmpty()) return false;
        int i = s.charAt(0) == '-' ? 1 : 0;
        if (i == s.length()) return false;
        boolean dot = false;
        for (; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '.' && !dot && i > 0 && i < s.length() - 1) {
                dot = true;
            } else if (c < '0' || c > '9') {
                return false;
            }
        }
        return true;
    }

    /** {@code s} as a JSON string literal, quotes included. */
    static String quote(String s) {
        StringBuilder b = new StringBuilder(s.length() + 2);
        quote(b, s);
        return b.toString();
    }

    static void quote(StringBuilder b, String s) {
        b.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                case '\b' -> b.append("\\b");
                case '\f' -> b.append("\\f");
                default -> {
                    if (c < 0x20 || c > 0x7e) {
                        b.append("\\u").append(HEX[(c >> 12) & 0xf]).append(HEX[(c >> 8) & 0xf])
                                .append(HEX[(c >> 4) & 0xf]).append(HEX[c & 0xf]);
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        b.append('"');
    }
}
