package org.vfiod.daemon.aliases;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HostModulesTest {
    static final String NIC = "pci:v00008086d000010D3sv00008086sd0000A01Fbc02sc00i00";

    @TempDir
    Path dir;

    private AliasSources sources(String aliases, String builtin) throws Exception {
        Files.writeString(dir.resolve("modules.alias"), aliases);
        if (builtin != null) Files.write(dir.resolve("modules.builtin.modinfo"), builtin.getBytes(StandardCharsets.ISO_8859_1));
        return AliasSources.forModulesDir(dir, List.of());
    }

    @Test
    void theHostModulesWhoseAliasesMatchNotTheVfioOnes() throws Exception {
        AliasSources s = sources("""
                # Aliases extracted from modules themselves.
                alias pci:v00008086d000010D3sv*sd*bc*sc*i* e1000e
                alias pci:v00008086d0000100Esv*sd*bc*sc*i* e1000
                alias vfio_pci:v00008086d000010D3sv*sd*bc*sc*i* vfiod_test_vfio_pci
                alias pci:v*d*sv*sd*bc02sc00i* some-nic
                """, "ahci.alias=pci:v*d*sv*sd*bc01sc06i01\0pcieport.alias=pci:v00008086d000010D3sv*sd*bc*sc*i*\0e1000e.file=x\0");
        assertEquals(List.of("e1000e", "pcieport", "some_nic"), HostModules.matching(s, NIC));
        assertEquals(List.of(), HostModules.matching(s, "pci:v00001234d000011E8sv00001AF4sd00001100bc00scFFi00"));
    }

    @Test
    void noFilesNoModules() throws Exception {
        assertEquals(List.of(), HostModules.matching(AliasSources.forModulesDir(dir.resolve("none"), List.of()), NIC));
    }

    @Test
    void theIndexAsksTheFilesItWasLoadedFrom() throws Exception {
        AliasIndex index = AliasIndex.load(sources("alias pci:v00008086d000010D3sv*sd*bc*sc*i* e1000e\n", null));
        assertEquals(List.of("e1000e"), index.hostModules(NIC));
    }
}
