package org.vfiod.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.vfiod.daemon.bus.BusLink;
import org.vfiod.daemon.sim.SimulatedSysfs;
import org.vfiod.daemon.sim.SimulatedSysfs.Device;

/**
 * Issue 12, "Load": {@value #CLIENTS} clients, each on its own connection as root, make {@value #CALLS_PER_CLIENT}
 * mixed calls each (Get, GetAll, GetManagedObjects, Users, dry runs, and real Rebind/Restore of a NIC of its own, in
 * an IOMMU group of its own, on a simulated tree of {@value #CLIENTS} NICs), all at once. Not one call may fail: a
 * Busy is an error too, since no two clients share a group. Prints p50 and p99 per kind of call; the figures go to
 * {@code it/target/security/load.tsv}.
 */
@ExtendWith(RealComponents.class)
class LoadIT {
    static final int CLIENTS = 8;
    static final int CALLS_PER_CLIENT = 1000;

    @Test
    @Timeout(300)
    void eightClientsMakeAThousandMixedCallsEachWithoutAnError(Env env) throws Exception {
        Path tree = env.dir().resolve("load-sys");
        SimulatedSysfs sim = SimulatedSysfs.create(tree)
                .driver("vfio-pci", "vfio_pci", false, "vfio", "override-only")
                .driver("e1000e", "e1000e", true, "8086:10d3");
        for (int c = 0; c < CLIENTS; c++) sim.device(Device.of(nic(c), 0x8086, 0x10d3, 0x020000, 16 + c, "e1000e"));
        List<String> args = env.vfiodArgs(env.address(), env.defaultModulesDir());
        args.set(args.indexOf("--sysfs-root") + 1, tree.toString());
        env.startVfiodWith(args, true);

        ExecutorService pool = Executors.newFixedThreadPool(CLIENTS);
        List<Future<Result>> results = new ArrayList<>();
        try {
            for (int c = 0; c < CLIENTS; c++) {
                String nic = nic(c);
                results.add(pool.submit(() -> client(env.address(), nic)));
            }
            Map<String, List<Long>> byKind = new TreeMap<>();
            Map<String, Long> errors = new TreeMap<>();
            List<Long> all = new ArrayList<>();
            for (Future<Result> f : results) {
                Result r = f.get();
                r.nanos.forEach((k, v) -> byKind.computeIfAbsent(k, x -> new ArrayList<>()).addAll(v));
                r.errors.forEach((k, v) -> errors.merge(k, v, Long::sum));
                r.nanos.values().forEach(all::addAll);
            }
            long errorCount = errors.values().stream().mapToLong(Long::longValue).sum();
            Figures figures = new Figures("load")
                    .put("clients", CLIENTS)
                    .put("calls", all.size())
                    .put("errors", errorCount)
                    .put("p50_ms", Figures.ms(Figures.percentileMs(array(all), 50)))
                    .put("p99_ms", Figures.ms(Figures.percentileMs(array(all), 99)));
            byKind.forEach((kind, nanos) -> {
                long[] a = array(nanos);
                String key = kind.replace(' ', '_').replace('-', '_');
                System.out.printf("LoadIT: %-18s %5d calls  p50 %7.3f ms  p99 %7.3f ms%n", kind, a.length,
                        Figures.percentileMs(a, 50), Figures.percentileMs(a, 99));
                figures.put("p50_ms." + key, Figures.ms(Figures.percentileMs(a, 50)))
                        .put("p99_ms." + key, Figures.ms(Figures.percentileMs(a, 99)));
            });
            figures.write();
            System.out.println("LoadIT: errors: " + errors);
            assertEquals(CLIENTS * CALLS_PER_CLIENT, all.size(), "calls made");
            assertEquals(Map.of(), errors, "failed calls (kind: outcome -> count)");
            for (int c = 0; c < CLIENTS; c++) assertEquals("e1000e", drivers(tree, nic(c)), nic(c) + "'s driver at the end");
        } finally {
            pool.shutdownNow();
        }
    }

    static String nic(int client) {
        return String.format("0000:%02x:00.0", 0x10 + client);
    }

    private record Result(Map<String, List<Long>> nanos, Map<String, Long> errors) {
    }

    /** One client: the cycle of ten calls, a hundred times; every real move is followed by its way back. */
    private static Result client(String address, String nic) throws Exception {
        List<String> cycle = List.of("Get " + nic + " Driver", "GetAll " + nic, "Rebind " + nic + " dry-run", "Rebind " + nic,
                "Get " + nic + " Driver", "GetManagedObjects", "Restore " + nic + " dry-run", "Restore " + nic, "Users " + nic,
                "GetAll " + nic);
        Map<String, List<Long>> nanos = new TreeMap<>();
        Map<String, Long> errors = new TreeMap<>();
        try (BusLink link = BusCall.connect(address)) {
            for (int i = 0; i < CALLS_PER_CLIENT; i++) {
                String line = cycle.get(i % cycle.size());
                long t0 = System.nanoTime();
                String outcome = BusCall.call(link, line, Duration.ofSeconds(30));
                long took = System.nanoTime() - t0;
                nanos.computeIfAbsent(BusCall.kind(line), k -> new ArrayList<>()).add(took);
                if (!outcome.equals("ok")) errors.merge(BusCall.kind(line) + ": " + outcome, 1L, Long::sum);
            }
        }
        return new Result(nanos, errors);
    }

    private static String drivers(Path tree, String address) throws java.io.IOException {
        Path link = tree.resolve("devices/pci0000:00").resolve(address).resolve("driver");
        return java.nio.file.Files.isSymbolicLink(link) ? java.nio.file.Files.readSymbolicLink(link).getFileName().toString() : "";
    }

    private static long[] array(List<Long> l) {
        return l.stream().mapToLong(Long::longValue).toArray();
    }
}
