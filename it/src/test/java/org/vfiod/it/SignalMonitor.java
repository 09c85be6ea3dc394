package org.vfiod.it;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * {@code gdbus monitor --address A --dest org.vfiod}: one line per signal, e.g.
 * <pre>
 * /org/vfiod/devices/pci_0000_3a03_3a00_2e0: org.freedesktop.DBus.Properties.PropertiesChanged ('org.vfiod1.Device', {'Driver': <'vfio-pci'>}, @as [])
 * /org/vfiod: org.vfiod1.Manager.DeviceAdded (objectpath '/org/vfiod/devices/pci_0000_3a05_3a00_2e0',)
 * </pre>
 * It is ready once it has printed who owns the name: its match rule was sent before it asked the bus that, and the
 * bus handles one connection's messages in order.
 */
public final class SignalMonitor implements AutoCloseable {
    private final Proc process;
    private final int firstSignal;

    private SignalMonitor(Proc process, int firstSignal) {
        this.process = process;
        this.firstSignal = firstSignal;
    }

    public static SignalMonitor start(String busAddress, String dest, Path logFile) {
        Proc p = Proc.start("gdbus-monitor", List.of("gdbus", "monitor", "--address", busAddress, "--dest", dest),
                Map.of(), logFile, true);
        p.awaitLine(l -> l.startsWith("The name " + dest + " is owned by"), Duration.ofSeconds(10), "ready line");
        return new SignalMonitor(p, p.lineCount());
    }

    /** Waits for a signal line matching {@code regex} (searched, not matched whole); fails with everything seen. */
    public String await(String regex, Duration limit) {
        Pattern p = Pattern.compile(regex);
        return process.awaitLine(l -> p.matcher(l).find(), limit, "signal matching /" + regex + "/", firstSignal);
    }

    public List<String> lines() {
        List<String> all = process.lines();
        return all.subList(Math.min(firstSignal, all.size()), all.size());
    }

    @Override
    public void close() {
        process.stop(Duration.ofSeconds(2));
    }
}
