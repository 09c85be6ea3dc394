package org.vfiod.daemon.binding;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.vfiod.daemon.aliases.AliasIndex;
import org.vfiod.daemon.aliases.AliasSources;
import org.vfiod.daemon.sim.SimulatedKernel;
import org.vfiod.daemon.sim.SimulatedSysfs;
import org.vfiod.daemon.sysfs.PciAddress;
import org.vfiod.daemon.sysfs.PciDevice;
import org.vfiod.daemon.sysfs.Sysfs;

/** The sample machine on a simulated kernel, with an engine wired the way main wires it. */
final class SimulatedMachine implements AutoCloseable {
    static final String CATCH_ALL = "alias vfio_pci:v*d*sv*sd*bc*sc*i* vfio_pci\n";

    final SimulatedSysfs sim;
    final Sysfs sysfs;
    final AliasIndex index;
    final RebindEngine engine;

    SimulatedMachine(Path dir, String modulesAlias) throws IOException {
        sim = SimulatedSysfs.sampleMachine(dir.resolve("sys"));
        Path modules = Files.createDirectories(dir.resolve("modules"));
        Files.writeString(modules.resolve("modules.alias"), modulesAlias);
        index = AliasIndex.load(AliasSources.forModulesDir(modules, List.of()));
        SimulatedKernel kernel = new SimulatedKernel(sim.root());
        sysfs = new Sysfs(sim.root(), kernel);
        engine = new RebindEngine(sysfs, () -> index, kernel, new PollingDriverWaiter(sysfs));
    }

    PciDevice device(String address) throws IOException {
        return sysfs.read(PciAddress.require(address)).orElseThrow();
    }

    String driver(String address) throws IOException {
        return device(address).driver().orElse("");
    }

    String override(String address) throws IOException {
        return device(address).driverOverride().orElse("");
    }

    /** Every file and link of the tree with its content or target, for byte-for-byte comparisons. */
    TreeMap<String, String> snapshot() {
        TreeMap<String, String> out = new TreeMap<>();
        try (Stream<Path> all = Files.walk(sim.root())) {
            all.forEach(p -> {
                String rel = sim.root().relativize(p).toString();
                if (rel.startsWith(SimulatedKernel.CONTROL_DIR)) return;
                try {
                    if (Files.isSymbolicLink(p)) out.put(rel, "-> " + Files.readSymbolicLink(p));
                    else if (Files.isRegularFile(p)) out.put(rel, Files.readString(p));
                    else out.put(rel, "/");
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out;
    }

    @Override
    public void close() {
        engine.close();
    }
}
