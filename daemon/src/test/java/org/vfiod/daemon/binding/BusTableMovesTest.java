package org.vfiod.daemon.binding;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vfiod.daemon.aliases.AliasIndex;
import org.vfiod.daemon.aliases.AliasSources;
import org.vfiod.daemon.sysfs.DeviceName;
import org.vfiod.daemon.sysfs.DriverName;
import org.vfiod.daemon.sysfs.KernelWriter;
import org.vfiod.daemon.sysfs.Sysfs;
import org.vfiod.daemon.usage.FakeHost;

/**
 * The bus table through the planner, executor and rollback, on a small tree with a kernel of a few lines
 * ({@link TinyKernel}): the fallback vfio driver, the refusal of a device without an IOMMU group (and vfio's
 * no-IOMMU mode), a driver without unbind, vfio-platform's reset, and fsl-mc's container rule. The simulated kernel
 * of module {@code sim} covers the buses in depth (faults and crashes at each step).
 */
class BusTableMovesTest {
    @TempDir
    Path dir;

    private Path root;
    private TinyKernel kernel;
    private RebindEngine engine;
    private Sysfs sysfs;

    private static final DeviceName MMIO = new DeviceName("platform", "a000000.virtio_mmio");
    private static final DeviceName DPRC = new DeviceName("fsl-mc", "dprc.2");
    private static final DeviceName DPNI = new DeviceName("fsl-mc", "dpni.1");
    private static final DeviceName DPIO = new DeviceName("fsl-mc", "dpio.3");

    @BeforeEach
    void tree() throws Exception {
        root = Files.createDirectories(dir.resolve("sys"));
        kernel = new TinyKernel();
        for (String bus : List.of("platform", "fsl-mc", "cdx")) {
            Files.createDirectories(root.resolve("bus").resolve(bus).resolve("devices"));
            Files.createDirectories(root.resolve("bus").resolve(bus).resolve("drivers"));
            Files.createFile(root.resolve("bus").resolve(bus).resolve("drivers_probe"));
        }
        driver("platform", "virtio-mmio", "virtio_mmio");
        driver("platform", "vfio-platform", "vfio_platform");
        driver("fsl-mc", "fsl_mc_dprc", "fsl_mc_dprc");
        driver("fsl-mc", "fsl_dpaa2_eth", "fsl_dpaa2_eth");
        driver("fsl-mc", "fsl_mc_dpio", "fsl_mc_dpio");
        driver("fsl-mc", "vfio-fsl-mc", "vfio_fsl_mc");
        driver("cdx", "cdx-host", "cdx_host");

        Path mmio = device("platform", "devices/platform/a000000.virtio_mmio", "virtio-mmio", "of:NvirtioT(null)Cvirtio,mmio");
        group(4, mmio);
        String mc = "devices/platform/80c000000.fsl-mc/dprc.1/";
        Path dprc = device("fsl-mc", mc + "dprc.2", "fsl_mc_dprc", "fsl-mc:v00001957ddprc");
        Path dpni = device("fsl-mc", mc + "dprc.2/dpni.1", "fsl_dpaa2_eth", "fsl-mc:v00001957ddpni");
        Path dpio = device("fsl-mc", mc + "dprc.2/dpio.3", "fsl_mc_dpio", "fsl-mc:v00001957ddpio");
        // the objects of a DPRC share its IOMMU group (its stream id)
        group(9, dprc, dpni, dpio);

        Path modules = Files.createDirectories(dir.resolve("modules"));
        Files.writeString(modules.resolve("modules.alias"), "alias vfio_cdx:v*d*sv*sd*c* vfio_cdx\n"
                + "alias vfio_pci:v*d*sv*sd*bc*sc*i* vfio_pci\n");
        AliasIndex aliases = AliasIndex.load(AliasSources.forModulesDir(modules, List.of()));
        sysfs = new Sysfs(root, kernel);
        FakeHost host = new FakeHost(root, Files.createDirectories(dir.resolve("host")));
        engine = new RebindEngine(sysfs, () -> aliases, module -> {
            throw new IOException("no module load expected: " + module);
        }, new PollingDriverWaiter(sysfs), new JournalStore(Files.createDirectories(dir.resolve("journal"))), host.scanner());
    }

