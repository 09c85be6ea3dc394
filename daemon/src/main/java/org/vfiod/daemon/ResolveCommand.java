package org.vfiod.daemon;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.vfiod.daemon.aliases.AliasIndex;
import org.vfiod.daemon.aliases.AliasMatch;
import org.vfiod.daemon.aliases.AliasSourceException;
import org.vfiod.daemon.aliases.AliasSources;

/**
 * {@code vfiod resolve [--modules-dir DIR] [--modprobe-dir DIR ...] MODALIAS...}: which vfio driver each modalias
 * would get, offline. Exit 0 when every modalias resolved, 1 when some did not, 2 on a source error, 64 on usage.
 */
final class ResolveCommand {
    private ResolveCommand() {
    }

    static int run(List<String> args, PrintStream out, PrintStream err) {
        Path modulesDir = null;
        List<Path> modprobeDirs = new ArrayList<>();
        List<String> modaliases = new ArrayList<>();
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            switch (a) {
                case "--modules-dir" -> {
                    if (++i >= args.size()) return usage(err, "--modules-dir needs a folder");
                    modulesDir = Path.of(args.get(i));
                }
                case "--modprobe-dir" -> {
                    if (++i >= args.size()) return usage(err, "--modprobe-dir needs a folder");
                    modprobeDirs.add(Path.of(args.get(i)));
                }
                case "-h", "--help" -> {
                    out.println("usage: vfiod resolve [--modules-dir DIR] [--modprobe-dir DIR ...] MODALIAS...");
                    return 0;
                }
                default -> {
                    if (a.startsWith("-")) return usage(err, "unknown option " + a);
                    modaliases.add(a);
                }
            }
        }
        if (modaliases.isEmpty()) return usage(err, "no modalias given");
        if (modulesDir == null) modulesDir = AliasSources.defaultModulesDir(Options.kernelRelease());
        if (modprobeDirs.isEmpty()) modprobeDirs = AliasSources.DEFAULT_MODPROBE_DIRS;
        AliasIndex index;
        try {
            index = AliasIndex.load(AliasSources.forModulesDir(modulesDir, modprobeDirs));
        } catch (AliasSourceException e) {
            err.println("vfiod: " + e.getMessage());
            return 2;
        }
        if (index.malformedLines() > 0) {
            err.println("vfiod: skipped " + index.malformedLines() + " malformed line(s), first: " + index.problems().get(0));
        }
        int unresolved = 0;
        for (String modalias : modaliases) {
            Optional<AliasMatch> m = index.resolve(modalias.strip());
            if (m.isEmpty()) {
                out.println(modalias + "\tnone\t-\t-\t-\t-");
                unresolved++;
                continue;
            }
            AliasMatch r = m.get();
            out.println(modalias + "\t" + r.module() + "\t" + r.pattern() + "\twildcards=" + r.wildcards()
                    + "\t" + (r.builtin() ? "builtin" : "module") + "\t" + (r.tie() ? "tie:" + String.join(",", r.tiedWith()) : "no-tie"));
        }
        return unresolved == 0 ? 0 : 1;
    }

    private static int usage(PrintStream err, String why) {
        err.println("vfiod resolve: " + why);
        err.println("usage: vfiod resolve [--modules-dir DIR] [--modprobe-dir DIR ...] MODALIAS...");
        return 64;
    }
}
