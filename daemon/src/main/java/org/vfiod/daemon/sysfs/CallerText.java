package org.vfiod.daemon.sysfs;

/** Caller text as it may appear in an error message or a log line: short, one line, control characters escaped. */
public final class CallerText {
    private static final int MAX = 40;

    private CallerText() {
    }

    public static String printable(String text) {
        if (text == null) return "";
        String s = text.length() > MAX ? text.substring(0, MAX) + "..." : text;
        StringBuilder b = new StringBuilder(s.length());
        for (char c : s.toCharArray()) b.append(c < 0x20 || c == 0x7f ? String.format("\\x%02x", (int) c) : String.valueOf(c));
        return b.toString();
    }
}