    @AfterEach
    void close() {
        engine.close();
    }

    @Test
    void aPlatformDeviceGoesToItsBusFallbackVfioDriverNamedAsSuch() throws Exception {
        BindResult.Planned dry = (BindResult.Planned) engine.rebind(MMIO, BindOptions.defaults().withDryRun(true));
        assertEquals("vfio-platform", dry.driver());
        assertTrue(dry.steps().get(0).contains("vfio-platform is the fallback vfio driver of the platform bus"), dry.steps().toString());
        assertEquals(List.of(), kernel.writes);

        BindResult.Moved moved = (BindResult.Moved) engine.rebind(MMIO, BindOptions.defaults());
        assertEquals("vfio-platform", moved.driver());
        assertEquals(Optional.of("vfio-platform"), sysfs.currentDriver(MMIO));
        assertTrue(moved.steps().stream().anyMatch(s -> s.contains("fallback vfio driver")), moved.steps().toString());
        assertEquals(List.of("devices/platform/a000000.virtio_mmio/driver_override vfio-platform",
                "bus/platform/drivers/virtio-mmio/unbind a000000.virtio_mmio", "bus/platform/drivers_probe a000000.virtio_mmio"),
                kernel.writes);

        // vfio-platform has no alias, but it is a vfio driver: a Restore takes the device from it
        engine.restore(MMIO, BindOptions.defaults());
        assertEquals(Optional.of("virtio-mmio"), sysfs.currentDriver(MMIO));
        assertEquals("(null)", override(MMIO));
    }

    @Test
    void theCallerMayNameTheFallbackDriverButNotAnotherBusesOne() throws Exception {
        BindResult.Planned dry = (BindResult.Planned) engine.rebind(MMIO, BindOptions.defaults().withDryRun(true).withDriver("vfio-platform"));
        assertEquals("vfio-platform", dry.driver());
        BindingException e = assertThrows(BindingException.InvalidArgument.class,
                () -> engine.rebind(MMIO, BindOptions.defaults().withDryRun(true).withDriver("vfio-fsl-mc")));
        assertTrue(e.getMessage().contains("known: vfio_cdx, vfio_pci, vfio-platform"), e.getMessage());
    }

    @Test
    void aDeviceWithoutAnIommuGroupIsRefusedUnlessVfioRunsWithoutAnIommu() throws Exception {
        Path serial = device("platform", "devices/platform/serial8250", "virtio-mmio", "platform:serial8250");
        DeviceName name = new DeviceName("platform", "serial8250");
        BindingException e = assertThrows(BindingException.GroupNotViable.class, () -> engine.rebind(name, BindOptions.defaults()));
        assertTrue(e.getMessage().startsWith("serial8250 has no IOMMU group") && e.getMessage().contains("nothing was changed")
                && e.getMessage().contains("enable_unsafe_noiommu_mode"), e.getMessage());
        assertEquals(List.of(), kernel.writes);

        Path params = Files.createDirectories(root.resolve("module/vfio/parameters"));
        Files.writeString(params.resolve("enable_unsafe_noiommu_mode"), "Y\n");
        BindResult.Moved moved = (BindResult.Moved) engine.rebind(name, BindOptions.defaults());
        assertEquals("vfio-platform", moved.driver());
        assertTrue(moved.steps().stream().anyMatch(s -> s.startsWith("WARNING: serial8250 has no IOMMU group") && s.contains("no-IOMMU")),
                moved.steps().toString());
        assertTrue(Files.isSymbolicLink(serial.resolve("driver")));
    }

