package org.vfiod.bench;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.freedesktop.dbus.connections.impl.DBusConnection;
import org.freedesktop.dbus.connections.impl.DBusConnectionBuilder;
import org.freedesktop.dbus.interfaces.Properties;

/**
 * {@code org.freedesktop.DBus.Properties.Get} round trips from one client to vfiod and to polkitd (a C service on
 * the same bus), and the throughput of 8 concurrent clients. Used by {@code bench/run-bus-bench.sh}.
 *
 * <p>Two clients, each measured against both services in the same run: {@code dbus-java} (proxies, as a Java
 * consumer of vfiod would call it; it adds a few hundred µs of its own per call, which dilutes any difference
 * between the services) and {@code raw} ({@link RawBusClient}: a blocking socket and a pre-marshalled message,
 * so the round trip is mostly dbus-daemon plus the service).
 *
 * <p>Latency: one connection, one proxy per target, a warm-up of both (at most 3 s), then {@code --n} timed calls per target in
 * blocks of {@code --block}, alternating which target goes first, so drift (JIT, frequency, other load) hits both
 * alike. Each call is timed on its own with {@code System.nanoTime()}.
 *
 * <p>Throughput: {@code --threads} threads, each with its own connection, call Get in a loop for {@code --seconds};
 * two rounds per target, alternating (vfiod, polkitd, vfiod, polkitd); reported as total calls per second.
 *
 * <p>Output lines starting with {@code RESULT} are for the script; the rest is for people.
 *
 * <pre>java -cp bench/target/benchmarks.jar org.vfiod.bench.BusLatency --address unix:path=SOCK [--no-polkit]
 *     [--clients dbus-java,raw] [--n 5000] [--block 500] [--warmup 2000] [--threads 8] [--seconds 1]
 *     [--vfiod-path /org/vfiod/devices/pci_0000_3a03_3a00_2e0] [--vfiod-property Driver]</pre>
 */
public final class BusLatency {
    private record Target(String name, String bus, String path, String iface, String property) {
    }

    /** One Properties.Get on one connection. */
    private interface Getter {
        Object get() throws Exception;
    }

    /** A client library: opens a connection and makes getters on it. */
    private interface Client {
        String name();

        AutoCloseable connect(String address) throws Exception;

        Getter getter(AutoCloseable connection, Target t) throws Exception;
    }

    private static final Client DBUS_JAVA = new Client() {
        @Override
        public String name() {
            return "dbus-java";
        }

        @Override
        public AutoCloseable connect(String address) throws Exception {
            return DBusConnectionBuilder.forAddress(address).withShared(false).build();
        }

        @Override
        public Getter getter(AutoCloseable c, Target t) throws Exception {
            Properties p = ((DBusConnection) c).getRemoteObject(t.bus(), t.path(), Properties.class);
            return () -> p.Get(t.iface(), t.property());
        }
    };

    private static final Client RAW = new Client() {
        @Override
        public String name() {
            return "raw";
        }

        @Override
        public AutoCloseable connect(String address) throws Exception {
            return new RawBusClient(address);
        }

        @Override
        public Getter getter(AutoCloseable c, Target t) {
            RawBusClient r = (RawBusClient) c;
            RawBusClient.Call call = RawBusClient.propertiesGet(t.bus(), t.path(), t.iface(), t.property());
            return () -> r.call(call);
        }
    };

    private BusLatency() {
    }

    public static void main(String[] argv) throws Exception {
        String address = null;
        boolean polkit = true;
        int n = 5000, block = 500, warmup = 2000, threads = 8;
        double seconds = 1;
        String vPath = "/org/vfiod/devices/pci_0000_3a03_3a00_2e0", vProp = "Driver";
        List<Client> clients = List.of(DBUS_JAVA, RAW);
        for (int i = 0; i < argv.length; i++) {
            switch (argv[i]) {
                case "--address" -> address = argv[++i];
                case "--no-polkit" -> polkit = false;
                case "--clients" -> {
                    List<Client> cs = new ArrayList<>();
                    for (String c : argv[++i].split(",")) {
                        switch (c) {
                            case "dbus-java" -> cs.add(DBUS_JAVA);
                            case "raw" -> cs.add(RAW);
                            default -> usage("unknown client " + c + " (dbus-java, raw)");
                        }
                    }
                    clients = cs;
                }
                case "--n" -> n = Integer.parseInt(argv[++i]);
                case "--block" -> block = Integer.parseInt(argv[++i]);
                case "--warmup" -> warmup = Integer.parseInt(argv[++i]);
                case "--threads" -> threads = Integer.parseInt(argv[++i]);
                case "--seconds" -> seconds = Double.parseDouble(argv[++i]);
                case "--vfiod-path" -> vPath = argv[++i];
                case "--vfiod-property" -> vProp = argv[++i];
                default -> usage("unknown option " + argv[i]);
            }
        }
        if (address == null) usage("--address is required");
        List<Target> targets = new ArrayList<>();
        targets.add(new Target("vfiod", "org.vfiod", vPath, "org.vfiod1.Device", vProp));
        if (polkit) {
            targets.add(new Target("polkitd", "org.freedesktop.PolicyKit1", "/org/freedesktop/PolicyKit1/Authority",
                    "org.freedesktop.PolicyKit1.Authority", "BackendName"));
        }
        for (Client c : clients) latency(c, address, targets, n, block, warmup);
        for (Client c : clients) throughput(c, address, targets, threads, seconds);
        System.exit(0);
    }

