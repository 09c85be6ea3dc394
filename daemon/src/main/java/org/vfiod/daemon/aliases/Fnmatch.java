package org.vfiod.daemon.aliases;

/**
 * A compiled glob with the semantics kmod gets from {@code fnmatch(pattern, name, 0)}: {@code *}, {@code ?},
 * bracket expressions with ranges and {@code !}/{@code ^} negation, and backslash escapes. No flags: {@code /}
 * and a leading {@code .} are ordinary characters, as they are for modalias matching.
 */
public final class Fnmatch {
    private static final int LITERAL = 0, ANY = 1, STAR = 2, SET = 3;

    private final int[] kinds;
    private final char[] literals;
    private final CharSet[] sets;
    private final int stars;

    private Fnmatch(int[] kinds, char[] literals, CharSet[] sets, int stars) {
        this.kinds = kinds;
        this.literals = literals;
        this.sets = sets;
        this.stars = stars;
    }

    public static Fnmatch compile(String pattern) {
        int n = pattern.length();
        int[] kinds = new int[n];
        char[] literals = new char[n];
        CharSet[] sets = new CharSet[n];
        int count = 0, stars = 0;
        for (int i = 0; i < n; i++) {
            char c = pattern.charAt(i);
            switch (c) {
                case '*' -> {
                    stars++;
                    // consecutive stars match like one, so keep one token
                    if (count == 0 || kinds[count - 1] != STAR) kinds[count++] = STAR;
                }
                case '?' -> kinds[count++] = ANY;
                case '[' -> {
                    int end = CharSet.findEnd(pattern, i);
                    if (end < 0) { // no closing bracket: fnmatch takes '[' literally
                        kinds[count] = LITERAL;
                        literals[count++] = c;
                    } else {
                        kinds[count] = SET;
                        sets[count++] = CharSet.parse(pattern, i + 1, end);
                        i = end;
                    }
                }
                case '\\' -> {
                    if (i + 1 < n) {
                        kinds[count] = LITERAL;
                        literals[count++] = pattern.charAt(++i);
                    } else { // a trailing unescaped backslash: fnmatch (glibc, POSIX) matches nothing
                        kinds[count] = SET;
                        sets[count++] = new CharSet(false, new char[0], new char[0]);
                    }
                }
                default -> {
                    kinds[count] = LITERAL;
                    literals[count++] = c;
                }
            }
        }
        return new Fnmatch(java.util.Arrays.copyOf(kinds, count), java.util.Arrays.copyOf(literals, count),
                java.util.Arrays.copyOf(sets, count), stars);
    }

    /** The number of {@code *} in the pattern as written: the measure of how specific an alias is. */
    int stars() {
        return stars;
    }

    public boolean matches(CharSequence s) {
        int p = 0, i = 0, n = s.length(), plen = kinds.length;
        int starP = -1, starI = -1;
        while (i < n) {
            if (p < plen) {
                int k = kinds[p];
                if (k == STAR) {
                    starP = ++p;
                    starI = i;
                    continue;
                }
                char c = s.charAt(i);
                if (k == ANY || (k == LITERAL && literals[p] == c) || (k == SET && sets[p].contains(c))) {
                    p++;
                    i++;
                    continue;
                }
            }
            if (starP < 0) return false;
            // backtrack: let the last star swallow one more character
            p = starP;
            i = ++starI;
        }
        while (p < plen && kinds[p] == STAR) p++;
        return p == plen;
    }

    private record CharSet(boolean negated, char[] from, char[] to) {
        /** Index of the ']' that closes the bracket opened at {@code open}, or -1. */
        static int findEnd(String p, int open) {
            int i = open + 1;
            if (i < p.length() && (p.charAt(i) == '!' || p.charAt(i) == '^')) i++;
            if (i < p.length() && p.charAt(i) == ']') i++; // a leading ']' is a member
            for (; i < p.length(); i++) {
                char c = p.charAt(i);
                if (c == '\\') i++;
                else if (c == ']') return i;
            }
            return -1;
        }

        static CharSet parse(String p, int start, int end) {
            boolean negated = false;
            int i = start;
            if (p.charAt(i) == '!' || p.charAt(i) == '^') {
                negated = true;
                i++;
            }
            StringBuilder from = new StringBuilder(), to = new StringBuilder();
            boolean first = true;
            while (i < end) {
                char lo = p.charAt(i);
                if (lo == '\\' && i + 1 < end) lo = p.charAt(++i);
                else if (lo == ']' && !first) break;
                i++;
                char hi = lo;
                if (i + 1 < end && p.charAt(i) == '-') {
                    hi = p.charAt(i + 1);
                    if (hi == '\\' && i + 2 < end) {
                        hi = p.charAt(i + 2);
                        i++;
                    }
                    i += 2;
                }
                from.append(lo);
                to.append(hi);
                first = false;
            }
            return new CharSet(negated, from.toString().toCharArray(), to.toString().toCharArray());
        }

        boolean contains(char c) {
            boolean in = false;
            for (int k = 0; k < from.length && !in; k++) in = c >= from[k] && c <= to[k];
            return in != negated;
        }
    }
}