    @Test
    void aDriverWithoutUnbindIsRefusedBeforeAnyWrite() throws Exception {
        Files.delete(root.resolve("bus/platform/drivers/virtio-mmio/unbind"));
        BindingException e = assertThrows(BindingException.Failed.class, () -> engine.rebind(MMIO, BindOptions.defaults()));
        assertTrue(e.getMessage().contains("its driver virtio-mmio") && e.getMessage().contains("has no unbind")
                && e.getMessage().contains("suppress_bind_attrs") && e.getMessage().endsWith("nothing was changed"), e.getMessage());
        assertEquals(List.of(), kernel.writes);
        // the same for a bind the rollback would need
        Files.createFile(root.resolve("bus/platform/drivers/virtio-mmio/unbind"));
        Files.delete(root.resolve("bus/platform/drivers/virtio-mmio/bind"));
        e = assertThrows(BindingException.Failed.class, () -> engine.rebind(MMIO, BindOptions.defaults()));
        assertTrue(e.getMessage().contains("has no bind, so a rollback could not give the device back"), e.getMessage());
        assertEquals(List.of(), kernel.writes);
    }

    @Test
    void vfioPlatformsProbeFailingForWantOfAResetIsExplainedAndRolledBack() throws Exception {
        kernel.refusing.add("vfio-platform");
        Path params = Files.createDirectories(root.resolve("module/vfio_platform/parameters"));
        Files.writeString(params.resolve("reset_required"), "Y\n");
        BindingException e = assertThrows(BindingException.Failed.class, () -> engine.rebind(MMIO, BindOptions.defaults()));
        assertTrue(e.getMessage().startsWith("bind a000000.virtio_mmio to vfio-platform failed: vfio-platform did not bind it"), e.getMessage());
        assertTrue(e.getMessage().contains("reset module for its compatible string") && e.getMessage().contains("ACPI _RST")
                && e.getMessage().contains("vfio_platform.reset_required=0"), e.getMessage());
        assertTrue(e.getMessage().contains("rolled back: a000000.virtio_mmio on virtio-mmio"), e.getMessage());
        assertEquals(Optional.of("virtio-mmio"), sysfs.currentDriver(MMIO));
        assertEquals("(null)", override(MMIO));

        // without reset_required, the error does not blame a reset
        Files.writeString(params.resolve("reset_required"), "N\n");
        e = assertThrows(BindingException.Failed.class, () -> engine.rebind(MMIO, BindOptions.defaults()));
        assertFalse(e.getMessage().contains("_RST"), e.getMessage());
    }

    @Test
    void anFslMcObjectCannotMoveAloneItsContainerTakesItAlong() throws Exception {
        BindingException e = assertThrows(BindingException.GroupNotViable.class, () -> engine.rebind(DPNI, BindOptions.defaults()));
        assertEquals("dpni.1 is an object of the fsl-mc container dprc.2, which is the unit of assignment: move dprc.2 "
                + "(its objects follow it); nothing was changed", e.getMessage());
        assertThrows(BindingException.GroupNotViable.class, () -> engine.restore(DPIO, BindOptions.defaults()));
        assertEquals(List.of(), kernel.writes);

        BindResult.Planned dry = (BindResult.Planned) engine.rebind(DPRC, BindOptions.defaults().withDryRun(true));
        assertEquals(List.of(DPRC, DPIO, DPNI), List.copyOf(dry.targets().keySet()));
        assertEquals("vfio-fsl-mc", dry.targets().get(DPNI));
        assertTrue(dry.steps().stream().anyMatch(s -> s.startsWith("dpni.1 follows its container dprc.2")), dry.steps().toString());

        BindResult.Moved moved = (BindResult.Moved) engine.rebind(DPRC, BindOptions.defaults());
        assertEquals(List.of(DPRC, DPIO, DPNI), moved.devices());
        for (DeviceName d : List.of(DPRC, DPIO, DPNI)) assertEquals(Optional.of("vfio-fsl-mc"), sysfs.currentDriver(d), d.name());
        // only the container is written to: its objects follow it in the kernel
        assertEquals(3, kernel.writes.size(), kernel.writes.toString());
        assertTrue(kernel.writes.stream().allMatch(w -> w.contains("dprc.2") && !w.contains("dpni") && !w.contains("dpio")), kernel.writes.toString());

        engine.restore(DPRC, BindOptions.defaults());
        assertEquals(Optional.of("fsl_mc_dprc"), sysfs.currentDriver(DPRC));
        assertEquals(Optional.of("fsl_dpaa2_eth"), sysfs.currentDriver(DPNI));
        assertEquals(Optional.of("fsl_mc_dpio"), sysfs.currentDriver(DPIO));
    }

