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
import org.vfiod.daemon.sysfs.Device;
import org.vfiod.daemon.sysfs.DeviceName;
import org.vfiod.daemon.sysfs.PciAddress;
import org.vfiod.daemon.sysfs.Sysfs;

/** The sample machine on a simulated kernel, with an engine wired the way main wires it. */
final class SimulatedMachine implements AutoCloseable {
    static final String CATCH_ALL = "alias vfio_pci:v*d*sv*sd*bc*sc*i* vfio_pci\n";
    /**
     * The sample machine's host drivers as depmod lists them (what a real modules.alias always has): a Restore names
     * the one that refused a device from these, and a dry run tells the host driver a device would get.
     */
    static final String HOST_ALIASES = """
            alias pci:v00001002d000073BFsv*sd*bc*sc*i* amdgpu
            alias pci:v00001002d0000AB28sv*sd*bc*sc*i* snd_hda_intel
            alias pci:v00008086d000010D3sv*sd*bc*sc*i* e1000e
            """;

    final SimulatedSysfs sim;
    final Sysfs sysfs;
    final AliasIndex index;
    final RebindEngine engine;

    final SimulatedKernel kernel;

    SimulatedMachine(Path dir, String modulesAlias) throws IOException {
        this(dir, modulesAlias, false);
    }

    /** With {@code existing}, a new engine on the tree (and journal) an earlier one left: a restart. */
    SimulatedMachine(Path dir, String modulesAlias, boolean existing) throws IOException {
        this(dir, modulesAlias, existing, DriverPolicy.BEST_MATCH);
    }

    /** An engine whose default driver policy is {@code policy}. */
    SimulatedMachine(Path dir, String modulesAlias, boolean existing, DriverPolicy policy) throws IOException {
        sim = existing ? SimulatedSysfs.create(dir.resolve("sys")) : SimulatedSysfs.sampleMachine(dir.resolve("sys"));
        Path modules = Files.createDirectories(dir.resolve("modules"));
        Files.writeString(modules.resolve("modules.alias"), modulesAlias);
        index = AliasIndex.load(AliasSources.forModulesDir(modules, List.of()));
        kernel = new SimulatedKernel(sim.root());
        sysfs = new Sysfs(sim.root(), kernel);
        engine = new RebindEngine(sysfs, () -> index, kernel, new PollingDriverWaiter(sysfs), new JournalStore(dir.resolve("run/journal")),
                org.vfiod.daemon.sim.SimulatedHost.scanner(sim.root(), dir.resolve("host")), policy);
    }

    Device device(String address) throws IOException {
        return sysfs.read(PciAddress.require(address).toDeviceName()).orElseThrow();
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

    /** The entries that differ between two snapshots, one per line, for readable failures. */
    static String diff(TreeMap<String, String> before, TreeMap<String, String> after) {
        java.util.TreeSet<String> keys = new java.util.TreeSet<>(before.keySet());
        keys.addAll(after.keySet());
        StringBuilder b = new StringBuilder();
        for (String k : keys) {
            String x = before.get(k), y = after.get(k);
            if (!java.util.Objects.equals(x, y)) b.append("\n  ").append(k).append(": ").append(x).append(" => ").append(y);
        }
        return b.toString();
    }

    @Override
    public void close() {
        engine.close();
    }
}
