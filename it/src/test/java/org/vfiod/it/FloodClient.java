package org.vfiod.it;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import org.vfiod.daemon.bus.BusLink;

/**
 * One flooding process, run as a test user: {@code threads} threads on one bus connection each keep a call
 * in flight, over and over, until the stop file appears. A call is one argument, a {@link BusCall} line such as
 * {@code "Rebind 0000:03:00.0 dry-run"} or {@code "GetManagedObjects"}. At the end it prints one line per outcome, {@code outcome <name> <count>}, and
 * {@code done}.
 */
public final class FloodClient {
    private FloodClient() {
    }

    public static void main(String[] args) throws Exception {
        String address = args[0];
        Path stop = Path.of(args[1]);
        int threads = Integer.parseInt(args[2]);
        List<String> calls = List.of(args).subList(3, args.length);
        BusLink link = BusCall.connect(address);
        Map<String, LongAdder> outcomes = new ConcurrentHashMap<>();
        List<Thread> workers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int first = t;
            Thread w = new Thread(() -> {
                for (int i = first; !Files.exists(stop); i++) {
                    String outcome = BusCall.call(link, calls.get(i % calls.size()), Duration.ofSeconds(30));
                    outcomes.computeIfAbsent(outcome, k -> new LongAdder()).increment();
                }
            });
            w.start();
            workers.add(w);
        }
        System.out.println("flooding");
        for (Thread w : workers) w.join(Duration.ofSeconds(120).toMillis());
        new TreeMap<>(outcomes).forEach((k, v) -> System.out.println("outcome " + k + " " + v.sum()));
        System.out.println("done");
        System.out.flush();
        System.exit(0);
    }
}