    @Test
    void whenAnObjectDoesNotFollowItsContainerTheWholeContainerIsPutBack() throws Exception {
        kernel.refusingObjects = true;
        BindingException e = assertThrows(BindingException.Failed.class, () -> engine.rebind(DPRC, BindOptions.defaults()));
        assertTrue(e.getMessage().startsWith("bind dpio.3 (an object of dprc.2, which it follows) to vfio-fsl-mc failed"), e.getMessage());
        assertTrue(e.getMessage().contains("rolled back"), e.getMessage());
        assertEquals(Optional.of("fsl_mc_dprc"), sysfs.currentDriver(DPRC));
        assertEquals(Optional.of("fsl_dpaa2_eth"), sysfs.currentDriver(DPNI));
        assertEquals(Optional.of("fsl_mc_dpio"), sysfs.currentDriver(DPIO));
    }

    @Test
    void theJournalNamesEachDeviceByItsBusAndAnObjectByItsContainer() throws Exception {
        Plan plan = new Plan(Direction.TO_VFIO, "IOMMU group 9", DPRC, List.of(
                new PlannedDevice(DPRC, new Prior(Optional.of("fsl_mc_dprc"), Optional.empty()), new Target.Driver(new DriverName("vfio-fsl-mc")), false),
                new PlannedDevice(DPNI, new Prior(Optional.of("fsl_dpaa2_eth"), Optional.empty()), new Target.Follows(DPRC), false)), List.of());
        String text = new JournalRecord(plan, List.of(), false).encode();
        assertTrue(text.contains("\nrequested fsl-mc dprc.2\n"), text);
        assertTrue(text.contains("\ndevice fsl-mc dpni.1 driver fsl_dpaa2_eth override - target follows dprc.2 vfio false\n"), text);
        assertEquals(plan.devices(), JournalRecord.decode(text).plan().devices());
    }

    // ---- the tree and its kernel --------------------------------------------------------------------------

    private void driver(String bus, String name, String module) throws IOException {
        Path d = Files.createDirectories(root.resolve("bus").resolve(bus).resolve("drivers").resolve(name));
        Files.createFile(d.resolve("bind"));
        Files.createFile(d.resolve("unbind"));
        Path drivers = Files.createDirectories(root.resolve("module").resolve(module).resolve("drivers"));
        Files.createSymbolicLink(drivers.resolve(bus + ":" + name), drivers.relativize(d));
    }

    private Path device(String bus, String folder, String hostDriver, String modalias) throws IOException {
        Path dev = Files.createDirectories(root.resolve(folder));
        String name = dev.getFileName().toString();
        Path busDir = root.resolve("bus").resolve(bus);
        Files.writeString(dev.resolve("modalias"), modalias + "\n");
        Files.writeString(dev.resolve("driver_override"), "(null)\n");
        Files.createSymbolicLink(dev.resolve("subsystem"), dev.relativize(busDir));
        Files.createSymbolicLink(busDir.resolve("devices").resolve(name), busDir.resolve("devices").relativize(dev));
        kernel.host.put(name, hostDriver);
        kernel.bind(bus, name, hostDriver);
        return dev;
    }

    private void group(int n, Path... members) throws IOException {
        Path g = Files.createDirectories(root.resolve("kernel/iommu_groups").resolve(Integer.toString(n)).resolve("devices"));
        for (Path m : members) {
            Files.createSymbolicLink(g.resolve(m.getFileName()), g.relativize(m));
            Files.createSymbolicLink(m.resolve("iommu_group"), m.relativize(g.getParent()));
        }
    }

