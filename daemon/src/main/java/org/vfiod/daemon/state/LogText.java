package org.vfiod.daemon.state;

/**
 * Text from the rule folder (file names, words of a file) as it may appear in a log line. Anyone who can write
 * there, or link a file there, chooses it: a newline would forge a log line, and a long echo would copy a file
 * that was never meant to be a rule (a linked /etc/shadow) into the journal.
 */
final class LogText {
    /** Enough to recognise a misspelt keyword or value, too little to copy a secret out of a wrong file. */
    static final int EXCERPT = 24;

    private LogText() {
    }

    /** All of the text on one line: control characters escaped. */
    static String line(String text) {
        StringBuilder b = new StringBuilder(text.length());
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0) || c == 0x2028 || c == 0x2029) {
                b.append(String.format("\\x%02x", (int) c & 0xff));
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }

    /** A short excerpt of a word read from a file, on one line. */
    static String excerpt(String text) {
        return text.length() > EXCERPT ? line(text.substring(0, EXCERPT)) + "..." : line(text);
    }
}
