package org.vfiod.it;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.opentest4j.AssertionFailedError;

/**
 * The libvirt hook as libvirt runs it: the conffile (packaging/libvirt/vfiod) with domain name, operation and
 * sub-operation as arguments and the domain XML on stdin, running the code (packaging/libvirt/libvirt-hook); its
 * bus, qemu.conf, sysfs and state folder pointed at the test's. The domain
 * XML is libvirt's own: {@code virsh define} and {@code virsh dumpxml} on libvirt's test driver (test:///default),
 * which needs no libvirtd and no QEMU, and formats a domain with the same code as the qemu driver.
 */
final class LibvirtHook {
    static final List<String> TOOLS = List.of("virsh");

    private final Env env;
    private final Path hook;
    private final Path code;
    private final Path stateDir;
    private Path qemuConf;

    LibvirtHook(Env env) {
        this.env = env;
        requirePrerequisites();
        try {
            Path dir = env.dir().resolve("libvirt");
            Files.createDirectories(dir);
            hook = dir.resolve("vfiod");
            code = dir.resolve("libvirt-hook");
            Files.copy(Harness.projectRoot().resolve("packaging/libvirt/vfiod"), hook);
            Files.copy(Harness.projectRoot().resolve("packaging/libvirt/libvirt-hook"), code);
            for (Path p : List.of(hook, code)) Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
            // the hook runs as root under libvirtd; a test user's refused run writes nothing there
            stateDir = dir.resolve("state");
            qemuConf = dir.resolve("qemu.conf");
            Files.writeString(qemuConf, "# as Debian ships it: everything commented out\n#user = \"libvirt-qemu\"\n"
                    + "#dynamic_ownership = 1\n", StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** virsh and python3-gi; skipped on a developer's machine without them, a failure with CI=true. */
    static void requirePrerequisites() {
        List<String> missing = new ArrayList<>();
        for (String t : TOOLS) if (Prerequisites.which(t) == null) missing.add("the command " + t);
        if (!hasGio()) missing.add("python3-gi");
        require("the libvirt hook tests", missing, "libvirt-clients python3-gi");
    }

    /** python3-gi, for the Gio client example. */
    static void requireGio() {
        require("the Gio client tests", hasGio() ? List.of() : List.of("python3-gi"), "python3-gi");
    }

    private static boolean hasGio() {
        // /usr/bin/python3, as the scripts' #! line says (the JVM would find a python3 on its own PATH)
        return Files.isExecutable(Path.of("/usr/bin/python3"))
                && Cmd.run(User.ROOT, "/usr/bin/python3", "-c", "from gi.repository import Gio").ok();
    }

    private static void require(String who, List<String> missing, String packages) {
        if (missing.isEmpty()) return;
        String m = who + " need " + String.join(", ", missing) + " (apt-get install " + packages + ")";
        if ("true".equalsIgnoreCase(System.getenv("CI"))) throw new AssertionFailedError("CI=true and " + m);
        Assumptions.abort(m);
    }

    Path stateDir() {
        return stateDir;
    }

    /** Replaces the test's qemu.conf. */
    void qemuConf(String text) {
        try {
            Files.writeString(qemuConf, text, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * The XML {@code virsh dumpxml} prints for a domain {@code name} defined with these {@code <devices>} (the test
     * driver keeps definitions per connection, so define and dumpxml run in one virsh).
     */
    String dumpxml(String name, String devices) {
        Path in = env.dir().resolve("libvirt/" + name + "-defined.xml");
        try {
            Files.writeString(in, "<domain type='test'>\n  <name>" + name + "</name>\n  <memory unit='MiB'>256</memory>\n"
                    + "  <os><type arch='x86_64'>hvm</type></os>\n  <devices>\n" + devices + "  </devices>\n</domain>\n",
                    StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Reply r = Cmd.run(User.ROOT, Duration.ofSeconds(30),
                List.of("virsh", "-q", "-c", "test:///default", "define " + in + "; dumpxml " + name)).assertOk();
        String out = r.out();
        int start = out.indexOf("<domain");
        if (start < 0) fail("virsh printed no domain: " + r.describe());
        return out.substring(start);
    }

    /** A PCI hostdev element, as one writes it for virsh define. */
    static String hostdev(String address, boolean managed) {
        String[] p = address.split("[:.]");
        return "    <hostdev mode='subsystem' type='pci' managed='" + (managed ? "yes" : "no") + "'>\n"
                + "      <source><address domain='0x" + p[0] + "' bus='0x" + p[1] + "' slot='0x" + p[2]
                + "' function='0x" + p[3] + "'/></source>\n    </hostdev>\n";
    }

    /** An SR-IOV VF as a guest's network interface. */
    static String interfaceHostdev(String address, boolean managed) {
        String[] p = address.split("[:.]");
        return "    <interface type='hostdev' managed='" + (managed ? "yes" : "no") + "'>\n"
                + "      <source><address type='pci' domain='0x" + p[0] + "' bus='0x" + p[1] + "' slot='0x" + p[2]
                + "' function='0x" + p[3] + "'/></source>\n    </interface>\n";
    }

    /** Runs the hook as libvirt does ({@code NAME OPERATION SUB -}, the XML on stdin), as {@code user}. */
    Reply run(User user, String domain, String operation, String sub, String xml) {
        return run(user, code, domain, operation, sub, xml);
    }

    /** The conffile as a removed (not purged) package leaves it: without the package's code. */
    Reply runWithoutCode(String domain, String operation, String sub, String xml) {
        return run(User.ROOT, code.resolveSibling("removed-libvirt-hook"), domain, operation, sub, xml);
    }

    private Reply run(User user, Path code, String domain, String operation, String sub, String xml) {
        Path file = env.dir().resolve("libvirt/" + domain + "-" + operation + "-" + sub + "-" + System.nanoTime() + ".xml");
        try {
            Files.writeString(file, xml, StandardCharsets.UTF_8);
            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        // the XML goes to stdin through the shell, since the test processes' stdin is /dev/null
        List<String> argv = List.of("env", "VFIOD_LIBVIRT_HOOK=" + code, "VFIOD_HOOK_BUS_ADDRESS=" + env.address(),
                "VFIOD_HOOK_QEMU_CONF=" + qemuConf,
                "VFIOD_HOOK_SYSFS=" + env.sysfsRoot(), "VFIOD_HOOK_STATE_DIR=" + stateDir, "XML=" + file,
                "sh", "-c", "exec \"$@\" < \"$XML\"", "sh", hook.toString(), domain, operation, sub, "-");
        return Cmd.run(user, Duration.ofSeconds(60), argv);
    }
}
