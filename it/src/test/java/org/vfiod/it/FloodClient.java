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
import org.freedesktop.dbus.messages.DBusSignal;
import org.freedesktop.dbus.messages.Error;
import org.freedesktop.dbus.messages.Message;
import org.freedesktop.dbus.messages.MethodCall;
import org.freedesktop.dbus.types.Variant;
import org.vfiod.daemon.bus.BusLink;

/**
 * One flooding process, run as a test user: {@code threads} threads on one bus connection each keep a Manager call
 * in flight, over and over, until the stop file appears. A call is one argument,
 * {@code "Member address"} or {@code "Member address dry-run"}. At the end it prints one line per outcome, {@code outcome <name> <count>}, and
 * {@code done}.
 */
public final class FloodClient {
    private FloodClient() {
    }

    public static void main(String[] args) throws Exception {
        String address = args[0];
        Path stop = Path.of(args[1]);
        int threads = Integer.parseInt(args[2]);
        List<String[]> calls = new ArrayList<>();
        for (int i = 3; i < args.length; i++) calls.add(args[i].split(" "));
        BusLink link = BusLink.connect(address);
        link.start(new BusLink.Incoming() {
            @Override
            public void call(MethodCall call) {
            }

            @Override
            public void signal(DBusSignal signal) {
            }
        }, () -> { });
        Map<String, LongAdder> outcomes = new ConcurrentHashMap<>();
        List<Thread> workers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int first = t;
            Thread w = new Thread(() -> {
                for (int i = first; !Files.exists(stop); i++) {
                    String[] c = calls.get(i % calls.size());
                    Map<String, Variant<?>> options = c.length > 2 ? Map.of("dry-run", new Variant<>(true)) : Map.of();
                    String outcome;
                    try {
                        Message reply = link.call("org.vfiod", "/org/vfiod", "org.vfiod1.Manager", c[0], Duration.ofSeconds(30),
                                "sa{sv}", c[1], options);
                        outcome = reply instanceof Error e ? e.getName() : "ok";
                    } catch (Exception e) {
                        outcome = e.getClass().getSimpleName();
                    }
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
