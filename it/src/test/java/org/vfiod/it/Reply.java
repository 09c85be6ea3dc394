package org.vfiod.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** What a finished client command (gdbus, busctl, ...) printed and returned. */
public record Reply(List<String> command, User user, int exit, String out, String err) {
    /** gdbus prints a D-Bus error as {@code Error: GDBus.Error:NAME: MESSAGE}. */
    private static final Pattern GDBUS_ERROR = Pattern.compile("GDBus\\.Error:([A-Za-z0-9_.]+): (.*)", Pattern.DOTALL);

    public boolean ok() {
        return exit == 0;
    }

    /** The D-Bus error name gdbus printed, or null. */
    public String errorName() {
        Matcher m = GDBUS_ERROR.matcher(err);
        return m.find() ? m.group(1) : null;
    }

    /** The D-Bus error message gdbus printed (without the trailing newline), or null. */
    public String errorMessage() {
        Matcher m = GDBUS_ERROR.matcher(err);
        return m.find() ? m.group(2).strip() : null;
    }

    public Reply assertOk() {
        if (exit != 0) fail("expected success of " + describe());
        return this;
    }

    /** Asserts a gdbus call failed with the error {@code name}; returns the error message. */
    public String assertError(String name) {
        if (exit == 0) fail("expected the error " + name + " but the call succeeded: " + describe());
        assertEquals(name, errorName(), () -> "error name of " + describe());
        return errorMessage();
    }

    /** Asserts a gdbus call failed with {@code name} and a message containing each of {@code fragments}. */
    public String assertError(String name, String... fragments) {
        String message = assertError(name);
        for (String f : fragments) {
            assertTrue(message.contains(f), () -> "message of " + name + " should contain '" + f + "': " + describe());
        }
        return message;
    }

    /** Asserts a dbus-send call failed with the error {@code name} (it prints {@code Error NAME: MESSAGE}). */
    public Reply assertErrorName(String name) {
        if (exit == 0) fail("expected the error " + name + " but the call succeeded: " + describe());
        assertTrue(err.contains("Error " + name + ":"), () -> "expected the error " + name + ": " + describe());
        return this;
    }

    public String describe() {
        String cmd = String.join(" ", command.stream().map(Reply::shortArg).toList());
        return "[" + user + "] " + cmd + "\n  exit " + exit + "\n  stdout: " + out.strip() + "\n  stderr: " + err.strip();
    }

    private static String shortArg(String a) {
        String s = a.length() > 80 ? a.substring(0, 60) + "...(" + a.length() + " chars)" : a;
        return s.replace("\n", "\\n").replace("\t", "\\t");
    }
}
