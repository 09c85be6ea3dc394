package org.vfiod.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * What each of the daemon's packages may use of the others, as the README's architecture section lists it: the
 * packages form no cycle, the model knows nothing of the bus, and the bus nothing of polkit or the operations.
 * Only the root package (Daemon) wires them all together. And the layers above sysfs see devices as (bus, kernel
 * name) only: what is PCI stays in sysfs (and in the persistent rules, which are PCI's).
 */
class PackageRulesTest {
    private static final Map<String, Set<String>> MAY_USE = Map.ofEntries(
            Map.entry("sysfs", Set.of()),
            Map.entry("access", Set.of("sysfs")),
            Map.entry("aliases", Set.of()),
            Map.entry("udev", Set.of("aliases")),
            Map.entry("binding", Set.of("sysfs", "aliases", "files", "usage")),
            Map.entry("files", Set.of()),
            Map.entry("features", Set.of("model", "files")),
            Map.entry("state", Set.of("sysfs", "aliases", "binding", "files")),
            Map.entry("model", Set.of("sysfs", "aliases", "udev")),
            Map.entry("bus", Set.of("model", "sysfs", "aliases")),
            Map.entry("auth", Set.of("bus")),
            Map.entry("operations", Set.of("bus", "auth", "model", "state", "binding", "sysfs", "aliases", "access")),
            Map.entry("usage", Set.of("sysfs", "udev")));
    /** The packages that handle any device alike: another bus must need no change in them. */
    private static final Set<String> GENERIC = Set.of("binding", "model", "bus", "operations");
    /**
     * What only PCI code names: its types (PciAddress, PciInfo), the PCI constant of KernelBus, a device's PCI part,
     * and PCI's kernel spellings.
     */
    private static final Pattern PCI = Pattern.compile("\\bPci[A-Z]\\w*|\\bKernelBus\\.PCI\\b|\\.pci\\(\\)|\"pci[\":_]|bus/pci\\b");
    /** The places of the generic packages that may name PCI, each with why. */
    private static final Map<String, String> PCI_ALLOWED = Map.of(
            "bus/AddressArgument.java", "the Manager's methods take a PCI address alone as well as "
                    + "bus:name (org.vfiod1), so PCI's parser is tried first there, and nowhere else");
    private static final Pattern USE = Pattern.compile("\\borg\\.vfiod\\.daemon\\.([a-z]+)\\.");
    private static final Path SOURCES = Path.of("src", "main", "java", "org", "vfiod", "daemon");

    @Test
    void eachPackageUsesOnlyWhatItMay() throws IOException {
        Map<String, Set<String>> found = new TreeMap<>();
        try (Stream<Path> dirs = Files.list(SOURCES)) {
            for (Path dir : dirs.filter(Files::isDirectory).toList()) {
                String pkg = dir.getFileName().toString();
                assertTrue(MAY_USE.containsKey(pkg), "a new package, " + pkg + ": say in MAY_USE and the README what it may use");
                Set<String> used = new TreeSet<>();
                try (Stream<Path> files = Files.walk(dir)) {
                    for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
                        Matcher m = USE.matcher(Files.readString(f));
                        while (m.find()) if (!m.group(1).equals(pkg)) used.add(m.group(1));
                    }
                }
                used.removeAll(MAY_USE.get(pkg));
                if (!used.isEmpty()) found.put(pkg, used);
            }
        }
        assertEquals(Map.of(), found, "packages that use what they may not");
    }

    @Test
    void theGenericLayersDoNotKnowPci() throws IOException {
        Map<String, String> found = new TreeMap<>();
        for (String pkg : GENERIC) {
            try (Stream<Path> files = Files.walk(SOURCES.resolve(pkg))) {
                for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
                    String name = pkg + "/" + f.getFileName();
                    if (PCI_ALLOWED.containsKey(name)) continue;
                    Matcher m = PCI.matcher(Files.readString(f));
                    if (m.find()) found.put(name, m.group());
                }
            }
        }
        assertEquals(Map.of(), found, "generic code that names PCI: read the device through DeviceName and Device, and "
                + "leave PCI to sysfs (or list the place in PCI_ALLOWED, with why)");
    }

    @Test
    void thePciPatternFindsWhatItShould() {
        for (String pci : java.util.List.of("PciAddress a", "new PciInfo(", "KernelBus.PCI", "d.pci().get()", "\"pci\"", "\"pci:v", "\"pci_",
                "bus/pci/drivers")) {
            assertTrue(PCI.matcher(pci).find(), pci);
        }
        for (String generic : java.util.List.of("DeviceName", "KernelBus.titleOf(d)", "vfio-pci", "vfio_pci", "d.name().bus()")) {
            assertTrue(!PCI.matcher(generic).find(), generic);
        }
    }

    @Test
    void theAllowedPlacesExistAndStillNeedIt() throws IOException {
        for (String place : PCI_ALLOWED.keySet()) {
            Path f = SOURCES.resolve(place);
            assertTrue(Files.exists(f), place + " is gone: take it off PCI_ALLOWED");
            assertTrue(PCI.matcher(Files.readString(f)).find(), place + " names PCI no more: take it off PCI_ALLOWED");
        }
    }
}
