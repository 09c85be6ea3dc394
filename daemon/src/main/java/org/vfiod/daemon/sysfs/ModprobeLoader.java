package org.vfiod.daemon.sysfs;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/** Runs {@code modprobe -- NAME}; the name is validated, so it can never be read as an option or a path. */
public final class ModprobeLoader implements ModuleLoader {
    private final String modprobe;

    public ModprobeLoader(String modprobe) {
        this.modprobe = modprobe;
    }

    @Override
    public void load(DriverName module) throws IOException {
        Process p = new ProcessBuilder(modprobe, "--", module.value()).redirectErrorStream(true).start();
        try {
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException("modprobe " + module + " did not finish within 60 s");
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while loading " + module, e);
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        if (p.exitValue() != 0) {
            throw new IOException("modprobe " + module + " failed (exit " + p.exitValue() + ")" + (out.isEmpty() ? "" : ": " + out));
        }
    }
}
