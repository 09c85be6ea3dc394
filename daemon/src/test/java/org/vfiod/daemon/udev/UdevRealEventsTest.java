package org.vfiod.daemon.udev;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Real uevents through the real monitor, and a real ENOBUFS from the kernel, caused without touching /sys.
 *
 * <p>The events come from network interfaces: {@code unshare --net ip link add A type veth peer name B netns PID}
 * creates a veth pair whose end B lives in this JVM's network namespace for as long as the helper's throw-away
 * namespace exists, i.e. a few milliseconds; the kernel then deletes both ends by itself, even if this test dies.
 * Each pair is about ten uevents (net and queues, add and remove). Interface uevents reach only listeners in the
 * same namespace, hence B in ours. They are not PCI events, but on the "kernel" group libudev filters subsystems
 * only after reading a message, so they fill the buffer all the same; that is why the source is forced onto the
 * kernel group here.
 *
 * <p>Because it briefly adds interfaces to the machine's network namespace, it runs only where asked
 * ({@code VFIOD_TEST_UEVENT_FLOOD=1}) or in CI ({@code CI=true}), and needs root, unshare(1) and ip(8) with veth.
 */
class UdevRealEventsTest {

    private Path unshare;
    private Path ip;

    @BeforeEach
    void allowed() {
        assumeTrue("1".equals(System.getenv("VFIOD_TEST_UEVENT_FLOOD")) || "true".equals(System.getenv("CI")),
                "set VFIOD_TEST_UEVENT_FLOOD=1 to let this test create short-lived veth interfaces");
        assumeTrue(Files.isDirectory(UdevEnumerationTest.PCI_DEVICES), "no /sys/bus/pci");
        unshare = which("unshare");
        ip = which("ip");
        assumeTrue(unshare != null && ip != null, "needs unshare and ip");
    }

    /** One veth end appears in this namespace and disappears again: net add, queues, ..., net remove. */
    private String flash(int i) throws IOException, InterruptedException {
        String name = "vfo" + (ProcessHandle.current().pid() % 100_000) + "x" + i;
        try {
            int rc = run(unshare.toString(), "--net", ip.toString(), "link", "add", "p0", "type", "veth",
                    "peer", "name", name, "netns", Long.toString(ProcessHandle.current().pid()));
            // no CAP_SYS_ADMIN/CAP_NET_ADMIN, or no veth: this machine cannot do it, which is not a failure
            assumeTrue(rc == 0, "unshare/ip link add veth failed (rc " + rc + "); not root or no veth?");
        } finally {
            // normally gone already, with the helper's namespace
            if (Files.exists(Path.of("/sys/class/net", name))) run(ip.toString(), "link", "del", name);
        }
        return name;
    }

    @Test
    void eventsOfTheFilteredSubsystemsArrive() throws Exception {
        UdevEnumerationTest.Recorder recorder = new UdevEnumerationTest.Recorder();
        try (UdevMonitorSource source = new UdevMonitorSource(UdevMonitorSource.UDEV_CONTROL, true,
                UdevMonitorSource.DEFAULT_RECEIVE_BUFFER)) {
            source.start(Set.of("net"), recorder);
            recorder.nextEnumeration();
            String name = flash(0);
            DeviceEvent added = nextNetEvent(recorder, name);
            assertEquals(DeviceEvent.Action.ADD, added.action());
            assertEquals("net", added.subsystem());
            assertEquals(name, added.properties().get("INTERFACE"));
            assertTrue(added.properties().containsKey("SEQNUM"));
            DeviceEvent removed = nextNetEvent(recorder, name);
            assertEquals(DeviceEvent.Action.REMOVE, removed.action());
            assertEquals(0, source.overflows());
        }
    }

    /** The next event about the named interface; "queues" events never arrive, the filter holds them back. */
    private static DeviceEvent nextNetEvent(UdevEnumerationTest.Recorder recorder, String name) throws Exception {
        while (true) {
            Object o = recorder.next();
            if (!(o instanceof DeviceEvent e)) continue;
            assertTrue(e.subsystem().equals("net") || e.subsystem().equals("pci"), "unfiltered: " + e);
            if (e.sysname().equals(name)) return e;
        }
    }

    @Test
    void aFullReceiveBufferLeadsToOnOverflowAndAFreshEnumeration() throws Exception {
        CountDownLatch held = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        UdevEnumerationTest.Recorder recorder = new UdevEnumerationTest.Recorder() {
            private boolean first = true;

            @Override
            public void onEnumerated(List<DeviceEvent> present) {
                super.onEnumerated(present);
                if (first) {
                    first = false;
                    held.countDown();
                    try {
                        release.await(60, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
            }
        };

        // 1 byte: the kernel raises it to its minimum (about 2.3 KiB, two or three uevents)
        try (UdevMonitorSource source = new UdevMonitorSource(UdevMonitorSource.UDEV_CONTROL, true, 1)) {
            source.start(Set.of("pci"), recorder);
            assertEquals("kernel", source.netlinkGroup());
            assertTrue(held.await(10, TimeUnit.SECONDS));
            List<DeviceEvent> first = recorder.nextEnumeration();

            try {
                for (int i = 0; i < 5; i++) flash(i);
            } finally {
                release.countDown();
            }

            Object o = recorder.next();
            while (o instanceof DeviceEvent) o = recorder.next();
            assertEquals("overflow", o, "expected onOverflow after the kernel dropped events");
            List<DeviceEvent> again = recorder.nextEnumeration();
            assertEquals(UdevEnumerationTest.sysnames(first), UdevEnumerationTest.sysnames(again));
            assertTrue(source.overflows() >= 1);
        }
    }

    /** The tool's absolute path; sbin is searched too because a non-login PATH often lacks it. */
    private static Path which(String tool) {
        String path = System.getenv().getOrDefault("PATH", "") + ":/usr/sbin:/usr/bin:/sbin:/bin";
        for (String dir : path.split(":")) {
            if (dir.isEmpty()) continue;
            Path candidate = Path.of(dir, tool);
            if (Files.isExecutable(candidate)) return candidate;
        }
        return null;
    }

    private static int run(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        if (!p.waitFor(10, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return -1;
        }
        return p.exitValue();
    }
}
