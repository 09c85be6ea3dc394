package org.vfiod.bench;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.freedesktop.dbus.exceptions.DBusException;
import org.vfiod.daemon.aliases.AliasIndex;
import org.vfiod.daemon.aliases.AliasSources;
import org.vfiod.daemon.binding.PollingDriverWaiter;
import org.vfiod.daemon.binding.RebindEngine;
import org.vfiod.daemon.bus.DeviceSignals;
import org.vfiod.daemon.bus.ObjectPublisher;
import org.vfiod.daemon.model.DeviceEvents;
import org.vfiod.daemon.model.DeviceRegistry;
import org.vfiod.daemon.sim.SimulatedEventSource;
import org.vfiod.daemon.sim.SimulatedKernel;
import org.vfiod.daemon.sim.SimulatedSysfs;
import org.vfiod.daemon.sysfs.DeviceName;
import org.vfiod.daemon.sysfs.Sysfs;
import org.vfiod.daemon.udev.DeviceEvent;
import org.vfiod.daemon.udev.HardwareNames;

/**
 * Issue 4's goal: 10,000 events processed in at most 1 s with the registry exact at the end, and no growth of
 * memory across repeated bursts. Runs the real registry and event pump on a simulated tree of 256 devices, with
 * the kernel changing drivers during the burst. Prints each burst's time and the heap after a full GC.
 */
public final class EventBurst {
    public static void main(String[] args) throws Exception {
        int bursts = args.length > 0 ? Integer.parseInt(args[0]) : 20;
        Path dir = Files.createTempDirectory("vfiod-burst");
        SimulatedSysfs sim = SimulatedSysfs.create(dir.resolve("sys"))
                .driver("e1000e", "e1000e", true, "8086:10d3")
                .driver("vfio-pci", "vfio_pci", true, "vfio", "override-only");
        for (int i = 0; i < 256; i++) {
            sim.device(SimulatedSysfs.Device.of(String.format("0000:%02x:%02x.0", 1 + i / 32, i % 32), 0x8086, 0x10d3,
                    0x020000, 10 + i / 2, "e1000e"));
        }
        SimulatedKernel kernel = new SimulatedKernel(sim.root());
        Sysfs sysfs = new Sysfs(sim.root(), kernel);
        Path modules = Files.createDirectories(dir.resolve("modules"));
        Files.writeString(modules.resolve("modules.alias"), "alias vfio_pci:v*d*sv*sd*bc*sc*i* vfio_pci\n");
        AliasIndex index = AliasIndex.load(AliasSources.forModulesDir(modules, List.of()));
        RebindEngine engine = new RebindEngine(sysfs, () -> index, kernel, new PollingDriverWaiter(sysfs), new org.vfiod.daemon.binding.JournalStore(dir.resolve("run/journal")),
                org.vfiod.daemon.sim.SimulatedHost.scanner(sysfs.root(), dir.resolve("host")));
        AtomicLong signals = new AtomicLong();
        ObjectPublisher publisher = factory -> {
            try {
                factory.make();
                signals.incrementAndGet();
            } catch (DBusException e) {
                throw new IllegalStateException(e);
            }
        };
        DeviceRegistry registry = new DeviceRegistry(sysfs, () -> index, engine::onVfioDriver, HardwareNames.NONE, d -> false, a -> "");
        // the signals are built as on the bus, so their cost counts
        registry.listen(new DeviceSignals(publisher));
        DeviceEvents events = new DeviceEvents(registry, a -> { });
        SimulatedEventSource source = new SimulatedEventSource(sim.root(), false);
        source.start(Set.of("pci"), events);
        events.awaitIdle(Duration.ofSeconds(60));
        List<DeviceName> all = sysfs.devices();
        MemoryMXBean mem = ManagementFactory.getMemoryMXBean();
        Random random = new Random(1);
        DeviceEvent.Action[] actions = {DeviceEvent.Action.ADD, DeviceEvent.Action.BIND, DeviceEvent.Action.UNBIND,
                DeviceEvent.Action.CHANGE, DeviceEvent.Action.REMOVE};
        System.out.printf("%-6s %10s %10s %12s %s%n", "burst", "events", "ms", "heap MiB", "exact");
        double worst = 0;
        long firstHeap = 0, lastHeap = 0;
        for (int b = 0; b < bursts; b++) {
            // the kernel moves a few devices during the burst, so the events describe real changes
            for (int k = 0; k < 16; k++) {
                DeviceName a = all.get(random.nextInt(all.size()));
                boolean bound = sysfs.currentDriver(a).isPresent();
                kernel.write(sim.root().resolve("bus/pci/drivers/e1000e/" + (bound ? "unbind" : "bind")), a.toString());
            }
            long start = System.nanoTime();
            for (int i = 0; i < 10_000; i++) {
                DeviceName a = all.get(random.nextInt(all.size()));
                source.inject(new DeviceEvent(actions[random.nextInt(actions.length)], "pci", a.toString(), Optional.empty(), Map.of()));
            }
            if (!events.awaitIdle(Duration.ofSeconds(60))) throw new IllegalStateException("burst not applied");
            double ms = (System.nanoTime() - start) / 1e6;
            worst = Math.max(worst, b == 0 ? 0 : ms);
            DeviceRegistry fresh = new DeviceRegistry(sysfs, () -> index, engine::onVfioDriver, HardwareNames.NONE, d -> false, a -> "");
            fresh.rescan();
            boolean exact = fresh.snapshot().equals(registry.snapshot());
            System.gc();
            long heap = mem.getHeapMemoryUsage().getUsed();
            if (b == 1) firstHeap = heap;
            lastHeap = heap;
            System.out.printf("%-6d %10d %10.1f %12.1f %s%n", b, 10_000, ms, heap / 1048576.0, exact);
            if (!exact) throw new IllegalStateException("registry differs from sysfs after burst " + b);
        }
        System.out.printf("worst burst after the first (JIT warm-up): %.1f ms for 10,000 events (goal <= 1000 ms): %s%n",
                worst, worst <= 1000 ? "OK" : "MISSED");
        System.out.printf("heap after GC, burst 1 -> last: %.1f -> %.1f MiB (growth %.1f MiB)%n", firstHeap / 1048576.0,
                lastHeap / 1048576.0, (lastHeap - firstHeap) / 1048576.0);
        source.close();
        events.close();
        engine.close();
        System.exit(0);
    }
}
