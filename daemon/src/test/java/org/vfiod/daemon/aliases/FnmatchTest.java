package org.vfiod.daemon.aliases;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link Fnmatch} against the behaviour of {@code fnmatch(pattern, string, 0)}. Every expectation in the table
 * was checked against glibc's fnmatch (with POSIXLY_CORRECT unset, so {@code [^...]} negates as it does for
 * kmod) and agrees with POSIX where POSIX specifies the result. Left out on purpose: glibc quirks POSIX does not
 * share (glibc rejects an unterminated {@code [a-}, POSIX takes the {@code [} literally) and character classes
 * such as {@code [[:digit:]]}, which modalias patterns never use.
 */
class FnmatchTest {

    static Arguments row(String pattern, String string, boolean matches) {
        return Arguments.of(pattern, string, matches);
    }

    static Stream<Arguments> table() {
        return Stream.of(
                // literals, the empty pattern, case sensitivity
                row("abc", "abc", true),
                row("abc", "abd", false),
                row("abc", "ab", false),
                row("abc", "abcd", false),
                row("ABC", "abc", false),
                row("[A-F]", "a", false),
                row("", "", true),
                row("", "a", false),

                // '*': any run of characters, including none, '/', and a leading '.'
                row("*", "", true),
                row("*", "anything", true),
                row("*", ".hidden", true),
                row("*", "a/b", true),
                row("a*", "a", true),
                row("a*", "abc", true),
                row("a*", "ba", false),
                row("*c", "abc", true),
                row("*c", "abcd", false),
                row("a*c", "ac", true),
                row("a*c", "abbbc", true),
                row("a*c", "abcb", false),

                // consecutive stars act as one
                row("a**c", "abc", true),
                row("a***c", "ac", true),
                row("**", "x", true),

                // several stars: backtracking
                row("a*b*c", "axxbyyc", true),
                row("a*b*c", "axxbyy", false),
                row("a*b*c*d", "abcbcd", true),
                row("*a*a*a*", "aaa", true),
                row("*a*a*a*", "aa", false),

                // '?': exactly one character, '/' and '.' included
                row("?", "a", true),
                row("?", "", false),
                row("?", "ab", false),
                row("a?c", "abc", true),
                row("a?c", "ac", false),
                row("??", "ab", true),
                row("?*", "", false),
                row("?*", "x", true),
                row("*?", "x", true),
                row("a?", "a/", true),
                row("?", "/", true),
                row("?", ".", true),
                row("*", "/", true),

                // bracket expressions and ranges
                row("[abc]", "a", true),
                row("[abc]", "d", false),
                row("[abc]", "", false),
                row("[a-c]", "b", true),
                row("[a-c]", "d", false),
                row("[a-cx-z]", "y", true),
                row("[a-cx-z]", "m", false),
                row("[z-a]", "m", false),
                row("[z-a]", "z", false),

                // negation with '!' (POSIX) and '^' (glibc extension, what kmod gets)
                row("[!abc]", "d", true),
                row("[!abc]", "a", false),
                row("[^abc]", "d", true),
                row("[^abc]", "a", false),
                row("[!a-c]", "b", false),
                row("[^a-c]", "x", true),

                // ']' first in the set (after an optional negation) is a member
                row("[]]", "]", true),
                row("[]]", "a", false),
                row("[]a]", "a", true),
                row("[]a]", "]", true),
                row("[!]]", "]", false),
                row("[!]]", "a", true),
                row("[^]]", "a", true),
                row("[^]]", "]", false),

                // '-' as a range bound or as a member at either end
                row("[]-a]", "_", true),
                row("[]-a]", "b", false),
                row("[a-]", "-", true),
                row("[a-]", "a", true),
                row("[a-]", "b", false),
                row("[-a]", "-", true),
                row("[+--]", ",", true),
                row("[+--]", ".", false),
                row("[!-]", "-", false),
                row("[!-]", "a", true),

                // backslash escapes inside brackets
                row("[\\]]", "]", true),
                row("[\\]]", "\\", false),
                row("[\\!]", "!", true),
                row("[a\\-c]", "b", false),
                row("[a\\-c]", "-", true),

                // '*', '?' and '[' are ordinary inside brackets
                row("[[]", "[", true),
                row("[[]", "a", false),
                row("[*]", "*", true),
                row("[*]", "a", false),
                row("[?]", "?", true),
                row("[?]", "a", false),

                // an unmatched '[' is an ordinary character
                row("[", "[", true),
                row("[", "a", false),
                row("[a", "[a", true),
                row("[abc", "[abc", true),
                row("[abc", "a", false),
                row("[!", "[!", true),
                row("[]", "[]", true),
                row("[!]", "[!]", true),
                row("ab[", "ab[", true),
                row("a[b", "a[b", true),
                row("a[b", "ab", false),
                row("[a]b[", "ab[", true),
                row("x[a-c", "x[a-c", true),

                // backslash escapes outside brackets
                row("\\*", "*", true),
                row("\\*", "a", false),
                row("\\?", "?", true),
                row("\\?", "a", false),
                row("\\[a]", "[a]", true),
                row("\\[a]", "a", false),
                row("\\\\", "\\", true),
                row("\\a", "a", true),
                row("a\\*b", "a*b", true),
                row("a\\*b", "axxb", false),
                row("*\\*", "abc*", true),
                row("*\\*", "abc", false),

                // a pattern ending in an unescaped backslash matches nothing (POSIX 2024, glibc)
                row("\\", "\\", false),
                row("a\\", "a\\", false),
                row("a\\", "a", false),

                // no FNM_PATHNAME / FNM_PERIOD: '/' and a leading '.' are ordinary
                row("[/]", "/", true),
                row("a/b", "a/b", true),
                row("a*b", "a/b", true),
                row("a?b", "a/b", true),
                row(".*", ".x", true),
                row("*x", ".x", true),
                row("?x", ".x", true),
                row("[.]x", ".x", true),

                // real modalias patterns
                row("vfio_pci:v*d*sv*sd*bc*sc*i*", "vfio_pci:v00008086d000010D3sv00008086sd00000000bc02sc00i00", true),
                row("vfio_pci:v000015B3d00001021sv*sd*bc*sc*i*", "vfio_pci:v000015B3d00001021sv000015B3sd00000001bc02sc00i00", true),
                row("vfio_pci:v000015B3d00001021sv*sd*bc*sc*i*", "vfio_pci:v000015B3d00001022sv000015B3sd00000001bc02sc00i00", false),
                row("usb:v0BDAp8187d01[0-9][0-9]dc*", "usb:v0BDAp8187d0142dc00", true),
                row("usb:v0BDAp8187d01[0-9][0-9]dc*", "usb:v0BDAp8187d01A2dc00", false)
        );
    }

    @ParameterizedTest(name = "fnmatch(\"{0}\", \"{1}\") == {2}")
    @MethodSource("table")
    void matchesLikePosixFnmatch(String pattern, String string, boolean expected) {
        assertEquals(expected, Fnmatch.compile(pattern).matches(string),
                () -> "fnmatch(\"" + pattern + "\", \"" + string + "\", 0)");
    }

    @Test
    void starsCountsTheUnescapedStarsAsWritten() {
        assertEquals(0, Fnmatch.compile("abc").stars());
        assertEquals(7, Fnmatch.compile("vfio_pci:v*d*sv*sd*bc*sc*i*").stars());
        assertEquals(5, Fnmatch.compile("vfio_pci:v000015B3d00001021sv*sd*bc*sc*i*").stars());
        // consecutive stars match like one star but each one counts as written
        assertEquals(3, Fnmatch.compile("a***c").stars());
        // an escaped star and a star inside a bracket expression are literals, not wildcards
        assertEquals(0, Fnmatch.compile("a\\*b").stars());
        assertEquals(0, Fnmatch.compile("a[*]b").stars());
        assertEquals(1, Fnmatch.compile("[*]*").stars());
    }

    @Test
    void aCompiledPatternIsReusable() {
        Fnmatch m = Fnmatch.compile("vfio_pci:v000015B3d*sv*");
        assertTrue(m.matches("vfio_pci:v000015B3d00001021sv000015B3"));
        assertFalse(m.matches("vfio_pci:v00008086d00001021sv000015B3"));
        assertTrue(m.matches("vfio_pci:v000015B3d00001021sv000015B3"));
    }

    @Test
    void manyStarsAgainstALongNearMissStayFast() {
        String pattern = "*a*a*a*a*a*a*a*a*a*a*b";
        String subject = "a".repeat(20_000);
        Fnmatch m = Fnmatch.compile(pattern);
        assertTimeoutPreemptively(Duration.ofSeconds(5), () -> assertFalse(m.matches(subject)));
        assertTrue(m.matches(subject + "b"));
    }
}
