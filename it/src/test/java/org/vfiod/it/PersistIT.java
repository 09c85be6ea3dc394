package org.vfiod.it;

import static java.nio.file.StandardWatchEventKinds.ENTRY_CREATE;
import static java.nio.file.StandardWatchEventKinds.ENTRY_DELETE;
import static java.nio.file.StandardWatchEventKinds.ENTRY_MODIFY;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** {@code persist} writes its rule only once everything else says the change can be made. */
@ExtendWith(RealComponents.class)
class PersistIT {
    static final String NIC = "0000:03:00.0";

    @Test
    void aRefusedPersistNeverWritesItsRule(Env env) throws Exception {
        Path rules = env.dir().resolve("etc-vfiod/devices.d");
        Files.createDirectories(rules);
        env.vfiod();
        try (WatchService watch = FileSystems.getDefault().newWatchService()) {
            rules.register(watch, ENTRY_CREATE, ENTRY_DELETE, ENTRY_MODIFY);
            // e1000e is the device's host driver, not a vfio one
            Reply r = env.manager(User.ROOT, "Rebind", NIC, "{'persist': <true>, 'driver': <'e1000e'>}");
            assertFalse(r.ok(), r::describe);
            WatchKey key = watch.poll(500, TimeUnit.MILLISECONDS);
            assertNull(key, () -> "the rule folder changed during a refused call: "
                    + key.pollEvents().stream().map(e -> e.kind() + " " + e.context()).toList());
        }
        try (Stream<Path> left = Files.list(rules)) {
            assertEquals(List.of(), left.toList());
        }
        assertEquals("e1000e", env.driverOf(NIC));
    }
}
