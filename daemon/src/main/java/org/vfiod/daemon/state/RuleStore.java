package org.vfiod.daemon.state;

import org.vfiod.daemon.binding.DriverPolicy;
import org.vfiod.daemon.files.AtomicFiles;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.vfiod.daemon.sysfs.Device;
import org.vfiod.daemon.sysfs.DeviceName;
import org.vfiod.daemon.sysfs.DriverName;
import org.vfiod.daemon.sysfs.KernelBus;
import org.vfiod.daemon.sysfs.PciAddress;

/**
 * The persistent rules: one plain, commented file per rule under {@code <config>/devices.d/}, so an admin can
 * read, copy and edit them, and so writing one never touches another. A file with a mistake is reported with
 * its line and skipped; the others still apply.
 * <pre>
 * match address 0000:03:00.0      # or: match id 15b3:101e[:SVVV:SDDD], match class 0300,
 *                                 # match bus platform name a000000.virtio_mmio, match compatible virtio,mmio
 * driver vfio-pci                 # optional: this vfio driver instead of the one the aliases choose
 * driver-policy prefer-vfio-pci   # optional, instead of driver: vfio-pci wherever it drives the device
 * group yes                       # optional: move the whole IOMMU group
 * owner 1000                      # optional: this uid gets read/write access to the VFIO nodes
 * </pre>
 */
public final class RuleStore {
    private static final Logger LOG = LoggerFactory.getLogger(RuleStore.class);
    public static final String FOLDER = "devices.d";

    /**
     * A rule is a few lines; 64 KiB leaves room for any comment, and bounds what a file that is no rule (a disk
     * image, a log) costs to read at start.
     */
    static final int MAX_FILE_BYTES = 64 * 1024;
    /** After this many mistakes a file is surely no rule file: the rest of it is not read, nor echoed. */
    static final int MAX_PROBLEMS_PER_FILE = 3;

    private final Path dir;
    private volatile Loaded current = new Loaded(List.of(), List.of());
    private volatile Check check = rules -> Map.of();
    /** The problems of the last load, so that one still there is not logged again at every load. */
    private Set<String> reported = Set.of();

    /** A mistake in a rule file, or a rule vfiod refuses; as text, one line whatever the file and its name hold. */
    public record Problem(Path file, int line, String reason) {
        @Override
        public String toString() {
            return LogText.line(file + (line > 0 ? ":" + line : "") + ": " + reason);
        }
    }

    /** Judges the well-formed rules as the daemon judges the moves they ask for. */
    @FunctionalInterface
    interface Check {
        /** Why each refused rule is refused, by its file; a rule not named is accepted. */
        Map<Path, String> refusals(List<PersistentRule> rules);
    }

    public record Loaded(List<PersistentRule> rules, List<Problem> problems) {
        public Loaded {
            rules = List.copyOf(rules);
            problems = List.copyOf(problems);
        }
    }

    public RuleStore(Path configDir) {
        this.dir = configDir.resolve(FOLDER);
    }

    public Path folder() {
        return dir;
    }

    public Loaded current() {
        return current;
    }

    /** From now on, a rule {@code check} refuses is not in effect: it is reported as a problem instead. */
    void checkWith(Check check) {
        this.check = check;
    }

