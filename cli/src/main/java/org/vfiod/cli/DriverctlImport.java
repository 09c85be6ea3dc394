package org.vfiod.cli;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.vfiod.client.DeviceInfo;
import org.vfiod.client.RebindOptions;

/**
 * {@code import-driverctl}: takes over the overrides driverctl persisted in {@code /etc/driverctl.d}. driverctl
 * saves {@code driverctl set-override 0000:01:00.0 vfio-pci} as a file {@code pci-0000:01:00.0} whose content is
 * the driver's name and a newline. Each file that names a vfio driver becomes a persistent Rebind to that driver;
 * every other override is listed as skipped, and a file vfioctl cannot understand as invalid. The files themselves
 * are left alone.
 */
final class DriverctlImport {
    static final String PREFIX = "pci-";
    /** driverctl writes a driver name and a newline; anything much longer is not one of its files. */
    private static final int MAX_CONTENT = 256;

    private DriverctlImport() {
    }

    enum Kind { VFIO, SKIPPED, INVALID }

    /** One {@code pci-*} file: the device and driver it names, or why it is skipped or invalid. */
    record Entry(String file, String address, String driver, Kind kind, String reason) {
    }

    /** What became of one file; {@code code} is the exit code its outcome alone would have. */
    record Outcome(Entry entry, String outcome, String detail, boolean group, int code) {
    }

    /** The {@code pci-*} entries of {@code dir}, sorted by name. Other files are not driverctl PCI overrides. */
    static List<Entry> scan(Path dir) throws IOException {
        List<Path> files = new ArrayList<>();
        try (DirectoryStream<Path> s = Files.newDirectoryStream(dir, PREFIX + "*")) {
            for (Path p : s) files.add(p);
        }
        files.sort(null);
        List<Entry> out = new ArrayList<>(files.size());
        for (Path p : files) out.add(read(p));
        return out;
    }

