package org.vfiod.daemon.sysfs;

import java.util.regex.Pattern;

/**
 * A kernel driver or module name that is safe to put in a path or an argv: letters, digits, {@code _ - .},
 * never {@code .} or {@code ..}.
 */
public record DriverName(String value) {
    private static final Pattern FORM = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_.+-]{0,63}");

    public DriverName {
        if (value == null || !FORM.matcher(value).matches() || value.equals("..") || value.contains("/")) {
            throw new IllegalArgumentException("'" + CallerText.printable(value) + "' is not a valid driver or module name");
        }
    }

    public static boolean isValid(String value) {
        return value != null && FORM.matcher(value).matches() && !value.equals("..");
    }

    @Override
    public String toString() {
        return value;
    }
}
