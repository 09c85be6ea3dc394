package org.vfiod.it;

import java.util.ArrayList;
import java.util.List;

/**
 * Who runs a client command. The two test users come from {@code scripts/setup-test-system}; a command runs as one
 * of them through {@code setpriv --reuid U --regid U --init-groups}, so the bus sees that uid and polkit looks up its
 * groups.
 */
public enum User {
    ROOT(null),
    /** In group {@code vfio}: the installed test rule lets it use org.vfiod.rebind. */
    MEMBER("vfiod-member"),
    /** In no special group: polkit's defaults (no session, so allow_any = no) refuse it. */
    OUTSIDER("vfiod-outsider");

    private final String account;

    User(String account) {
        this.account = account;
    }

    /** The account name, or null for root. */
    public String account() {
        return account;
    }

    /** {@code argv} as this user runs it: its uid, its primary group and its supplementary groups. */
    List<String> wrap(List<String> argv) {
        if (account == null) return argv;
        List<String> out = new ArrayList<>(List.of("setpriv", "--reuid", account, "--regid", primaryGroup(),
                "--init-groups"));
        out.addAll(argv);
        return out;
    }

    private volatile String gid;

    /** The numeric primary group, as `id -g` says (setpriv wants a group, not a user). */
    private String primaryGroup() {
        String g = gid;
        if (g == null) {
            try {
                Process p = new ProcessBuilder("id", "-g", account).redirectErrorStream(true).start();
                g = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.US_ASCII).strip();
                if (!p.waitFor(10, java.util.concurrent.TimeUnit.SECONDS) || p.exitValue() != 0 || !g.matches("\\d+")) {
                    throw new IllegalStateException("no user " + account + " (run scripts/setup-test-system): " + g);
                }
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
            gid = g;
        }
        return g;
    }

    @Override
    public String toString() {
        return account == null ? "root" : account;
    }
}