    private static Entry read(Path p) {
        String name = p.getFileName().toString();
        if (!Files.isRegularFile(p)) {
            return new Entry(name, address(name), "", Kind.INVALID, Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)
                    ? "a directory, not an override file" : "not a regular file");
        }
        byte[] bytes;
        try (InputStream in = Files.newInputStream(p)) {
            bytes = in.readNBytes(MAX_CONTENT + 1);
        } catch (IOException e) {
            return new Entry(name, address(name), "", Kind.INVALID, "cannot read it: " + Exit.message(e));
        }
        if (bytes.length > MAX_CONTENT) return new Entry(name, address(name), "", Kind.INVALID, "too long for a driver name");
        return parse(name, new String(bytes, StandardCharsets.UTF_8));
    }

    private static String address(String fileName) {
        return fileName.startsWith(PREFIX) ? Pci.canonicalAddress(fileName.substring(PREFIX.length())) : null;
    }

    /** One file, by its name and content. */
    static Entry parse(String fileName, String content) {
        String address = address(fileName);
        String driver = content.strip();
        if (address == null) {
            return new Entry(fileName, null, driver, Kind.INVALID, "'" + Exit.oneLine(fileName) + "' does not name a PCI device "
                    + "(expected " + PREFIX + "DDDD:BB:DD.F)");
        }
        if (driver.isEmpty()) return new Entry(fileName, address, driver, Kind.INVALID, "empty: names no driver");
        if (!Pci.isDriverName(driver)) {
            return new Entry(fileName, address, driver, Kind.INVALID, "'" + Exit.oneLine(driver) + "' is not a driver name");
        }
        if (driver.equals("none")) {
            return new Entry(fileName, address, driver, Kind.SKIPPED, "'none' keeps the device off any driver; not a vfio driver");
        }
        if (!Pci.isVfioDriver(driver)) return new Entry(fileName, address, driver, Kind.SKIPPED, "not a vfio driver");
        return new Entry(fileName, address, driver, Kind.VFIO, "");
    }

    /**
     * Rebinds every vfio entry with {@code persist} (and {@code dry-run} when asked). When the other endpoints of a
     * device's IOMMU group that are still on host drivers all have vfio overrides of their own (a GPU and its audio
     * function), the device moves with {@code group}, since neither could move alone. An unreachable daemon stops
     * the run (it is thrown); any other failure is that file's outcome.
     */
    static List<Outcome> run(List<Entry> entries, Vfiod vfiod, boolean dryRun, boolean noAsk) throws Exception {
        Map<String, DeviceInfo> devices = new HashMap<>();
        Set<String> wanted = new HashSet<>();
        for (Entry e : entries) if (e.kind() == Kind.VFIO) wanted.add(e.address());
        if (!wanted.isEmpty()) {
            // driverctl overrides PCI devices only; another bus's device could share a kernel name
            for (DeviceInfo d : vfiod.devices()) if (DeviceNames.isPci(d)) devices.put(d.address(), d);
        }
        List<Outcome> out = new ArrayList<>(entries.size());
        for (Entry e : entries) {
            if (e.kind() == Kind.SKIPPED) {
                out.add(new Outcome(e, "skipped", e.reason(), false, Exit.OK));
                continue;
            }
            if (e.kind() == Kind.INVALID) {
                out.add(new Outcome(e, "invalid", e.reason(), false, Exit.FAILED));
                continue;
            }
            DeviceInfo d = devices.get(e.address());
            if (d == null) {
                out.add(new Outcome(e, "failed", "no PCI device " + e.address() + " on this machine now", false, Exit.NO_DEVICE));
                continue;
            }
            boolean group = needsGroup(d, devices, wanted);
            RebindOptions o = RebindOptions.none().withPersist().withDriver(e.driver());
            if (group) o = o.withGroup();
            if (dryRun) o = o.withDryRun();
            if (noAsk) o = o.withoutUserInteraction();
            try {
                String driver = vfiod.rebind(e.address(), o);
                String detail = Render.result("rebind", e.address(), o, driver).strip();
                out.add(new Outcome(e, dryRun ? "would-import" : "imported", detail, group, Exit.OK));
            } catch (Exception x) {
                Exit.Failure f = Exit.of(x);
                if (f.code() == Exit.UNAVAILABLE || f.code() == Exit.INTERNAL) throw x;
                out.add(new Outcome(e, "failed", f.message(), group, f.code()));
            }
        }
        return out;
    }

    /** Whether the device's group holds endpoints on host drivers that are all being imported too. */
    static boolean needsGroup(DeviceInfo d, Map<String, DeviceInfo> devices, Set<String> wanted) {
        boolean blocked = false;
        for (String path : d.groupDevices()) {
            String a = DeviceNames.addressOrPath(path);
            if (a.equals(d.address())) continue;
            DeviceInfo other = devices.get(a);
            if (other == null || Pci.isBridge(other.classCode())) continue;
            boolean onHost = !other.driver().isEmpty() && !other.state().equals("vfio");
            if (!onHost) continue;
            if (!wanted.contains(a)) return false; // the daemon will say GroupNotViable, as it should
            blocked = true;
        }
        return blocked;
    }

    /** 0 when nothing failed; the failures' code when they agree; else 1. */
    static int exitCode(List<Outcome> outcomes) {
        int code = Exit.OK;
        for (Outcome o : outcomes) {
            if (o.code() == Exit.OK) continue;
            if (code == Exit.OK) code = o.code();
            else if (code != o.code()) return Exit.FAILED;
        }
        return code;
    }

    static String table(List<Outcome> outcomes) {
        Table t = new Table("FILE", "DRIVER", "OUTCOME", "DETAIL");
        for (Outcome o : outcomes) t.add(o.entry().file(), o.entry().driver(), o.outcome(), o.detail());
        return t.toString();
    }

    static List<Object> json(List<Outcome> outcomes) {
        List<Object> out = new ArrayList<>();
        for (Outcome o : outcomes) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("file", o.entry().file());
            m.put("address", o.entry().address());
            m.put("driver", o.entry().driver().isEmpty() ? null : o.entry().driver());
            m.put("outcome", o.outcome());
            m.put("detail", o.detail().isEmpty() ? null : o.detail());
            m.put("group", o.group());
            m.put("exitCode", o.code());
            out.add(m);
        }
        return out;
    }
}
