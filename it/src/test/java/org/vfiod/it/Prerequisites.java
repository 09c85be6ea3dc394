package org.vfiod.it;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.opentest4j.AssertionFailedError;

/**
 * What the real-components tests need from the machine. Missing pieces skip the tests on a developer's machine and
 * fail them when {@code CI=true}, where a skipped suite would look like a passing one.
 */
public final class Prerequisites {
    static final List<String> TOOLS = List.of("dbus-daemon", "busctl", "gdbus", "setpriv");
    static final Path ACTIONS = Path.of("/usr/share/polkit-1/actions/org.vfiod.policy");
    static final Path TEST_RULE = Path.of("/etc/polkit-1/rules.d/50-vfiod-test.rules");
    /** Scopes by a detail vfiod passes to polkit (PolkitDetailsIT); harmless to the other tests. */
    static final Path SCOPED_TEST_RULE = Path.of("/etc/polkit-1/rules.d/49-vfiod-scoped-test.rules");
    static final String SCOPED_RULE_SOURCE = "packaging/polkit/49-vfiod-scoped.rules.example";

    private static List<String> missing;

    private Prerequisites() {
    }

    /**
     * Null when the machine has everything; otherwise what is missing. With {@code CI=true} a missing piece is an
     * error right here, so the test class fails instead of being skipped.
     */
    public static synchronized String missing() {
        if (missing == null) missing = check();
        if (missing.isEmpty()) return null;
        String message = "the real-components tests need: " + String.join("; ", missing)
                + ". Run them as root after `sudo scripts/setup-test-system` (and apt-get install dbus polkitd).";
        if ("true".equalsIgnoreCase(System.getenv("CI"))) {
            throw new AssertionFailedError("CI=true and " + message);
        }
        return message;
    }

    /**
     * The polkit files again, uncached, before each test: they are system-wide, and something else on the machine
     * (a package purge, say) may remove them while the suite runs. Null when they are in place.
     */
    public static String polkitFilesMissing() {
        List<String> out = new ArrayList<>();
        if (!sameContent(Harness.projectRoot().resolve("packaging/polkit/org.vfiod.policy"), ACTIONS)) {
            out.add(ACTIONS + " (it was there when the suite started: did something on this machine remove it?)");
        }
        if (!sameContent(Harness.projectRoot().resolve("packaging/polkit/50-vfiod-group.rules"), TEST_RULE)) {
            out.add(TEST_RULE + " (it was there when the suite started)");
        }
        if (!sameContent(Harness.projectRoot().resolve(SCOPED_RULE_SOURCE), SCOPED_TEST_RULE)) {
            out.add(SCOPED_TEST_RULE + " (it was there when the suite started)");
        }
        if (out.isEmpty()) return null;
        String message = "the real-components tests need: " + String.join("; ", out) + ". Run `sudo scripts/setup-test-system` again.";
        if ("true".equalsIgnoreCase(System.getenv("CI"))) throw new AssertionFailedError("CI=true and " + message);
        return message;
    }

    /** Skips the calling test (assumption) when something is missing; see {@link #missing()}. */
    public static void require() {
        String m = missing();
        if (m != null) Assumptions.abort(m);
    }

    static List<String> check() {
        List<String> out = new ArrayList<>();
        if (!isRoot()) {
            out.add("root (they start polkitd, own org.vfiod under the project's bus policy and switch users with setpriv; "
                    + "this is uid " + uid() + ")");
        }
        for (String tool : TOOLS) {
            if (which(tool) == null) out.add("the command " + tool);
        }
        if (!Files.isExecutable(Polkitd.BINARY)) out.add(Polkitd.BINARY + " (package polkitd)");
        if (!Files.isRegularFile(PrivateSystemBus.POLKIT_BUS_POLICY)) out.add(PrivateSystemBus.POLKIT_BUS_POLICY + " (package polkitd)");
        Path packaged = Harness.projectRoot().resolve("packaging/polkit/org.vfiod.policy");
        if (!sameContent(packaged, ACTIONS)) out.add(ACTIONS + " installed and equal to packaging/polkit/org.vfiod.policy");
        // /etc/polkit-1/rules.d is readable by root and polkitd only
        Path rule = Harness.projectRoot().resolve("packaging/polkit/50-vfiod-group.rules");
        if (isRoot() && !sameContent(rule, TEST_RULE)) out.add(TEST_RULE + " installed and equal to packaging/polkit/50-vfiod-group.rules");
        if (isRoot() && !sameContent(Harness.projectRoot().resolve(SCOPED_RULE_SOURCE), SCOPED_TEST_RULE)) {
            out.add(SCOPED_TEST_RULE + " installed and equal to " + SCOPED_RULE_SOURCE);
        }
        for (User u : User.values()) {
            if (u.account() != null && groupsOf(u.account()) == null) out.add("the user " + u.account());
        }
        List<String> member = groupsOf(User.MEMBER.account());
        if (member != null && !member.contains("vfio")) out.add(User.MEMBER.account() + " in group vfio");
        List<String> outsider = groupsOf(User.OUTSIDER.account());
        if (outsider != null && outsider.contains("vfio")) out.add(User.OUTSIDER.account() + " NOT in group vfio");
        return out;
    }

    static boolean isRoot() {
        return "0".equals(uid());
    }

    private static String uid() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("Uid:")) return line.substring(4).strip().split("\\s+")[1]; // effective uid
            }
        } catch (IOException e) {
            // not Linux
        }
        return "unknown";
    }

    static Path which(String tool) {
        for (String dir : Proc.BASE_ENV.get("PATH").split(":")) {
            Path p = Path.of(dir, tool);
            if (Files.isExecutable(p)) return p;
        }
        return null;
    }

    private static boolean sameContent(Path a, Path b) {
        try {
            return Files.isRegularFile(b) && Arrays.equals(Files.readAllBytes(a), Files.readAllBytes(b));
        } catch (IOException e) {
            return false;
        }
    }

    /** The group names of {@code user} (as `id -nG` says), or null if there is no such user. */
    private static List<String> groupsOf(String user) {
        try {
            Process p = new ProcessBuilder("id", "-nG", user).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes()).strip();
            if (!p.waitFor(10, java.util.concurrent.TimeUnit.SECONDS) || p.exitValue() != 0) return null;
            return List.of(out.split("\\s+"));
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }
}
