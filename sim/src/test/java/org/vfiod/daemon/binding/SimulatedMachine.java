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
    /** The host drivers of the other buses' sample devices ({@code SimulatedSysfs.withOtherBuses}), as depmod lists them. */
    static final String OTHER_BUSES_HOST_ALIASES = """
            alias cdx:v10EEd808*sv*sd*c* cdx_sim_net
            alias of:N*T*Cvirtio,mmio virtio_mmio
            alias of:N*T*Ccalxeda,hb-xgmac calxedaxgmac
            alias of:N*T*Csim,pinctrl pinctrl_sim
            alias fsl-mc:v00001957ddprc fsl_mc_dprc
            alias fsl-mc:v00001957ddpni fsl_dpaa2_eth
            alias fsl-mc:v00001957ddpio fsl_mc_dpio
            alias fsl-mc:v00001957ddpmcp fsl_mc_allocator
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
        this(dir, modulesAlias, existing, policy, false);
    }

    /** The sample machine with the CDX, platform and fsl-mc devices of {@link SimulatedSysfs#withOtherBuses}. */
    static SimulatedMachine allBuses(Path dir, String modulesAlias) throws IOException {
        return new SimulatedMachine(dir, modulesAlias, false, DriverPolicy.BEST_MATCH, true);
    }

    private SimulatedMachine(Path dir, String modulesAlias, boolean existing, DriverPolicy policy, boolean allBuses) throws IOException {
        sim = existing ? SimulatedSysfs.create(dir.resolve("sys"))
                : allBuses ? SimulatedSysfs.allBuses(dir.resolve("sys")) : SimulatedSysfs.sampleMachine(dir.resolve("sys"));
        Path modules = Files.createDirectories(dir.resolve("modules"));
        Files.writeString(modules.resolve("modules.alias"), modulesAlias);
        index = AliasIndex.load(AliasSources.forModulesDir(modules, List.of()));
        kernel = new SimulatedKernel(sim.root());
        sysfs = new Sysfs(sim.root(), kernel);
        engine = new RebindEngine(sysfs, () -> index, kernel, new PollingDriverWaiter(sysfs), new JournalStore(dir.resolve("run/journal")),
                org.vfiod.daemon.sim.SimulatedHost.scanner(sim.root(), dir.resolve("host")), policy);
    }

    Device device(String address) throws IOException {
        return sysfs.read(name(address)).orElseThrow(() -> new java.util.NoSuchElementException(address + " is not there"));
    }

    /**
     * The device a kernel name stands for: a PCI address, else the bus whose {@code bus/<b>/devices} lists the name
     * now, else (a device that is gone) the bus the name's form says.
     */
    DeviceName name(String kernelName) throws IOException {
        java.util.Optional<PciAddress> pci = PciAddress.parse(kernelName);
        if (pci.isPresent()) return pci.get().toDeviceName();
        try (Stream<Path> buses = Files.list(sim.root().resolve("bus"))) {
            for (Path b : buses.sorted().toList()) {
                if (Files.exists(b.resolve("devices").resolve(kernelName))) return new DeviceName(b.getFileName().toString(), kernelName);
            }
        }
        String bus = kernelName.startsWith("cdx-") ? "cdx" : kernelName.matches("dp[a-z]+\\.[0-9]+") ? "fsl-mc" : "platform";
        return new DeviceName(bus, kernelName);
    }

    /** The device's driver, or "" when it has none or is gone (a container's object while it has no driver). */
    String driverOrGone(String name) throws IOException {
        return sysfs.read(name(name)).flatMap(Device::driver).orElse("");
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
