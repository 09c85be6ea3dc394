package org.vfiod.daemon.sysfs;

import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.FileSystemException;
import java.nio.file.LinkOption;
import java.nio.file.OpenOption;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * The devices of sysfs under one root, on the buses vfiod implements ({@link KernelBus}). Every path is built from
 * the root plus constants, a validated {@link DeviceName} or a {@link DriverName}, and every link is resolved and
 * checked to stay under the root before it is used. The generic reads and writes take a {@link DeviceName}; only
 * the bus parts of a read ({@link PciInfo}) and the SR-IOV attributes know PCI, and what differs between the buses
 * (the modalias, the container rule, the fallback vfio driver) is asked of the bus table, {@link KernelBus}.
 */
public final class Sysfs {
    private final Path root;
    private final KernelWriter writer;

    public Sysfs(Path root, KernelWriter writer) throws IOException {
        this.root = root.toRealPath();
        this.writer = writer;
    }

    public Path root() {
        return root;
    }

    // ---- reading ------------------------------------------------------------------------------------------

    /**
     * The devices the kernel lists on the buses vfiod implements, sorted. Entries their bus would not name are
     * ignored.
     */
    public List<DeviceName> devices() throws IOException {
        List<DeviceName> out = new ArrayList<>();
        for (KernelBus bus : KernelBus.values()) {
            Path dir = root.resolve("bus").resolve(bus.id()).resolve("devices");
            if (!Files.isDirectory(dir)) continue;
            try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
                for (Path e : entries) bus.parse(e.getFileName().toString()).ifPresent(out::add);
            }
        }
        Collections.sort(out);
        return out;
    }

    /** The device's folder (links resolved), or empty when the kernel does not have it. */
    public Optional<Path> deviceDir(DeviceName device) throws IOException {
        Path link = busDir(device).resolve("devices").resolve(device.name());
        if (!Files.exists(link)) return Optional.empty();
        return Optional.of(inside(link));
    }

    public boolean exists(DeviceName device) throws IOException {
        return deviceDir(device).isPresent();
    }

    /**
     * Every device now, in name order; one that vanishes while it is read is left out. Reads on two threads
     * (the common pool's and the caller's) and lists each IOMMU group once: a machine's worth of devices is some
     * hundred system calls per device, and start-up waits for them.
     */
    public List<Device> readAll() throws IOException {
        Map<Integer, List<DeviceName>> groups = new ConcurrentHashMap<>();
        try {
            return devices().parallelStream().map(a -> {
                try {
                    return read(a, groups);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }).flatMap(Optional::stream).toList();
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }

    /** A snapshot of the device, or empty when it is not (or no longer) there. */
    /**
     * The device's IOMMU group number from its {@code iommu_group} link alone: a link read takes no device lock,
     * so it answers while the kernel holds the device (driver_override would wait). Empty without a group.
     */
    public OptionalInt iommuGroup(DeviceName device) throws IOException {
        Optional<Path> dir = deviceDir(device);
        if (dir.isEmpty()) return OptionalInt.empty();
        return linkName(dir.get().resolve("iommu_group")).map(n -> OptionalInt.of(Integer.parseInt(n))).orElse(OptionalInt.empty());
    }

    public Optional<Device> read(DeviceName device) throws IOException {
        return read(device, null);
    }

    /**
     * Whether a vfio driver holds the device, and its cdev, read from folders and links only: no attribute is read,
     * so this answers while the kernel holds the device's lock in a hung write. Empty when the device is gone.
     */
    public Optional<VfioLink> vfioLink(DeviceName device) throws IOException {
        Optional<Path> found = deviceDir(device);
        if (found.isEmpty()) return Optional.empty();
        Path dir = found.get();
        boolean vfioDev = Files.isDirectory(dir.resolve("vfio-dev"));
        return Optional.of(new VfioLink(vfioDev, vfioDev ? vfioCdev(dir) : Optional.empty()));
    }

    /** See {@link #vfioLink}: {@code bound} is whether the device has the {@code vfio-dev/} a vfio driver makes. */
    public record VfioLink(boolean bound, Optional<String> cdev) {
    }

    /** {@code groups}: IOMMU groups already listed by this pass (null: list afresh). */
    private Optional<Device> read(DeviceName device, Map<Integer, List<DeviceName>> groups) throws IOException {
        Optional<Path> found = deviceDir(device);
        if (found.isEmpty()) return Optional.empty();
        Path dir = found.get();
        try {
            OptionalInt group = linkName(dir.resolve("iommu_group")).map(n -> OptionalInt.of(Integer.parseInt(n)))
                    .orElse(OptionalInt.empty());
            List<DeviceName> members = group.isEmpty() ? List.of(device)
                    : groups == null ? groupMembers(group.getAsInt()) : groupMembersOnce(group.getAsInt(), groups);
            Optional<KernelBus> bus = KernelBus.of(device);
            String modalias = bus.isPresent() ? bus.get().modalias(n -> attr(dir, n)).orElse("") : attr(dir, "modalias").orElse("");
            Optional<String> driver = linkName(dir.resolve("driver"));
            Optional<String> override = attr(dir, "driver_override").filter(s -> !s.isEmpty() && !s.equals("(null)"));
            boolean vfioDev = Files.isDirectory(dir.resolve("vfio-dev"));
            Optional<String> cdev = vfioDev ? vfioCdev(dir) : Optional.empty();
            if (bus.orElse(null) == KernelBus.PCI) {
                PciInfo pci = readPci(dir, modalias);
                return Optional.of(new Device(device, modalias, driver, override, group, members,
                        attr(dir, "boot_vga").map("1"::equals).orElse(false), vfioDev, pci.isBridge(), Optional.of(pci), cdev));
            }
            return Optional.of(new Device(device, modalias, driver, override, group, members, false, vfioDev, false,
                    Optional.empty(), cdev, compatible(dir)));
        } catch (NoSuchFileException gone) {
            // the device went away while we read it; the caller sees it as absent
            if (!Files.exists(dir)) return Optional.empty();
            throw gone;
        }
    }

    /**
     * The {@code vfioN} under the device's {@code vfio-dev/} that has a device number ({@code dev}): kernels from 6.2
     * with CONFIG_VFIO_DEVICE_CDEV make {@code /dev/vfio/devices/vfioN} for it; 6.1 has the folder but no number.
     */
    private static Optional<String> vfioCdev(Path dir) throws IOException {
        Path vfioDev = dir.resolve("vfio-dev");
        if (!Files.isDirectory(vfioDev, LinkOption.NOFOLLOW_LINKS)) return Optional.empty();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(vfioDev, "vfio*")) {
            for (Path e : entries) {
                String name = e.getFileName().toString();
                if (name.matches("vfio[0-9]{1,7}") && Files.exists(e.resolve("dev"))) return Optional.of(name);
            }
        } catch (NoSuchFileException gone) {
            // unbound while we looked
            return Optional.empty();
        }
        return Optional.empty();
    }

    /** The PCI part of a PCI device's folder. */
    private PciInfo readPci(Path dir, String modalias) throws IOException {
        List<PciAddress> virtfns = new ArrayList<>();
        // only a PF with VFs has virtfn links: one stat spares listing every device folder
        if (Files.isSymbolicLink(dir.resolve("virtfn0"))) {
            try (DirectoryStream<Path> vfs = Files.newDirectoryStream(dir, "virtfn*")) {
                for (Path vf : vfs) linkName(vf).flatMap(PciAddress::parse).ifPresent(virtfns::add);
            }
        }
        Collections.sort(virtfns);
        // the kernel prints the modalias from the same fields as these five files: one read instead of five
        int[] ids = idsOf(modalias);
        if (ids == null) {
            ids = new int[] {hex(dir, "vendor"), hex(dir, "device"), hex(dir, "class"),
                    hex(dir, "subsystem_vendor"), hex(dir, "subsystem_device")};
        }
        return new PciInfo(ids[0], ids[1], ids[2], ids[3], ids[4],
                linkName(dir.resolve("physfn")).flatMap(PciAddress::parse), virtfns);
    }

    private List<DeviceName> groupMembersOnce(int group, Map<Integer, List<DeviceName>> groups) throws IOException {
        List<DeviceName> known = groups.get(group);
        if (known != null) return known;
        List<DeviceName> listed = List.copyOf(groupMembers(group));
        groups.put(group, listed);
        return listed;
    }

    /**
     * The devices in an IOMMU group that are on a bus vfiod implements, sorted. A group lists its members by kernel
     * name alone, and platform and AMBA names are free-form (one could even look like another bus's), so each
     * member's bus is read from its folder, never guessed from its name.
     */
    public List<DeviceName> groupMembers(int group) throws IOException {
        Path dir = root.resolve("kernel").resolve("iommu_groups").resolve(Integer.toString(group)).resolve("devices");
        List<DeviceName> out = new ArrayList<>();
        if (!Files.isDirectory(dir)) return out;
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
            for (Path e : entries) {
                try {
                    member(e).ifPresent(out::add);
                } catch (NoSuchFileException gone) {
                    // removed while the group was listed
                }
            }
        }
        Collections.sort(out);
        return out;
    }

    /** The device a group's entry links to: its bus from its folder's {@code subsystem} link. */
    private Optional<DeviceName> member(Path entry) throws IOException {
        String name = entry.getFileName().toString();
        Path folder = inside(entry);
        Optional<String> subsystem = linkName(folder.resolve("subsystem"));
        if (subsystem.isPresent()) return KernelBus.named(subsystem.get()).flatMap(b -> b.parse(name));
        // a folder without a subsystem link (a tree laid out by hand): the bus whose devices/ entry is this folder
        for (KernelBus bus : KernelBus.values()) {
            Optional<DeviceName> d = bus.parse(name);
            if (d.isEmpty()) continue;
            Path link = busDir(d.get()).resolve("devices").resolve(name);
            if (Files.exists(link) && inside(link).equals(folder)) return d;
        }
        return Optional.empty();
    }

    /**
     * The device-tree compatible strings of a device folder ({@code of_node/compatible}: NUL-separated, most
     * specific first); empty without an {@code of_node}.
     */
    private List<String> compatible(Path dir) throws IOException {
        Path file = dir.resolve("of_node").resolve("compatible");
        if (!Files.exists(file)) return List.of();
        byte[] bytes;
        try (SeekableByteChannel ch = Files.newByteChannel(inside(file))) {
            bytes = readSmall(ch);
        } catch (NoSuchFileException gone) {
            return List.of();
        }
        List<String> out = new ArrayList<>();
        for (String s : new String(bytes, StandardCharsets.US_ASCII).split("\u0000")) {
            String v = s.strip();
            if (!v.isEmpty() && CallerText.printable(v).equals(v) && v.indexOf(' ') < 0) out.add(v);
        }
        return out;
    }

    // ---- the bus table's facts that need reading ----------------------------------------------------------

    /**
     * Whether vfio runs in its no-IOMMU mode ({@code module/vfio/parameters/enable_unsafe_noiommu_mode} is Y): vfio
     * then gives a device without an IOMMU group a fake one when it binds, with no isolation at all.
     */
    public boolean noIommuMode() throws IOException {
        return moduleParameter("vfio", "enable_unsafe_noiommu_mode").map("Y"::equals).orElse(false);
    }

    /** {@code module/<module>/parameters/<name>}, stripped; empty when the module or the parameter is absent. */
    public Optional<String> moduleParameter(String module, String name) throws IOException {
        if (!DriverName.isValid(module) || !DriverName.isValid(name)) return Optional.empty();
        Path dir = root.resolve("module").resolve(module).resolve("parameters");
        if (!Files.isDirectory(dir)) return Optional.empty();
        return attr(inside(dir), name);
    }

    /**
     * Whether the driver, on the device's bus, has the attribute ({@code bind}, {@code unbind}): a driver registered
     * with {@code suppress_bind_attrs} has neither, and a device cannot be taken from it, nor given back by a bind.
     */
    public boolean driverHas(DeviceName device, DriverName driver, String attribute) {
        return Files.exists(busDir(device).resolve("drivers").resolve(driver.value()).resolve(attribute), LinkOption.NOFOLLOW_LINKS);
    }

    /** Why the bus's vfio driver may have failed to probe the device, from what the bus table knows; empty if nothing. */
    public Optional<String> probeFailureHint(DeviceName device) throws IOException {
        Optional<KernelBus> bus = KernelBus.of(device);
        return bus.isEmpty() ? Optional.empty() : bus.get().probeFailureHint(this::moduleParameter);
    }

    /**
     * The container the device belongs to, on a bus with containers ({@link KernelBus#isContainer}): the nearest
     * folder above the device's that is a container of the same bus. Empty for a container itself and for a device
     * of a bus without containers.
     */
    public Optional<DeviceName> containerOf(DeviceName device) throws IOException {
        Optional<KernelBus> bus = KernelBus.of(device);
        if (bus.isEmpty() || bus.get().isContainer(device)) return Optional.empty();
        Optional<Path> dir = deviceDir(device);
        if (dir.isEmpty()) return Optional.empty();
        for (Path up = dir.get().getParent(); up != null && up.startsWith(root) && !up.equals(root); up = up.getParent()) {
            Optional<DeviceName> d = bus.get().parse(up.getFileName().toString());
            if (d.isPresent() && bus.get().isContainer(d.get()) && linkName(up.resolve("subsystem")).map(bus.get().id()::equals).orElse(true)) {
                return d;
            }
        }
        return Optional.empty();
    }

    /** The objects of a container: the devices of its bus whose container ({@link #containerOf}) it is, sorted. */
    public List<DeviceName> containedIn(DeviceName container) throws IOException {
        Optional<KernelBus> bus = KernelBus.of(container);
        if (bus.isEmpty() || !bus.get().isContainer(container)) return List.of();
        List<DeviceName> out = new ArrayList<>();
        for (DeviceName d : devices()) {
            if (d.bus().equals(container.bus()) && containerOf(d).filter(container::equals).isPresent()) out.add(d);
        }
        return out;
    }

    /** The name of the driver bound to the device now, if any. */
    public Optional<String> currentDriver(DeviceName device) throws IOException {
        Optional<Path> dir = deviceDir(device);
        return dir.isEmpty() ? Optional.empty() : linkName(dir.get().resolve("driver"));
    }

    /** Whether the driver is registered on a bus vfiod implements. */
    public boolean driverLoaded(DriverName driver) {
        for (KernelBus bus : KernelBus.values()) {
            if (Files.isDirectory(root.resolve("bus").resolve(bus.id()).resolve("drivers").resolve(driver.value()))) return true;
        }
        return false;
    }

    /** Whether the kernel has the module, loaded or built in (built-in modules with parameters or drivers show too). */
    public boolean moduleLoaded(DriverName module) {
        return Files.isDirectory(root.resolve("module").resolve(module.value()));
    }

    /**
     * The driver a loaded module registered on a bus vfiod implements: {@code module/M/drivers/pci:D}, else a
     * driver folder spelled like the module with {@code _} or {@code -}. A vfio module drives one bus, so which
     * one need not be asked.
     */
    public Optional<DriverName> driverOfModule(DriverName module) throws IOException {
        Path drivers = root.resolve("module").resolve(module.value()).resolve("drivers");
        if (Files.isDirectory(drivers)) {
            for (KernelBus bus : KernelBus.values()) {
                try (DirectoryStream<Path> entries = Files.newDirectoryStream(drivers, bus.id() + ":*")) {
                    for (Path e : entries) {
                        String name = e.getFileName().toString().substring(bus.id().length() + 1);
                        if (DriverName.isValid(name)) return Optional.of(new DriverName(name));
                    }
                }
            }
        }
        for (String spelling : List.of(module.value(), module.value().replace('_', '-'), module.value().replace('-', '_'))) {
            DriverName candidate = new DriverName(spelling);
            if (driverLoaded(candidate)) return Optional.of(candidate);
        }
        return Optional.empty();
    }

    /** The device id of the VFs an SR-IOV PF creates, or empty for a device that is not a PF. */
    public Optional<Integer> sriovVfDeviceId(PciAddress pf) throws IOException {
        Optional<Path> dir = deviceDir(pf.toDeviceName());
        if (dir.isEmpty()) return Optional.empty();
        Optional<String> v = attr(dir.get(), "sriov_vf_device");
        try {
            return v.map(x -> Integer.parseInt(x.startsWith("0x") ? x.substring(2) : x, 16));
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }

    public Optional<Boolean> sriovDriversAutoprobe(PciAddress pf) throws IOException {
        Optional<Path> dir = deviceDir(pf.toDeviceName());
        return dir.isEmpty() ? Optional.empty() : attr(dir.get(), "sriov_drivers_autoprobe").map("1"::equals);
    }

    /** A console or firmware framebuffer that may still scan out of the boot GPU. */
    public sealed interface Framebuffer {
        String name();

        /** A framebuffer console: {@code class/vtconsole/vtconN}, released by writing 0 to its bind. */
        record Console(String name) implements Framebuffer {
        }

        /** A firmware framebuffer device on the platform bus (efi-framebuffer.0, simple-framebuffer.0, ...). */
        record Platform(String name, String driver) implements Framebuffer {
        }
    }

    private static final List<String> FRAMEBUFFER_DRIVERS = List.of("efi-framebuffer", "simple-framebuffer", "vesa-framebuffer", "simpledrm");

    /** The framebuffers that hold the boot GPU now: bound framebuffer consoles and firmware framebuffer devices. */
    public List<Framebuffer> bootFramebuffers() throws IOException {
        List<Framebuffer> out = new ArrayList<>();
        Path consoles = root.resolve("class").resolve("vtconsole");
        if (Files.isDirectory(consoles)) {
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(consoles, "vtcon*")) {
                for (Path c : ds) {
                    String name = c.getFileName().toString();
                    if (!name.matches("vtcon[0-9]{1,3}")) continue;
                    Path dir = inside(c);
                    boolean fb = attr(dir, "name").map(n -> n.contains("frame buffer")).orElse(false);
                    boolean bound = attr(dir, "bind").map("1"::equals).orElse(false);
                    if (fb && bound) out.add(new Framebuffer.Console(name));
                }
            }
        }
        for (String driver : FRAMEBUFFER_DRIVERS) {
            Path dir = root.resolve("bus").resolve("platform").resolve("drivers").resolve(driver);
            if (!Files.isDirectory(dir)) continue;
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
                for (Path d : ds) {
                    String name = d.getFileName().toString();
                    if (Files.isSymbolicLink(d) && name.matches("[a-z-]+\\.[0-9]{1,3}")) out.add(new Framebuffer.Platform(name, driver));
                }
            }
        }
        out.sort(java.util.Comparator.comparing(Framebuffer::name));
        return out;
    }

    /** Detaches ({@code attach} false) or re-attaches a framebuffer. */
    public void writeFramebuffer(Framebuffer fb, boolean attach) throws IOException {
        if (fb instanceof Framebuffer.Console c) {
            if (!c.name().matches("vtcon[0-9]{1,3}")) throw new IOException("not a console: " + c.name());
            write(root.resolve("class").resolve("vtconsole").resolve(c.name()).resolve("bind"), attach ? "1" : "0");
        } else if (fb instanceof Framebuffer.Platform p) {
            if (!FRAMEBUFFER_DRIVERS.contains(p.driver()) || !p.name().matches("[a-z-]+\\.[0-9]{1,3}")) {
                throw new IOException("not a framebuffer device: " + p.name());
            }
            Path dir = root.resolve("bus").resolve("platform").resolve("drivers").resolve(p.driver());
            write(dir.resolve(attach ? "bind" : "unbind"), p.name());
        }
    }

    // ---- writing: each is one store to one attribute ------------------------------------------------------

    /** Whether the host driver may grab the VFs this PF creates from now on. */
    public void writeSriovDriversAutoprobe(PciAddress pf, boolean on) throws IOException {
        Path dir = deviceDir(pf.toDeviceName()).orElseThrow(() -> new NoSuchFileException(pf.toString()));
        write(dir.resolve("sriov_drivers_autoprobe"), on ? "1" : "0");
    }


    public void writeDriverOverride(DeviceName device, Optional<DriverName> driver) throws IOException {
        Path dir = deviceDir(device).orElseThrow(() -> new NoSuchFileException(device.toString()));
        // a lone newline is how the kernel is told to clear the override
        write(dir.resolve("driver_override"), driver.map(DriverName::value).orElse("\n"));
    }

    public void unbind(DeviceName device, DriverName from) throws IOException {
        write(busDir(device).resolve("drivers").resolve(from.value()).resolve("unbind"), device.name());
    }

    public void bind(DeviceName device, DriverName to) throws IOException {
        write(busDir(device).resolve("drivers").resolve(to.value()).resolve("bind"), device.name());
    }

    public void probe(DeviceName device) throws IOException {
        write(busDir(device).resolve("drivers_probe"), device.name());
    }

    private void write(Path attribute, String value) throws IOException {
        writer.write(inside(attribute), value);
    }

    /** {@code bus/<bus>}: DeviceName checked the bus to be one path element. */
    private Path busDir(DeviceName device) {
        return root.resolve("bus").resolve(device.bus());
    }

    // ---- helpers ------------------------------------------------------------------------------------------

    private Path inside(Path path) throws IOException {
        Path real = path.toRealPath();
        if (!real.startsWith(root)) throw new OutsideSysfsException(path, real);
        return real;
    }

    /** The last element of where a link points, after checking it points inside the root. */
    private Optional<String> linkName(Path link) throws IOException {
        if (!Files.isSymbolicLink(link)) return Optional.empty();
        Path target = link.getParent().resolve(Files.readSymbolicLink(link)).normalize();
        if (!target.startsWith(root)) throw new OutsideSysfsException(link, target);
        Path name = target.getFileName();
        return name == null ? Optional.empty() : Optional.of(name.toString());
    }

    /** An attribute of a device folder that is already resolved and inside the root; only a link needs checking. */
    private Optional<String> attr(Path dir, String name) throws IOException {
        Path p = dir.resolve(name);
        try {
            byte[] bytes;
            // attributes are plain files: open without following links (one system call fewer than asking
            // first), and only a link, which sysfs never has here, takes the checked way
            try (SeekableByteChannel ch = Files.newByteChannel(p, NO_FOLLOW)) {
                bytes = readSmall(ch);
            } catch (FileSystemException link) {
                if (link instanceof NoSuchFileException || !Files.isSymbolicLink(p)) throw link;
                bytes = Files.readAllBytes(inside(p));
            }
            return Optional.of(new String(bytes, StandardCharsets.US_ASCII).strip());
        } catch (NoSuchFileException absent) {
            if (Files.exists(dir)) return Optional.empty();
            throw absent;
        }
    }

    private static final Set<OpenOption> NO_FOLLOW = Set.of(StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS);

    private static final int PAGE = 4096, SMALL = 64;

    /**
     * Reads to the end: sysfs attributes are at most a page; a read returns what the attribute has. Most are a few
     * bytes ({@code 0x8086}), so the buffer starts small and grows to a page only for a longer one: a page per read
     * was most of what the start allocated (some 10 MB for 256 devices, a young collection every 3 MB).
     */
    private static byte[] readSmall(SeekableByteChannel ch) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(SMALL);
        while (true) {
            if (!buf.hasRemaining()) {
                if (buf.capacity() >= PAGE) break;
                buf = ByteBuffer.allocate(PAGE).put(buf.flip());
            }
            if (ch.read(buf) <= 0) break;
        }
        byte[] out = new byte[buf.position()];
        buf.flip().get(out);
        return out;
    }

    /**
     * Vendor, device, class, subsystem vendor and subsystem device from a PCI modalias as the kernel writes it
     * ({@code pci:v%08Xd%08Xsv%08Xsd%08Xbc%02Xsc%02Xi%02X}, from the same fields as those five attributes), or null
     * for anything else (then the attributes are read): five reads fewer per device.
     */
    static int[] idsOf(String modalias) {
        if (modalias.length() != 53 || !modalias.startsWith("pci:v") || modalias.charAt(13) != 'd'
                || !modalias.startsWith("sv", 22) || !modalias.startsWith("sd", 32) || !modalias.startsWith("bc", 42)
                || !modalias.startsWith("sc", 46) || modalias.charAt(50) != 'i') {
            return null;
        }
        long vendor = upperHex(modalias, 5, 13), device = upperHex(modalias, 14, 22), subVendor = upperHex(modalias, 24, 32),
                subDevice = upperHex(modalias, 34, 42), base = upperHex(modalias, 44, 46), sub = upperHex(modalias, 48, 50),
                prog = upperHex(modalias, 51, 53);
        if ((vendor | device | subVendor | subDevice | base | sub | prog) < 0 || vendor > 0xffff || device > 0xffff
                || subVendor > 0xffff || subDevice > 0xffff) {
            return null;
        }
        return new int[] {(int) vendor, (int) device, (int) (base << 16 | sub << 8 | prog), (int) subVendor, (int) subDevice};
    }

    /** The value of the upper-case hex digits in {@code s[from, to)}, or -1. */
    private static long upperHex(String s, int from, int to) {
        long v = 0;
        for (int i = from; i < to; i++) {
            char c = s.charAt(i);
            int d = c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
            if (d < 0) return -1;
            v = v << 4 | d;
        }
        return v;
    }

    private int hex(Path dir, String name) throws IOException {
        String v = attr(dir, name).orElse("");
        if (v.startsWith("0x")) v = v.substring(2);
        try {
            return v.isEmpty() ? 0 : Integer.parseUnsignedInt(v, 16);
        } catch (NumberFormatException e) {
            return 0;
        }
    }
}
