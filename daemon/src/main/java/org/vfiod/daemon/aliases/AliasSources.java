package org.vfiod.daemon.aliases;

import java.nio.file.Path;
import java.util.List;

/**
 * The files the index is built from. {@code modprobeDirs} are searched in order and a file name found in an
 * earlier folder hides the same name in later ones, as kmod does.
 */
public record AliasSources(List<Path> modprobeDirs, Path modulesAlias, Path builtinModinfo) {
    public static final List<Path> DEFAULT_MODPROBE_DIRS =
            List.of(Path.of("/etc/modprobe.d"), Path.of("/run/modprobe.d"), Path.of("/lib/modprobe.d"));

    public AliasSources {
        modprobeDirs = List.copyOf(modprobeDirs);
    }

    public static AliasSources forModulesDir(Path modulesDir, List<Path> modprobeDirs) {
        return new AliasSources(modprobeDirs, modulesDir.resolve("modules.alias"),
                modulesDir.resolve("modules.builtin.modinfo"));
    }

    public static Path defaultModulesDir(String kernelRelease) {
        return Path.of("/lib/modules", kernelRelease);
    }
}