    private String override(DeviceName d) throws IOException {
        return Files.readString(root.resolve("bus").resolve(d.bus()).resolve("devices").resolve(d.name()).resolve("driver_override")).strip();
    }

    /**
     * The kernel's answers to the writes vfiod makes, in a few lines: driver_override, unbind, bind, drivers_probe
     * (the override's driver, else the device's host driver). An fsl-mc container's objects follow it: its unbind
     * takes them from their drivers, and its bind gives them to vfio-fsl-mc (with that override) or back to their host
     * drivers, as vfio-fsl-mc and the DPRC driver do when they scan the container.
     */
    private final class TinyKernel implements KernelWriter {
        final List<String> writes = new ArrayList<>();
        final Map<String, String> host = new HashMap<>();
        /** Drivers whose probe fails. */
        final Set<String> refusing = new HashSet<>();
        /** Whether vfio-fsl-mc's scan fails to bind a container's objects. */
        boolean refusingObjects;

        @Override
        public synchronized void write(Path attribute, String value) throws IOException {
            String v = value.strip();
            writes.add(root.toRealPath().relativize(attribute) + " " + v);
            String file = attribute.getFileName().toString();
            Path parent = attribute.getParent();
            switch (file) {
                case "driver_override" -> Files.writeString(attribute, (v.isEmpty() ? "(null)" : v) + "\n");
                case "unbind" -> unbind(parent.getParent().getParent().getFileName().toString(), v);
                case "bind" -> {
                    if (!bind(parent.getParent().getParent().getFileName().toString(), v, parent.getFileName().toString())) {
                        throw new IOException("No such device");
                    }
                }
                case "drivers_probe" -> {
                    String bus = parent.getFileName().toString();
                    String o = Files.readString(folder(bus, v).resolve("driver_override")).strip();
                    bind(bus, v, o.equals("(null)") ? host.get(v) : o);
                }
                default -> throw new IOException("unexpected write to " + attribute);
            }
        }

        Path folder(String bus, String name) throws IOException {
            return root.resolve("bus").resolve(bus).resolve("devices").resolve(name).toRealPath();
        }

        boolean bind(String bus, String name, String driver) throws IOException {
            Path d = root.resolve("bus").resolve(bus).resolve("drivers").resolve(driver);
            if (!Files.isDirectory(d) || refusing.contains(driver)) return false;
            Path dev = folder(bus, name);
            if (Files.isSymbolicLink(dev.resolve("driver"))) return false;
            Files.createSymbolicLink(dev.resolve("driver"), dev.relativize(d));
            Files.createSymbolicLink(d.resolve(name), d.relativize(dev));
            if (name.startsWith("dprc.")) {
                for (Path object : objects(dev)) {
                    String o = object.getFileName().toString();
                    if (driver.equals("vfio-fsl-mc")) {
                        Files.writeString(object.resolve("driver_override"), "vfio-fsl-mc\n");
                        if (!refusingObjects || !o.startsWith("dpio")) bind(bus, o, "vfio-fsl-mc");
                    } else {
                        bind(bus, o, host.get(o));
                    }
                }
            }
            return true;
        }

        void unbind(String bus, String name) throws IOException {
            Path dev = folder(bus, name);
            Path link = dev.resolve("driver");
            if (!Files.isSymbolicLink(link)) throw new IOException("No such device");
            Path d = link.getParent().resolve(Files.readSymbolicLink(link)).normalize();
            Files.delete(link);
            Files.delete(d.resolve(name));
            if (name.startsWith("dprc.")) {
                // the container's driver removes its objects; they come back without an override when it is scanned again
                for (Path object : objects(dev)) {
                    if (Files.isSymbolicLink(object.resolve("driver"))) unbind(bus, object.getFileName().toString());
                    Files.writeString(object.resolve("driver_override"), "(null)\n");
                }
            }
        }

        private List<Path> objects(Path dprc) throws IOException {
            List<Path> out = new ArrayList<>();
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(dprc)) {
                for (Path p : ds) {
                    if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS) && Files.exists(p.resolve("subsystem"))) out.add(p);
                }
            }
            return out;
        }
    }
}
