package org.vfiod.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Issue 12's report: unprivileged users keeping many calls in flight (refused changes, dry runs, and a member's
 * authorized changes of another device) must not cost root a single Busy.
 */
@ExtendWith(RealComponents.class)
class FloodIT {
    static final String NIC = "0000:03:00.0";
    /** A device of its own IOMMU group, which the member may move: its moves never wait for the NIC's. */
    static final String VF = "0000:04:00.1";
    static final int ROUNDS = 20;

    @Test
    void rootGetsThroughWhileOthersFlood(Env env) {
        env.vfiod();
        List<Flood> floods = new ArrayList<>();
        Map<String, Long> rootOutcomes = new TreeMap<>();
        try {
            for (int i = 0; i < 2; i++) {
                floods.add(Flood.start(env, User.OUTSIDER, 16, "Rebind " + NIC, "Restore " + NIC, "Rebind " + NIC + " dry-run",
                        "Restore " + NIC + " dry-run"));
                floods.add(Flood.start(env, User.MEMBER, 16, "Rebind " + VF, "Restore " + VF, "Rebind " + NIC + " dry-run",
                        "Restore " + VF + " dry-run"));
            }
            for (int i = 0; i < ROUNDS; i++) {
                for (String member : List.of("Rebind", "Restore")) {
                    Reply r = env.manager(User.ROOT, member, NIC, "{}");
                    rootOutcomes.merge(r.ok() ? "ok" : r.errorName(), 1L, Long::sum);
                }
            }
        } finally {
            List<Map<String, Long>> flooded = new ArrayList<>();
            for (Flood f : floods) flooded.add(f.stop());
            System.out.println("FloodIT: root's " + 2 * ROUNDS + " Rebind/Restore calls: " + rootOutcomes);
            for (int i = 0; i < flooded.size(); i++) {
                System.out.println("FloodIT: flood " + i + " (" + (i % 2 == 0 ? User.OUTSIDER : User.MEMBER) + "): " + flooded.get(i));
            }
            floods.forEach(Flood::close);
        }
        assertEquals(Map.of("ok", (long) 2 * ROUNDS), rootOutcomes, "root's calls under the flood");
    }
}
