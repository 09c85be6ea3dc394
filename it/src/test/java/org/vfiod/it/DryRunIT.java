package org.vfiod.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A dry run needs no authorization, so anyone may send many: it must change nothing anyone else sees (no busy
 * state, no signal) and must not let one user fill the log.
 */
@ExtendWith(RealComponents.class)
class DryRunIT {
    static final String NIC = "0000:03:00.0";
    static final String VF = "0000:04:00.1";
    static final int N = 20;

    @Test
    void dryRunsSendNoSignalAndLogNothing(Env env) {
        VfiodProcess vfiod = env.vfiod();
        SignalMonitor monitor = env.monitor();
        // root's move of another device loads vfio_pci, which rightly renames every device's VfioDriver from the
        // module to its driver: that comes first, so that what the NIC sends below is the dry runs' doing alone
        env.manager(User.ROOT, "Rebind", VF, "{}").assertOk();
        monitor.await(Env.devicePath(NIC) + ": .*PropertiesChanged.*'VfioDriver': <'vfio-pci'>", Duration.ofSeconds(10));
        monitor.await(Env.devicePath(VF) + ": .*PropertiesChanged.*'State': <'vfio'>", Duration.ofSeconds(10));
        int signalsBefore = monitor.lines().size();
        int logBefore = vfiod.process().lineCount();
        for (int i = 0; i < N; i++) {
            env.manager(User.OUTSIDER, i % 2 == 0 ? "Rebind" : "Restore", NIC, "{'dry-run': <true>}").assertOk();
        }
        // a marker: root's change of another device; its signals and log come after all the dry runs'
        env.manager(User.ROOT, "Restore", VF, "{}").assertOk();
        monitor.await(Env.devicePath(VF) + ": .*PropertiesChanged.*'State': <'host'>", Duration.ofSeconds(10));
        vfiod.awaitLog("Restore " + VF, Duration.ofSeconds(10));

        List<String> all = monitor.lines();
        List<String> nicSignals = all.subList(signalsBefore, all.size()).stream().filter(l -> l.startsWith(Env.devicePath(NIC) + ":")).toList();
        System.out.println("DryRunIT: " + N + " dry runs sent " + nicSignals.size() + " signals");
        assertEquals(List.of(), nicSignals, "signals of the NIC after " + N + " dry runs");

        List<String> log = vfiod.process().lines();
        int marker = logBefore;
        while (!log.get(marker).contains("Restore " + VF)) marker++;
        List<String> grown = log.subList(logBefore, marker);
        System.out.println("DryRunIT: " + N + " dry runs logged " + grown.size() + " lines");
        assertTrue(grown.size() < N / 2, () -> N + " dry runs logged " + grown.size() + " lines: " + grown);
    }
}