    private static void usage(String why) {
        System.err.println("BusLatency: " + why);
        System.exit(64);
    }

    private static void latency(Client client, String address, List<Target> targets, int n, int block, int warmup)
            throws Exception {
        int k = targets.size();
        long[][] samples = new long[k][n];
        try (AutoCloseable c = client.connect(address)) {
            Getter[] g = new Getter[k];
            for (int t = 0; t < k; t++) {
                Target tg = targets.get(t);
                g[t] = client.getter(c, tg);
                Object v = g[t].get();
                if (v instanceof java.nio.ByteBuffer b) v = RawBusClient.variantString(b);
                System.out.printf("%s client, %s: Get(%s, %s) on %s = %s%n", client.name(), tg.name(), tg.iface(),
                        tg.property(), tg.path(), v);
            }
            // warm-up: the client's JIT as much as the servers'; at most 3 s, so a loaded machine stays bounded
            long warmEnd = System.nanoTime() + 3_000_000_000L;
            for (int i = 0; i < warmup && System.nanoTime() < warmEnd; i += 100) {
                for (int t = 0; t < k; t++) {
                    for (int j = 0; j < 100; j++) g[t].get();
                }
            }
            int[] done = new int[k];
            for (int b = 0; done[0] < n; b++) {
                for (int o = 0; o < k; o++) {
                    int t = (b % 2 == 0) ? o : k - 1 - o;   // alternate who goes first
                    int m = Math.min(block, n - done[t]);
                    for (int j = 0; j < m; j++) {
                        long t0 = System.nanoTime();
                        g[t].get();
                        samples[t][done[t]++] = System.nanoTime() - t0;
                    }
                }
            }
        }
        for (int t = 0; t < k; t++) {
            long[] s = samples[t];
            double mean = Arrays.stream(s).average().orElse(Double.NaN) / 1e3;
            Arrays.sort(s);
            double p50 = s[(int) Math.floor(0.50 * (s.length - 1))] / 1e3;
            double p99 = s[(int) Math.floor(0.99 * (s.length - 1))] / 1e3;
            double max = s[s.length - 1] / 1e3;
            System.out.printf(Locale.ROOT, "RESULT latency %s %s n=%d mean_us=%.1f p50_us=%.1f p99_us=%.1f max_us=%.1f%n",
                    client.name(), targets.get(t).name(), s.length, mean, p50, p99, max);
        }
    }

    private static void throughput(Client client, String address, List<Target> targets, int threads, double seconds)
            throws Exception {
        long[] calls = new long[targets.size()];
        double[] elapsed = new double[targets.size()];
        for (int round = 0; round < 2; round++) {
            for (int o = 0; o < targets.size(); o++) {
                int t = round % 2 == 0 ? o : targets.size() - 1 - o;   // vfiod, polkitd, polkitd, vfiod
                long[] r = run(client, address, targets.get(t), threads, seconds);
                calls[t] += r[0];
                elapsed[t] += r[1] / 1e9;
                System.out.printf(Locale.ROOT, "  %s client, round %d, %-8s %d threads: %.0f calls/s%n", client.name(), round,
                        targets.get(t).name(), threads, r[0] / (r[1] / 1e9));
            }
        }
        for (int t = 0; t < targets.size(); t++) {
            System.out.printf(Locale.ROOT, "RESULT throughput %s %s threads=%d calls=%d seconds=%.2f calls_per_s=%.0f%n",
                    client.name(), targets.get(t).name(), threads, calls[t], elapsed[t], calls[t] / elapsed[t]);
        }
    }

    /** One timed round: {calls, nanoseconds}. Each thread connects and warms up before the clock starts. */
    private static long[] run(Client client, String address, Target target, int threads, double seconds) throws Exception {
        CyclicBarrier ready = new CyclicBarrier(threads + 1);
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong total = new AtomicLong();
        List<Thread> ts = new ArrayList<>();
        List<Throwable> errors = java.util.Collections.synchronizedList(new ArrayList<>());
        for (int i = 0; i < threads; i++) {
            Thread th = new Thread(() -> {
                try (AutoCloseable c = client.connect(address)) {
                    Getter g = client.getter(c, target);
                    for (int j = 0; j < 200; j++) g.get();
                    ready.await();
                    long mine = 0;
                    while (true) {
                        g.get();
                        if (stop.get()) break;   // a call that ends after the clock stopped is not counted
                        mine++;
                    }
                    total.addAndGet(mine);
                } catch (Throwable e) {
                    errors.add(e);
                    ready.reset();
                }
            }, "client-" + i);
            ts.add(th);
            th.start();
        }
        ready.await();
        long t0 = System.nanoTime();
        Thread.sleep((long) (seconds * 1000));
        long t1 = System.nanoTime();
        stop.set(true);
        for (Thread th : ts) th.join();
        if (!errors.isEmpty()) throw new IllegalStateException("a client failed", errors.get(0));
        return new long[] {total.get(), t1 - t0};
    }
}
