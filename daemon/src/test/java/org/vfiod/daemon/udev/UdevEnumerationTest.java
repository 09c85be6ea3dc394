package org.vfiod.daemon.udev;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * libudev on this machine's real /sys, read only: nothing here writes to /sys or makes the kernel emit events.
 */
class UdevEnumerationTest {
    static final Path PCI_DEVICES = Path.of("/sys/bus/pci/devices");

    /** What a plain listing of sysfs says about one PCI device. */
    record Listed(String modalias, Optional<String> driver) {
    }

    static Map<String, Listed> listSysfs() throws IOException {
        Map<String, Listed> out = new TreeMap<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(PCI_DEVICES)) {
            for (Path dev : entries) {
                String modalias = Files.readString(dev.resolve("modalias"), StandardCharsets.US_ASCII).strip();
                Path driver = dev.resolve("driver");
                Optional<String> name = Files.isSymbolicLink(driver)
                        ? Optional.of(Files.readSymbolicLink(driver).getFileName().toString()) : Optional.empty();
                out.put(dev.getFileName().toString(), new Listed(modalias, name));
            }
        }
        return out;
    }

    /** Records every callback in order, as text for the control flow and the lists for the contents. */
    static class Recorder implements DeviceEventSource.Listener {
        final BlockingQueue<Object> calls = new LinkedBlockingQueue<>();

        @Override
        public void onEnumerated(List<DeviceEvent> present) {
            calls.add(present);
        }

        @Override
        public void onEvent(DeviceEvent event) {
            calls.add(event);
        }

        @Override
        public void onOverflow() {
            calls.add("overflow");
        }

        Object next() throws InterruptedException {
            Object o = calls.poll(10, TimeUnit.SECONDS);
            assertNotNull(o, "no callback within 10 s");
            return o;
        }

        @SuppressWarnings("unchecked")
        List<DeviceEvent> nextEnumeration() throws InterruptedException {
            // a real event (a device appearing on a live machine) may come first; skip those
            while (true) {
                Object o = next();
                if (o instanceof List<?> l) return (List<DeviceEvent>) l;
                assertFalse(o instanceof String, "unexpected " + o);
            }
        }
    }

    static void assumePciSysfs() {
        assumeTrue(Files.isDirectory(PCI_DEVICES), "no /sys/bus/pci on this machine");
    }

    @Test
    void enumerationAgreesWithAPlainListingOfSysfs() throws Exception {
        assumePciSysfs();
        Recorder recorder = new Recorder();
        try (UdevMonitorSource source = new UdevMonitorSource()) {
            source.start(Set.of("pci"), recorder);
            List<DeviceEvent> present = recorder.nextEnumeration();
            Map<String, Listed> expected = listSysfs();
            assertFalse(expected.isEmpty(), "this test needs a machine with PCI devices");

            Map<String, DeviceEvent> bySysname = new TreeMap<>();
            for (DeviceEvent e : present) bySysname.put(e.sysname(), e);
            assertEquals(present.size(), bySysname.size(), "a device enumerated twice");
            assertEquals(expected.keySet(), bySysname.keySet());
            for (var entry : expected.entrySet()) {
                String address = entry.getKey();
                DeviceEvent e = bySysname.get(address);
                assertEquals("pci", e.subsystem(), address);
                assertEquals(DeviceEvent.Action.ADD, e.action(), address);
                assertEquals(entry.getValue().modalias(), e.properties().get("MODALIAS"), address);
                assertEquals(address, e.properties().get("PCI_SLOT_NAME"), address);
                assertEquals(entry.getValue().driver(), e.driver(), address);
                assertEquals(e.driver(), Optional.ofNullable(e.properties().get("DRIVER")), address);
            }

            // where no udevd runs, the source must have fallen back to the kernel's own group
            String expectedGroup = Files.exists(UdevMonitorSource.UDEV_CONTROL) ? "udev" : "kernel";
            assertEquals(expectedGroup, source.netlinkGroup());
            assertTrue(source.effectiveReceiveBuffer() > 0);
        }
    }

    @Test
    void closeReturnsPromptlyAndTheThreadIsGone() throws Exception {
        assumePciSysfs();
        Recorder recorder = new Recorder();
        UdevMonitorSource source = new UdevMonitorSource();
        source.start(Set.of("pci"), recorder);
        recorder.nextEnumeration();
        Thread udev = source.thread();
        assertEquals("udev", udev.getName());
        // let the thread settle into poll(2), the state close() must interrupt
        Thread.sleep(100);
        assertTrue(udev.isAlive());

        long t0 = System.nanoTime();
        source.close();
        Duration took = Duration.ofNanos(System.nanoTime() - t0);
        assertTrue(took.compareTo(Duration.ofSeconds(2)) < 0, "close took " + took);
        assertFalse(udev.isAlive(), "the udev thread is still running");
        source.close(); // twice is harmless
    }

    @Test
    void startAndCloseLeakNoDescriptors() throws Exception {
        assumePciSysfs();
        Path fdDir = Path.of("/proc/self/fd");
        assumeTrue(Files.isDirectory(fdDir));
        long before = countEntries(fdDir);
        for (int i = 0; i < 20; i++) {
            Recorder recorder = new Recorder();
            try (UdevMonitorSource source = new UdevMonitorSource()) {
                source.start(Set.of("pci"), recorder);
                recorder.nextEnumeration();
            }
        }
        // each run opens a netlink socket and an eventfd; a leak would show as 40 more
        assertTrue(countEntries(fdDir) - before < 5, "descriptors leak: " + before + " -> " + countEntries(fdDir));
    }

    static long countEntries(Path dir) throws IOException {
        try (var s = Files.list(dir)) {
            return s.count();
        }
    }

    @Test
    void closeFromInsideAListenerDoesNotWaitForItself() throws Exception {
        assumePciSysfs();
        UdevMonitorSource[] holder = new UdevMonitorSource[1];
        Recorder recorder = new Recorder() {
            @Override
            public void onEnumerated(List<DeviceEvent> present) {
                holder[0].close();
                super.onEnumerated(present);
            }
        };
        holder[0] = new UdevMonitorSource();
        holder[0].start(Set.of("pci"), recorder);
        recorder.nextEnumeration();
        Thread udev = holder[0].thread();
        udev.join(2000);
        assertFalse(udev.isAlive());
    }

    @Test
    void anOverflowLeadsToOnOverflowAndAFreshEnumeration() throws Exception {
        assumePciSysfs();
        Recorder recorder = new Recorder();
        try (UdevMonitorSource source = new UdevMonitorSource()) {
            source.start(Set.of("pci"), recorder);
            List<DeviceEvent> first = recorder.nextEnumeration();

            // the same method the receive loop calls when libudev returns NULL with errno ENOBUFS
            source.simulateReceiveFailure(LibC.ENOBUFS);
            Object o = recorder.next();
            while (o instanceof DeviceEvent) o = recorder.next();
            assertEquals("overflow", o);
            List<DeviceEvent> second = recorder.nextEnumeration();
            assertEquals(sysnames(first), sysnames(second));
            assertEquals(1, source.overflows());

            // EAGAIN is the normal end of a read burst: nothing to tell anyone
            source.simulateReceiveFailure(LibC.EAGAIN);
            source.runOnUdevThread(() -> recorder.calls.add("marker"));
            o = recorder.next();
            while (o instanceof DeviceEvent) o = recorder.next();
            assertEquals("marker", o);
            assertEquals(1, source.overflows());
        }
    }

    @Test
    void theNetlinkGroupFollowsWhetherUdevdRuns(@TempDir Path dir) throws Exception {
        assumePciSysfs();
        Path control = dir.resolve("control");
        try (UdevMonitorSource source = new UdevMonitorSource(control, false, UdevMonitorSource.DEFAULT_RECEIVE_BUFFER)) {
            source.start(Set.of("pci"), new Recorder());
            assertEquals("kernel", source.netlinkGroup());
        }
        // a control socket stand-in: the source now expects udevd's re-broadcasts (none will come here)
        Files.createFile(control);
        try (UdevMonitorSource source = new UdevMonitorSource(control, false, UdevMonitorSource.DEFAULT_RECEIVE_BUFFER)) {
            Recorder recorder = new Recorder();
            source.start(Set.of("pci"), recorder);
            assertEquals("udev", source.netlinkGroup());
            assertFalse(recorder.nextEnumeration().isEmpty());
        }
    }

    @Test
    void startTwiceIsRefused() throws Exception {
        assumePciSysfs();
        try (UdevMonitorSource source = new UdevMonitorSource()) {
            source.start(Set.of("pci"), new Recorder());
            try {
                source.start(Set.of("pci"), new Recorder());
                throw new AssertionError("second start accepted");
            } catch (IllegalStateException expected) {
                // fine
            }
        }
    }

    static Set<String> sysnames(List<DeviceEvent> events) {
        Set<String> out = new java.util.TreeSet<>();
        for (DeviceEvent e : events) out.add(e.sysname());
        return out;
    }
}
