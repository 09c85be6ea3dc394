package org.vfiod.daemon.aliases;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link AliasIndex} over the real modules.alias and modules.builtin.modinfo of Debian 12's 6.1.0-56-amd64 kernel
 * (see src/test/resources/debian-6.1/ORIGIN.md for where they come from and what they hold).
 */
class RealDebianAliasesTest {
    static final String RESOURCES = "/debian-6.1/";
    static final String ALIAS_SHA256 = "42b7e9c42929d0214c80c93dab61a40349b2f49ae135ecd76860f7b39afb55cb";
    static final String MODINFO_SHA256 = "267e57c01d24ba22cf2cba25d097e510c86a7243be26010e8d9cd30dcdec4f97";
    static final String E1000E_MODALIAS = "pci:v00008086d000010D3sv00008086sd00000000bc02sc00i00";
    static final String MLX5_MODALIAS = "pci:v000015B3d00001021sv000015B3sd00000001bc02sc00i00";
    static final String MLX5_LINE = "alias vfio_pci:v000015B3d00001021sv*sd*bc*sc*i* mlx5_vfio_pci";

    @TempDir
    Path modulesDir;

    @BeforeEach
    void unpack() throws IOException {
        gunzip("modules.alias.gz", modulesDir.resolve("modules.alias"));
        gunzip("modules.builtin.modinfo.gz", modulesDir.resolve("modules.builtin.modinfo"));
    }

    private void gunzip(String resource, Path target) throws IOException {
        try (InputStream raw = getClass().getResourceAsStream(RESOURCES + resource)) {
            assertNotNull(raw, "test resource " + RESOURCES + resource + " is missing");
            try (InputStream in = new GZIPInputStream(raw)) {
                Files.copy(in, target);
            }
        }
    }

    private AliasIndex load() throws AliasSourceException {
        // no modprobe folders: the host's /etc/modprobe.d must not leak into the test
        return AliasIndex.load(AliasSources.forModulesDir(modulesDir, List.of()));
    }

    private static int stars(String pattern) {
        return (int) pattern.chars().filter(c -> c == '*').count();
    }

    @Test
    void theResourcesAreTheFilesOriginMdDescribes() throws IOException, NoSuchAlgorithmException {
        assertEquals(ALIAS_SHA256, sha256(modulesDir.resolve("modules.alias")));
        assertEquals(MODINFO_SHA256, sha256(modulesDir.resolve("modules.builtin.modinfo")));
        List<String> lines = Files.readAllLines(modulesDir.resolve("modules.alias"), StandardCharsets.ISO_8859_1);
        assertEquals(26223, lines.size());
        assertEquals(List.of("alias vfio_pci:v*d*sv*sd*bc*sc*i* vfio_pci"),
                lines.stream().filter(l -> l.startsWith("alias vfio_")).toList());
    }

    @Test
    void theHostModulesOfTheNicAreWhatLspciKNames() throws IOException {
        AliasIndex index = load();
        long t0 = System.nanoTime();
        List<String> nic = index.hostModules(E1000E_MODALIAS);
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertEquals(List.of("e1000e"), nic);
        // mlx5_core's own alias; mlx5_vfio_pci's is a vfio_ one (in the index, not here)
        assertEquals(List.of("mlx5_core"), index.hostModules(MLX5_MODALIAS));
        System.out.println("RealDebianAliasesTest: host modules of the NIC from 26,223 lines in " + ms + " ms");
    }

    private static String sha256(Path file) throws IOException, NoSuchAlgorithmException {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
    }

    @Test
    void theIndexHoldsExactlyTheOneVfioLine() throws IOException {
        AliasIndex index = load();
        assertEquals(0, index.malformedLines(), () -> "problems " + index.problems());
        assertTrue(index.problems().isEmpty());
        assertEquals(1, index.size());
        VfioAlias only = index.aliases().get(0);
        assertEquals("vfio_pci:v*d*sv*sd*bc*sc*i*", only.pattern());
        assertEquals("vfio_pci", only.module());
        assertEquals(AliasSource.MODULES_ALIAS, only.source());
        assertEquals(modulesDir.resolve("modules.alias"), only.file());
        assertEquals(20117, only.line());
        assertEquals(java.util.Set.of("pci"), index.buses());
        assertTrue(index.isVfioModule("vfio-pci"));
        assertTrue(index.isVfioModule("vfio_pci"));
        assertFalse(index.isVfioModule("vfio"), "vfio has aliases, but no vfio_ one");
        assertFalse(index.isVfioModule("vfio_pci_core"));
        assertFalse(index.isVfioModule("e1000e"));
    }

    @Test
    void e1000eResolvesToVfioPci() throws IOException {
        AliasMatch m = load().resolve(E1000E_MODALIAS).orElseThrow();
        assertEquals("vfio_pci", m.module());
        assertEquals("vfio_pci:v*d*sv*sd*bc*sc*i*", m.pattern());
        assertEquals(stars(m.pattern()), m.wildcards());
        assertEquals(7, m.wildcards());
        assertFalse(m.builtin(), "vfio is modular in this kernel");
        assertEquals(AliasSource.MODULES_ALIAS, m.source());
        assertFalse(m.tie());
    }

    @Test
    void builtinModulesComeFromBuiltinModinfo() throws IOException {
        AliasIndex index = load();
        // records in modules.builtin.modinfo: debugfs.alias=fs-debugfs, 8250_base.license=GPL
        assertTrue(index.isBuiltin("debugfs"));
        assertTrue(index.isBuiltin("8250_base"));
        assertTrue(index.isBuiltin("8250-base"));
        assertFalse(index.isBuiltin("e1000e"));
        assertFalse(index.isBuiltin("vfio_pci"));
        assertFalse(index.isBuiltin("vfio"));
    }

    @Test
    void anMlx5VariantAppendedToTheRealFileWins() throws IOException {
        AliasIndex before = load();
        assertEquals("vfio_pci", before.resolve(MLX5_MODALIAS).orElseThrow().module());

        Files.writeString(modulesDir.resolve("modules.alias"), MLX5_LINE + "\n", StandardCharsets.ISO_8859_1,
                StandardOpenOption.APPEND);
        AliasIndex index = load();
        assertEquals(0, index.malformedLines(), () -> "problems " + index.problems());
        assertEquals(2, index.size());
        assertEquals(26224, index.aliases().get(1).line());

        AliasMatch mlx5 = index.resolve(MLX5_MODALIAS).orElseThrow();
        assertEquals("mlx5_vfio_pci", mlx5.module());
        assertEquals(5, mlx5.wildcards());
        assertFalse(mlx5.tie());
        assertFalse(mlx5.builtin());

        AliasMatch e1000e = index.resolve(E1000E_MODALIAS).orElseThrow();
        assertEquals("vfio_pci", e1000e.module());
        assertEquals(7, e1000e.wildcards());
        assertFalse(e1000e.tie());
        assertTrue(index.isVfioModule("mlx5-vfio-pci"));
    }
}
