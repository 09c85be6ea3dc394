package org.vfiod.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Issue 14: modules.alias replaced half-written during a reload, over the bus. A variant alias for the NIC is
 * written in place and caught cut inside its module's name, where it would still parse (to "e1000e_v"): Reload
 * fails saying why, the previous aliases stay (Resolve and Rebind still use vfio_pci); once the file is whole,
 * Reload takes it.
 */
@ExtendWith(RealComponents.class)
class AliasReloadIT {
    static final String NIC = "0000:03:00.0";
    static final String VARIANT = "alias vfio_pci:v00008086d000010D3sv*sd*bc*sc*i* e1000e_vfio_pci\n";

    @Test
    void aHalfWrittenModulesAliasIsRefusedAndThePreviousAliasesStay(Env env) throws Exception {
        env.vfiod();
        String modalias = Env.string(env.get(User.ROOT, Env.devicePath(NIC), Env.DEVICE_IFACE, "Modalias").assertOk());
        Path file = env.defaultModulesDir().resolve("modules.alias");
        String whole = Env.VFIO_ALIAS + VARIANT;
        // in place, as a copy or an editor writes it, and read before the rest arrives
        Files.writeString(file, whole.substring(0, whole.length() - "fio_pci\n".length()), StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.WRITE);
        env.manager(User.ROOT, "Reload").assertError(Env.FAILED, "the previous aliases stay in use", "ends in the middle of a line");
        String resolved = env.manager(User.ROOT, "Resolve", modalias).assertOk().out();
        assertTrue(resolved.contains("vfio_pci") && !resolved.contains("e1000e_v"), resolved);
        assertEquals("vfio-pci", Env.string(env.manager(User.ROOT, "Rebind", NIC, "{}").assertOk()));
        assertFalse(env.vfiod().log().contains("e1000e_v'"), env.vfiod()::log);

        Files.writeString(file, whole);
        env.manager(User.ROOT, "Reload").assertOk();
        String now = env.manager(User.ROOT, "Resolve", modalias).assertOk().out();
        assertTrue(now.contains("e1000e_vfio_pci"), now);
    }
}