    /** Reads every rule file again. A problem is logged once, at the load that finds it. */
    public synchronized Loaded reload() {
        List<PersistentRule> parsed = new ArrayList<>();
        List<Problem> problems = new ArrayList<>();
        if (Files.isDirectory(dir)) {
            List<Path> files = new ArrayList<>();
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, "*.conf")) {
                ds.forEach(files::add);
            } catch (IOException e) {
                problems.add(new Problem(dir, 0, "cannot list: " + e.getMessage()));
            }
            files.sort(Comparator.comparing(p -> p.getFileName().toString()));
            for (Path f : files) parse(f, problems).ifPresent(parsed::add);
        }
        Map<Path, String> refusals = parsed.isEmpty() ? Map.of() : check.refusals(parsed);
        List<PersistentRule> rules = new ArrayList<>();
        for (PersistentRule r : parsed) {
            String why = refusals.get(r.file());
            if (why == null) rules.add(r);
            else problems.add(new Problem(r.file(), 0, "refused, as vfiod refuses the move it asks for: " + why));
        }
        Set<String> now = new HashSet<>();
        for (Problem p : problems) {
            String line = p.toString();
            if (now.add(line) && !reported.contains(line)) LOG.warn("rule not applied: {}", line);
        }
        reported = now;
        current = new Loaded(rules, problems);
        return current;
    }

    /** The rule that covers a device: one naming the device first (address, bus and name), then a model or compatible string, then a class. */
    public Optional<PersistentRule> ruleFor(Device device) {
        Optional<PersistentRule> best = Optional.empty();
        int rank = Integer.MAX_VALUE;
        for (PersistentRule r : current.rules()) {
            if (!r.match().matches(device)) continue;
            DeviceMatch m = r.match();
            int k = m instanceof DeviceMatch.Address || m instanceof DeviceMatch.Named ? 0
                    : m instanceof DeviceMatch.Id || m instanceof DeviceMatch.Compatible ? 1 : 2;
            if (k < rank) {
                rank = k;
                best = Optional.of(r);
            }
        }
        return best;
    }

    /** Whether a rule covers the device. */
    public boolean covers(Device device) {
        return ruleFor(device).isPresent();
    }

    /** The file of a device's own rule: {@code pci-0000:01:00.0.conf}, {@code platform-a000000.virtio_mmio.conf}. */
    public static Path addressFile(Path dir, DeviceName device) {
        return dir.resolve(device.bus() + "-" + device.name() + ".conf");
    }

    /** How a rule written for the device names it: by PCI address, or on another bus by its bus and kernel name. */
    private static DeviceMatch matchOf(DeviceName device) throws IOException {
        Optional<KernelBus> bus = KernelBus.named(device.bus());
        if (bus.isEmpty()) throw new IOException("persistent rules cover the buses vfiod knows, not " + device.bus() + " device " + device);
        if (bus.get() == KernelBus.PCI) {
            return new DeviceMatch.Address(PciAddress.parse(device.name()).orElseThrow(() -> new IOException("'" + device + "' is not a PCI address")));
        }
        StringBuilder why = new StringBuilder();
        return DeviceMatch.named(device.bus(), device.name(), why).orElseThrow(() -> new IOException(why.toString()));
    }

    /** Writes (atomically) the address rule of a device; the change it returns can put back what was there. */
    public synchronized RuleChange persist(DeviceName device, Optional<DriverName> driver, boolean group) throws IOException {
        return persist(device, driver, group, OptionalLong.empty());
    }

    /** The same, with the uid that gets the device's VFIO nodes whenever the rule moves it. */
    public synchronized RuleChange persist(DeviceName device, Optional<DriverName> driver, boolean group, OptionalLong owner)
            throws IOException {
        DeviceMatch match = matchOf(device);
        StringBuilder b = new StringBuilder();
        b.append("# vfiod: keep this device on VFIO across reboots and re-plugs.\n")
                .append("# Written by vfiod at ").append(Instant.now()).append(" for a Rebind with persist;\n")
                .append("# a Restore with persist removes it. You may edit it (see vfiod(8)).\n")
                .append("match ").append(match.describe()).append('\n');
        driver.ifPresent(d -> b.append("driver ").append(d).append('\n'));
        if (group) b.append("group yes\n");
        owner.ifPresent(uid -> b.append("owner ").append(uid).append('\n'));
        Path f = addressFile(dir, device);
        RuleChange change = new RuleChange(this, f, contentOf(f));
        AtomicFiles.write(f, b.toString());
        reload();
        return change;
    }

    /** Removes the address rule of a device (if any); the change it returns can put it back. */
    public synchronized RuleChange forget(DeviceName device) throws IOException {
        DeviceMatch match = matchOf(device);
        Path f = addressFile(dir, match instanceof DeviceMatch.Address a ? a.address().toDeviceName() : device);
        RuleChange change = new RuleChange(this, f, contentOf(f));
        AtomicFiles.delete(f);
        reload();
        return change;
    }

    /** {@link RuleChange#undo}: the file as it was before the change. */
    synchronized void restore(Path file, Optional<String> content) throws IOException {
        try {
            if (content.isPresent()) AtomicFiles.write(file, content.get());
            else AtomicFiles.delete(file);
        } finally {
            reload();
        }
    }

    private static Optional<String> contentOf(Path file) throws IOException {
        try {
            return Optional.of(Files.readString(file, StandardCharsets.UTF_8));
        } catch (java.nio.file.NoSuchFileException absent) {
            return Optional.empty();
        }
    }

    /**
     * The text of a rule file: a regular file of the folder itself, up to {@link #MAX_FILE_BYTES}. A link is not
     * followed (to /etc/shadow, /dev/zero), nor is anything opened that is no regular file (a FIFO would block the
     * start until someone writes to it).
     */
    private static Optional<String> read(Path file, List<Problem> problems) {
        try {
            BasicFileAttributes a = Files.readAttributes(file, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            if (a.isSymbolicLink()) {
                problems.add(new Problem(file, 0, "is a symbolic link, which is not followed: a rule is a regular file in the folder"));
                return Optional.empty();
            }
            if (!a.isRegularFile()) {
                problems.add(new Problem(file, 0, "is not a regular file, so it is not read"));
                return Optional.empty();
            }
            if (a.size() > MAX_FILE_BYTES) {
                problems.add(new Problem(file, 0, "is " + a.size() + " bytes, more than a rule file may have (" + MAX_FILE_BYTES + ")"));
                return Optional.empty();
            }
            // opened without following a link and read no further than the limit: the file may have been replaced
            // since the look above
            try (SeekableByteChannel ch = Files.newByteChannel(file, Set.of(StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS))) {
                ByteBuffer buf = ByteBuffer.allocate(MAX_FILE_BYTES + 1);
                while (buf.hasRemaining() && ch.read(buf) >= 0) {
                    // until the end of the file, or one byte past the limit
                }
                if (!buf.hasRemaining()) {
                    problems.add(new Problem(file, 0, "is more than a rule file may have (" + MAX_FILE_BYTES + " bytes)"));
                    return Optional.empty();
                }
                return Optional.of(new String(buf.array(), 0, buf.position(), StandardCharsets.UTF_8));
            }
        } catch (IOException e) {
            problems.add(new Problem(file, 0, "cannot read: " + e.getClass().getSimpleName()));
            return Optional.empty();
        }
    }

    private static Optional<PersistentRule> parse(Path file, List<Problem> allProblems) {
        Optional<String> text = read(file, allProblems);
        if (text.isEmpty()) return Optional.empty();
        List<String> lines = text.get().lines().toList();
        List<Problem> problems = new ArrayList<>();
        DeviceMatch match = null;
        Optional<String> driver = Optional.empty();
        Optional<DriverPolicy> policy = Optional.empty();
        boolean group = false;
        OptionalLong owner = OptionalLong.empty();
        boolean bad = false;
        for (int i = 0; i < lines.size() && problems.size() < MAX_PROBLEMS_PER_FILE; i++) {
            String line = lines.get(i);
            int hash = line.indexOf('#');
            if (hash >= 0) line = line.substring(0, hash);
            line = line.strip();
            if (line.isEmpty()) continue;
            String[] t = line.split("\\s+");
            int n = i + 1;
            switch (t[0]) {
                case "match" -> {
                    if (t.length == 5 && t[1].equals("bus") && t[3].equals("name")) {
                        StringBuilder why = new StringBuilder();
                        Optional<DeviceMatch> m = match != null ? Optional.empty() : DeviceMatch.named(t[2], t[4], why);
                        if (match != null) {
                            problems.add(new Problem(file, n, "a rule file holds one match line"));
                            bad = true;
                        } else if (m.isEmpty()) {
                            problems.add(new Problem(file, n, why.toString()));
                            bad = true;
                        } else {
                            match = m.get();
                        }
                    } else if (t.length != 3) {
                        problems.add(new Problem(file, n, "match needs a kind and a value, e.g. 'match address 0000:03:00.0', or 'match bus platform name NAME'"));
                        bad = true;
                    } else if (match != null) {
                        problems.add(new Problem(file, n, "a rule file holds one match line"));
                        bad = true;
                    } else {
                        StringBuilder why = new StringBuilder();
                        Optional<DeviceMatch> m = DeviceMatch.parse(t[1], t[2], why);
                        if (m.isEmpty()) {
                            problems.add(new Problem(file, n, why.toString()));
                            bad = true;
                        } else {
                            match = m.get();
                        }
                    }
                }
                case "driver" -> {
                    if (t.length != 2 || !DriverName.isValid(t[1])) {
                        problems.add(new Problem(file, n, "driver needs one valid driver name"));
                        bad = true;
                    } else {
                        driver = Optional.of(t[1]);
                    }
                }
                case "driver-policy" -> {
                    Optional<DriverPolicy> p = t.length == 2 ? DriverPolicy.parse(t[1]) : Optional.empty();
                    if (p.isEmpty()) {
                        problems.add(new Problem(file, n, "driver-policy takes one of " + DriverPolicy.spellings()));
                        bad = true;
                    } else {
                        policy = p;
                    }
                }
                case "group" -> {
                    String v = t.length == 2 ? t[1].toLowerCase(Locale.ROOT) : "";
                    if (!List.of("yes", "no", "true", "false").contains(v)) {
                        problems.add(new Problem(file, n, "group takes yes or no"));
                        bad = true;
                    } else {
                        group = v.equals("yes") || v.equals("true");
                    }
                }
                case "owner" -> {
                    OptionalLong uid = t.length == 2 && t[1].matches("[0-9]{1,10}") ? OptionalLong.of(Long.parseLong(t[1])) : OptionalLong.empty();
                    if (uid.isEmpty() || uid.getAsLong() >= 0xffffffffL) {
                        problems.add(new Problem(file, n, "owner takes one uid, a number"));
                        bad = true;
                    } else {
                        owner = uid;
                    }
                }
                default -> {
                    problems.add(new Problem(file, n, "unknown keyword '" + LogText.excerpt(t[0]) + "' (match, driver, driver-policy, group, owner)"));
                    bad = true;
                }
            }
            if (problems.size() == MAX_PROBLEMS_PER_FILE && i + 1 < lines.size()) {
                problems.add(new Problem(file, n + 1, "and the rest of the file is not read: it does not look like a rule file"));
            }
        }
        allProblems.addAll(problems);
        if (bad) return Optional.empty();
        if (match == null) {
            allProblems.add(new Problem(file, 0, "no match line"));
            return Optional.empty();
        }
        if (driver.isPresent() && policy.isPresent()) {
            allProblems.add(new Problem(file, 0, "driver and driver-policy both given: a named driver leaves nothing to choose; keep one"));
            return Optional.empty();
        }
        return Optional.of(new PersistentRule(file, match, driver, policy, group, owner));
    }
}
