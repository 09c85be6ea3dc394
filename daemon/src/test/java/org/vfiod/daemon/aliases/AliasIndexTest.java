package org.vfiod.daemon.aliases;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** {@link AliasIndex} over hand-written alias sources in a temporary root. */
class AliasIndexTest {
    static final String CATCH_ALL = "alias vfio_pci:v*d*sv*sd*bc*sc*i* vfio_pci";
    static final String MLX5 = "alias vfio_pci:v000015B3d00001021sv*sd*bc*sc*i* mlx5_vfio_pci";
    static final String MLX5_MODALIAS = "pci:v000015B3d00001021sv000015B3sd00000001bc02sc00i00";
    static final String E1000E_MODALIAS = "pci:v00008086d000010D3sv00008086sd00000000bc02sc00i00";

    @TempDir
    Path root;
    Path modulesDir;
    Path etc;
    Path run;
    Path lib;

    @BeforeEach
    void layout() throws IOException {
        modulesDir = Files.createDirectories(root.resolve("lib/modules/6.1.0-test"));
        etc = root.resolve("etc/modprobe.d");
        run = root.resolve("run/modprobe.d");
        lib = root.resolve("lib/modprobe.d");
    }

    // ---- helpers --------------------------------------------------------------------------------------------

    Path modulesAlias(String... lines) throws IOException {
        return write(modulesDir.resolve("modules.alias"), String.join("\n", lines) + "\n");
    }

    Path builtinModinfo(String... records) throws IOException {
        StringBuilder b = new StringBuilder();
        for (String r : records) b.append(r).append('\0');
        return write(modulesDir.resolve("modules.builtin.modinfo"), b.toString());
    }

    Path conf(Path dir, String name, String... lines) throws IOException {
        Files.createDirectories(dir);
        return write(dir.resolve(name), String.join("\n", lines) + "\n");
    }

    static Path write(Path file, String text) throws IOException {
        Files.createDirectories(file.getParent());
        return Files.write(file, text.getBytes(StandardCharsets.ISO_8859_1));
    }

    AliasIndex load() throws AliasSourceException {
        return AliasIndex.load(AliasSources.forModulesDir(modulesDir, List.of(etc, run, lib)));
    }

    static AliasMatch resolved(AliasIndex index, String modalias) {
        Optional<AliasMatch> m = index.resolve(modalias);
        assertTrue(m.isPresent(), () -> "no match for " + modalias + " among " + index.aliases());
        return m.get();
    }

    static List<String> problemTexts(AliasIndex index) {
        List<String> texts = new ArrayList<>();
        for (AliasIndex.Problem p : index.problems()) texts.add(p.toString());
        return texts;
    }

    static void assertHasProblem(AliasIndex index, Path file, int line) {
        String prefix = file + ":" + line + ": ";
        assertTrue(problemTexts(index).stream().anyMatch(t -> t.startsWith(prefix)),
                () -> "no problem reported at " + prefix + " in " + problemTexts(index));
    }

    // ---- the most specific alias wins -----------------------------------------------------------------------

    @ParameterizedTest(name = "variant line {0} the catch-all")
    @ValueSource(strings = {"before", "after"})
    void mlx5VariantBeatsTheCatchAllWhereverItStands(String where) throws IOException {
        if (where.equals("before")) modulesAlias(MLX5, CATCH_ALL);
        else modulesAlias(CATCH_ALL, MLX5);
        AliasIndex index = load();

        AliasMatch m = resolved(index, MLX5_MODALIAS);
        assertEquals("mlx5_vfio_pci", m.module());
        assertEquals("vfio_pci:v000015B3d00001021sv*sd*bc*sc*i*", m.pattern());
        assertEquals(5, m.wildcards());
        assertEquals(MLX5_MODALIAS, m.modalias());
        assertEquals(AliasSource.MODULES_ALIAS, m.source());
        assertFalse(m.builtin());
        assertFalse(m.tie(), "the catch-all has more wildcards, that is no tie: " + m.tiedWith());

        // a device the variant does not cover still gets the catch-all
        AliasMatch other = resolved(index, E1000E_MODALIAS);
        assertEquals("vfio_pci", other.module());
        assertEquals(7, other.wildcards());
        assertFalse(other.tie());
        // a different device id of the same vendor is not the variant's either
        assertEquals("vfio_pci", resolved(index, MLX5_MODALIAS.replace("d00001021", "d00001022")).module());
    }

    @Test
    void equalWildcardsAreATieTheFirstLineWinsAndTheOthersAreReported() throws IOException {
        modulesAlias(CATCH_ALL,
                "alias vfio_pci:v000015B3d*sv*sd*bc*sc*i* vendor_wide_vfio",
                "alias vfio_pci:v*d00001021sv*sd*bc*sc*i* device_wide_vfio",
                "alias vfio_pci:v*d*sv000015B3sd*bc*sc*i* subvendor_vfio");
        AliasMatch m = resolved(load(), MLX5_MODALIAS);
        assertEquals("vendor_wide_vfio", m.module());
        assertEquals(6, m.wildcards());
        assertTrue(m.tie());
        assertEquals(List.of("device_wide_vfio", "subvendor_vfio"), m.tiedWith());
    }

    @Test
    void tieOrderFollowsTheFileNotTheModuleName() throws IOException {
        modulesAlias("alias vfio_pci:v*d00001021sv*sd*bc*sc*i* zzz_vfio",
                "alias vfio_pci:v000015B3d*sv*sd*bc*sc*i* aaa_vfio");
        AliasMatch m = resolved(load(), MLX5_MODALIAS);
        assertEquals("zzz_vfio", m.module());
        assertEquals(List.of("aaa_vfio"), m.tiedWith());
    }

    @Test
    void theSameModuleTwiceIsNotATie() throws IOException {
        modulesAlias("alias vfio_pci:v000015B3d*sv*sd*bc*sc*i* mlx5_vfio_pci",
                "alias vfio_pci:v*d00001021sv*sd*bc*sc*i* mlx5_vfio_pci",
                "alias vfio_pci:v*d00001021sv*sd*bc*sc*i* mlx5-vfio-pci");
        AliasMatch m = resolved(load(), MLX5_MODALIAS);
        assertEquals("mlx5_vfio_pci", m.module());
        assertFalse(m.tie(), () -> "tiedWith " + m.tiedWith());
    }

    @Test
    void aTieAmongLessSpecificMatchesIsForgottenWhenAMoreSpecificOneFollows() throws IOException {
        modulesAlias("alias vfio_pci:v000015B3d*sv*sd*bc*sc*i* vendor_wide_vfio",
                "alias vfio_pci:v*d00001021sv*sd*bc*sc*i* device_wide_vfio",
                MLX5);
        AliasMatch m = resolved(load(), MLX5_MODALIAS);
        assertEquals("mlx5_vfio_pci", m.module());
        assertFalse(m.tie(), () -> "tiedWith " + m.tiedWith());
    }

    @Test
    void questionMarksAndBracketsAreNotCountedAsWildcards() throws IOException {
        modulesAlias(CATCH_ALL,
                "alias vfio_pci:v000015B3d0000102?sv*sd*bc*sc*i* cx_family_vfio",
                "alias vfio_pci:v000015B3d0000101[0-9A-F]sv*sd*bc*sc*i* cx5_family_vfio",
                "alias vfio_pci:v0000[!1]5B3d*sv*sd*bc*sc*i* not_one_vfio",
                "alias vfio_pci:v0000[^1]5B3d*sv*sd*bc*sc*i* not_one_either_vfio");
        AliasIndex index = load();

        AliasMatch q = resolved(index, MLX5_MODALIAS);
        assertEquals("cx_family_vfio", q.module());
        assertEquals(5, q.wildcards());
        assertFalse(q.tie());

        AliasMatch set = resolved(index, "pci:v000015B3d0000101Bsv000015B3sd00000001bc02sc00i00");
        assertEquals("cx5_family_vfio", set.module());
        assertEquals(5, set.wildcards());

        // outside the set: falls back to the catch-all
        assertEquals("vfio_pci", resolved(index, "pci:v000015B3d0000101Gsv000015B3sd00000001bc02sc00i00").module());

        AliasMatch negated = resolved(index, "pci:v000025B3d00000001sv00000000sd00000000bc02sc00i00");
        assertEquals("not_one_vfio", negated.module());
        assertEquals(6, negated.wildcards());
        assertEquals(List.of("not_one_either_vfio"), negated.tiedWith());
    }

    // ---- other buses -----------------------------------------------------------------------------------------

    @Test
    void otherBusesResolveAndNeverCrossIntoPci() throws IOException {
        modulesAlias("alias vfio_platform:calxeda-hb-xgmac* vfio-platform-xgmac",
                "alias vfio_platform:* vfio_platform",
                "alias vfio_cdx:v00001EE1d00000001* vfio_cdx",
                MLX5);
        AliasIndex index = load();
        assertEquals(Set.of("pci", "platform", "cdx"), index.buses());

        AliasMatch xgmac = resolved(index, "platform:calxeda-hb-xgmac0");
        assertEquals("vfio_platform_xgmac", xgmac.module(), "module names normalize - to _");
        assertEquals(1, xgmac.wildcards());
        assertEquals(List.of("vfio_platform"), xgmac.tiedWith(), "vfio_platform:* has one star too");
        assertEquals("vfio_platform:calxeda_hb_xgmac*", xgmac.pattern(), "patterns normalize - to _ as kmod does");

        assertEquals("vfio_platform", resolved(index, "platform:some-other-device").module());
        assertEquals("vfio_cdx", resolved(index, "cdx:v00001EE1d00000001").module());

        // a pci device is never given a platform (or cdx) driver, however broad that alias is
        assertEquals(Optional.empty(), index.resolve(E1000E_MODALIAS));
        assertEquals("mlx5_vfio_pci", resolved(index, MLX5_MODALIAS).module());
    }

    // ---- built-in modules ------------------------------------------------------------------------------------

    @Test
    void anAliasOnlyInBuiltinModinfoResolvesAsBuiltin() throws IOException {
        modulesAlias("# Aliases extracted from modules themselves.",
                "alias pci:v00008086d000010D3sv*sd*bc*sc*i* e1000e");
        builtinModinfo("vfio_pci.license=GPL v2",
                "vfio_pci.alias=vfio_pci:v*d*sv*sd*bc*sc*i*",
                "vfio_pci.description=VFIO PCI - User Level meta-driver",
                "debugfs.alias=fs-debugfs");
        AliasIndex index = load();
        assertEquals(1, index.size());
        AliasMatch m = resolved(index, E1000E_MODALIAS);
        assertEquals("vfio_pci", m.module());
        assertTrue(m.builtin());
        assertEquals(AliasSource.BUILTIN_MODINFO, m.source());
        assertEquals(AliasSource.BUILTIN_MODINFO, index.aliases().get(0).source());
        assertEquals(2, index.aliases().get(0).line(), "the record number is the line");
        assertTrue(index.isBuiltin("vfio-pci"));
        assertTrue(index.isBuiltin("debugfs"));
        assertFalse(index.isBuiltin("e1000e"));
        assertTrue(index.isVfioModule("vfio_pci"));
        assertEquals(0, index.malformedLines(), () -> "problems " + index.problems());
    }

    @Test
    void aModuleAliasLineWinsATieWithABuiltinRecordAndKeepsItsBuiltinFlag() throws IOException {
        modulesAlias(CATCH_ALL);
        builtinModinfo("other_vfio.alias=vfio_pci:v*d*sv*sd*bc*sc*i*");
        AliasMatch m = resolved(load(), E1000E_MODALIAS);
        assertEquals("vfio_pci", m.module());
        assertFalse(m.builtin());
        assertEquals(AliasSource.MODULES_ALIAS, m.source());
        assertEquals(List.of("other_vfio"), m.tiedWith());
    }

    @Test
    void aMissingBuiltinModinfoIsFine() throws IOException {
        modulesAlias(CATCH_ALL);
        AliasIndex index = load();
        assertEquals(1, index.size());
        assertFalse(index.isBuiltin("vfio_pci"));
        assertFalse(resolved(index, E1000E_MODALIAS).builtin());
        assertEquals(0, index.malformedLines());
    }

    // ---- modprobe.d ------------------------------------------------------------------------------------------

    @Test
    void aModprobeConfAliasBeatsModulesAliasOnATie() throws IOException {
        modulesAlias(MLX5);
        conf(lib, "vendor.conf", "alias vfio_pci:v000015B3d00001021sv*sd*bc*sc*i* vendor_vfio");
        AliasMatch m = resolved(load(), MLX5_MODALIAS);
        assertEquals("vendor_vfio", m.module());
        assertEquals(AliasSource.MODPROBE_CONF, m.source());
        assertEquals(List.of("mlx5_vfio_pci"), m.tiedWith());
    }

    @Test
    void aMoreSpecificModulesAliasLineBeatsALessSpecificConfAlias() throws IOException {
        modulesAlias(MLX5);
        conf(etc, "local.conf", "alias vfio_pci:v000015B3d*sv*sd*bc*sc*i* local_vfio");
        AliasMatch m = resolved(load(), MLX5_MODALIAS);
        assertEquals("mlx5_vfio_pci", m.module());
        assertEquals(AliasSource.MODULES_ALIAS, m.source());
        assertFalse(m.tie());
    }

    @Test
    void aConfFileInEtcHidesTheSameNameInLib() throws IOException {
        modulesAlias(CATCH_ALL);
        Path etcConf = conf(etc, "vfio.conf", "alias vfio_pci:v000015B3d00001021sv*sd*bc*sc*i* admin_vfio");
        conf(lib, "vfio.conf", "alias vfio_pci:v000015B3d00001021sv*sd*bc*sc*i* packaged_vfio",
                "alias vfio_pci:v00008086d*sv*sd*bc*sc*i* packaged_intel_vfio");
        conf(lib, "other.conf", "alias vfio_platform:* packaged_platform_vfio");
        AliasIndex index = load();

        AliasMatch m = resolved(index, MLX5_MODALIAS);
        assertEquals("admin_vfio", m.module());
        assertFalse(m.tie(), "the hidden file must not even be a tie: " + m.tiedWith());
        assertFalse(index.isVfioModule("packaged_vfio"));
        assertFalse(index.isVfioModule("packaged_intel_vfio"));
        assertEquals("vfio_pci", resolved(index, E1000E_MODALIAS).module());
        // other file names in the later folder are still read
        assertTrue(index.isVfioModule("packaged_platform_vfio"));
        assertEquals(etcConf, index.aliases().stream().filter(a -> a.module().equals("admin_vfio")).findFirst()
                .orElseThrow().file());
    }

    @Test
    void confFilesAreReadInNameOrderAcrossFoldersAndOnlyIfNamedConf() throws IOException {
        modulesAlias("# nothing vfio here");
        conf(etc, "20-b.conf", "alias vfio_pci:v000015B3d*sv*sd*bc*sc*i* from_etc_20");
        conf(lib, "10-a.conf", "alias vfio_pci:v*d00001021sv*sd*bc*sc*i* from_lib_10");
        conf(run, "15-c.conf", "alias vfio_pci:v*d*sv000015B3sd*bc*sc*i* from_run_15");
        conf(etc, "00-ignored.conf.disabled", "alias vfio_pci:v*d*sv*sd00000001bc*sc*i* disabled_vfio");
        conf(etc, "README", "alias vfio_pci:v*d*sv*sd00000001bc*sc*i* readme_vfio");
        AliasIndex index = load();
        AliasMatch m = resolved(index, MLX5_MODALIAS);
        assertEquals("from_lib_10", m.module());
        assertEquals(List.of("from_run_15", "from_etc_20"), m.tiedWith());
        assertEquals(3, index.size());
        assertFalse(index.isVfioModule("disabled_vfio"));
        assertFalse(index.isVfioModule("readme_vfio"));
    }

    @Test
    void missingModprobeFoldersAreFine() throws IOException {
        modulesAlias(CATCH_ALL);
        assertFalse(Files.exists(etc));
        assertEquals(1, load().size());
    }

    @Test
    void backslashJoinsConfLines() throws IOException {
        modulesAlias(CATCH_ALL);
        Path f = conf(etc, "wrapped.conf",
                "# a wrapped alias",
                "alias \\",
                "  vfio_pci:v000015B3d00001021sv*sd*bc*sc*i* \\",
                "  wrapped_vfio",
                "alias vfio_pci:v00008086d000010D3sv*sd*bc*sc*i* after_wrapped_vfio");
        AliasIndex index = load();
        assertEquals(0, index.malformedLines(), () -> "problems " + index.problems());
        AliasMatch m = resolved(index, MLX5_MODALIAS);
        assertEquals("wrapped_vfio", m.module());
        assertEquals("vfio_pci:v000015B3d00001021sv*sd*bc*sc*i*", m.pattern());
        VfioAlias wrapped = index.aliases().stream().filter(a -> a.module().equals("wrapped_vfio")).findFirst().orElseThrow();
        assertEquals(f, wrapped.file());
        assertEquals(2, wrapped.line(), "a joined line is reported at its first physical line");
        VfioAlias after = index.aliases().stream().filter(a -> a.module().equals("after_wrapped_vfio")).findFirst().orElseThrow();
        assertEquals(5, after.line(), "line numbers after a joined line stay physical");
        assertEquals("after_wrapped_vfio", resolved(index, E1000E_MODALIAS).module());
    }

    // ---- malformed input -------------------------------------------------------------------------------------

    @Test
    void malformedLinesInEverySourceAreSkippedCountedAndLocated() throws IOException {
        Path conf = conf(etc, "bad.conf",
                "# comment",
                "alias vfio_pci:v0000AAAAd*sv*sd*bc*sc*i* good_conf_vfio",
                "alias vfio_pci:v0000BBBBd*sv*sd*bc*sc*i*",
                "frobnicate vfio_pci",
                "options vfio_pci ids=15b3:1021",
                "blacklist nouveau",
                "softdep mlx5_vfio_pci pre: mlx5_core");
        Path alias = modulesAlias("# Aliases extracted from modules themselves.",
                "alias pci:v00008086d000010D3sv*sd*bc*sc*i* e1000e",
                "this is not an alias",
                CATCH_ALL,
                "alias vfio_pci:v0000CCCCd*sv*sd*bc*sc*i*",
                "alias pci:v*d* too many tokens",
                "alias vfio_pci:v0000DDDD]d* unbalanced_vfio",
                "alias vfio_pci:v0000EEEEd*sv*sd*bc*sc*i* bad/module",
                "alias",
                "",
                "   ",
                "alias vfio_pci:v0000FFFFd*sv*sd*bc*sc*i* last_good_vfio");
        Path modinfo = builtinModinfo("vfio_pci_core.license=GPL",
                "garbage",
                "foo_vfio.alias=vfio_pci:v00001234d*sv*sd*bc*sc*i*",
                ".alias=vfio_pci:v*",
                "bar.=x");
        AliasIndex index = load();

        assertEquals(2 + 6 + 3, index.malformedLines(), () -> "problems " + problemTexts(index));
        assertEquals(index.malformedLines(), index.problems().size());
        assertHasProblem(index, conf, 3);
        assertHasProblem(index, conf, 4);
        for (int line : new int[] {3, 5, 6, 7, 8, 9}) assertHasProblem(index, alias, line);
        for (int record : new int[] {2, 4, 5}) assertHasProblem(index, modinfo, record);

        // everything else is still indexed
        assertEquals(List.of("good_conf_vfio", "vfio_pci", "last_good_vfio", "foo_vfio"),
                index.aliases().stream().map(VfioAlias::module).toList());
        assertEquals("good_conf_vfio", resolved(index, "pci:v0000AAAAd00000001sv00000000sd00000000bc02sc00i00").module());
        assertEquals("last_good_vfio", resolved(index, "pci:v0000FFFFd00000001sv00000000sd00000000bc02sc00i00").module());
        assertTrue(resolved(index, "pci:v00001234d00000001sv00000000sd00000000bc02sc00i00").builtin());
        assertEquals("vfio_pci", resolved(index, "pci:v0000CCCCd00000001sv00000000sd00000000bc02sc00i00").module());
        assertFalse(index.isVfioModule("unbalanced_vfio"));
        assertTrue(index.isBuiltin("vfio_pci_core"));
    }

    @Test
    void manyMalformedLinesAreAllCounted() throws IOException {
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < 150; i++) lines.add("junk line " + i);
        lines.add(CATCH_ALL);
        modulesAlias(lines.toArray(String[]::new));
        AliasIndex index = load();
        assertEquals(150, index.malformedLines());
        assertFalse(index.problems().isEmpty());
        assertTrue(index.problems().size() <= 150);
        assertEquals("vfio_pci", resolved(index, E1000E_MODALIAS).module());
    }

    @Test
    void crlfLineEndingsAndTabsAreTolerated() throws IOException {
        write(modulesDir.resolve("modules.alias"),
                "# header\r\nalias\tvfio_pci:v*d*sv*sd*bc*sc*i*\tvfio_pci\r\nalias pci:v*d* e1000e\r\n");
        AliasIndex index = load();
        assertEquals(0, index.malformedLines(), () -> "problems " + index.problems());
        AliasMatch m = resolved(index, E1000E_MODALIAS);
        assertEquals("vfio_pci", m.module());
        assertEquals("vfio_pci:v*d*sv*sd*bc*sc*i*", m.pattern());
    }

    @Test
    void binaryGarbageNeverCrashesTheLoader() throws IOException {
        Random random = new Random(42);
        for (int round = 0; round < 50; round++) {
            byte[] junk = new byte[2000];
            random.nextBytes(junk);
            byte[] vfioish = ("alias vfio_pci:v[*]?\\" + round + " x\n").getBytes(StandardCharsets.ISO_8859_1);
            Files.write(modulesDir.resolve("modules.alias"), concat(junk, vfioish, junk));
            Files.write(modulesDir.resolve("modules.builtin.modinfo"), concat(vfioish, junk));
            conf(etc, "junk.conf");
            Files.write(etc.resolve("junk.conf"), concat(junk, vfioish));
            AliasIndex index = load();
            index.resolve(MLX5_MODALIAS);
            index.resolve("pci:v[]]*\\");
        }
    }

    private static byte[] concat(byte[]... parts) {
        int n = 0;
        for (byte[] p : parts) n += p.length;
        byte[] all = new byte[n];
        int at = 0;
        for (byte[] p : parts) {
            System.arraycopy(p, 0, all, at, p.length);
            at += p.length;
        }
        return all;
    }

    // ---- unreadable sources ----------------------------------------------------------------------------------

    @Test
    void aMissingModulesAliasIsAnErrorNamingIt() {
        Path expected = modulesDir.resolve("modules.alias");
        AliasSourceException e = assertThrows(AliasSourceException.class, this::load);
        assertEquals(expected, e.file());
        assertTrue(e.getMessage().contains(expected.toString()), e.getMessage());
    }

    @Test
    void aFolderWhereModulesAliasShouldBeIsAnErrorNamingIt() throws IOException {
        Path dir = Files.createDirectories(modulesDir.resolve("modules.alias"));
        AliasSourceException e = assertThrows(AliasSourceException.class, this::load);
        assertEquals(dir, e.file());
        assertTrue(e.getMessage().contains(dir.toString()), e.getMessage());
    }

    @Test
    void aFolderWhereBuiltinModinfoShouldBeIsAnErrorNamingIt() throws IOException {
        modulesAlias(CATCH_ALL);
        Path dir = Files.createDirectories(modulesDir.resolve("modules.builtin.modinfo"));
        AliasSourceException e = assertThrows(AliasSourceException.class, this::load);
        assertEquals(dir, e.file());
        assertTrue(e.getMessage().contains(dir.toString()), e.getMessage());
    }

    @Test
    void aFolderNamedLikeAConfFileIsAnErrorNamingIt() throws IOException {
        modulesAlias(CATCH_ALL);
        Path dir = Files.createDirectories(etc.resolve("odd.conf"));
        AliasSourceException e = assertThrows(AliasSourceException.class, this::load);
        assertEquals(dir, e.file());
        assertTrue(e.getMessage().contains(dir.toString()), e.getMessage());
    }

    @Test
    void anUnreadableModulesAliasIsAnErrorNamingIt() throws IOException {
        Path f = modulesAlias(CATCH_ALL);
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("---------"));
        try {
            assumeFalse(Files.isReadable(f), "running as root: permissions do not stop reading");
            AliasSourceException e = assertThrows(AliasSourceException.class, this::load);
            assertTrue(e.getMessage().contains(f.toString()), e.getMessage());
        } finally {
            Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-r--r--"));
        }
    }

    @Test
    void anUnlistableModprobeFolderIsAnErrorNamingIt() throws IOException {
        modulesAlias(CATCH_ALL);
        conf(etc, "x.conf", CATCH_ALL);
        Files.setPosixFilePermissions(etc, PosixFilePermissions.fromString("---------"));
        try {
            assumeFalse(Files.isReadable(etc), "running as root: permissions do not stop reading");
            AliasSourceException e = assertThrows(AliasSourceException.class, this::load);
            assertTrue(e.getMessage().contains(etc.toString()), e.getMessage());
        } finally {
            Files.setPosixFilePermissions(etc, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
    }

    // ---- lookups ---------------------------------------------------------------------------------------------

    @Test
    void noMatchIsEmpty() throws IOException {
        modulesAlias(MLX5, "alias pci:v*d*sv*sd*bc*sc*i* not_vfio");
        AliasIndex index = load();
        assertEquals(Optional.empty(), index.resolve(E1000E_MODALIAS));
        assertEquals(Optional.empty(), index.resolve(""));
        assertEquals(Optional.empty(), index.resolve("pci:v000015B3d00001021]"), "unbalanced brackets");
        assertEquals(Optional.empty(), AliasIndex.load(AliasSources.forModulesDir(emptyModulesDir(), List.of()))
                .resolve(MLX5_MODALIAS));
    }

    private Path emptyModulesDir() throws IOException {
        Path dir = Files.createDirectories(root.resolve("empty"));
        write(dir.resolve("modules.alias"), "");
        return dir;
    }

    @Test
    void isVfioModuleAcceptsDashesAndUnderscores() throws IOException {
        modulesAlias(CATCH_ALL, MLX5, "alias pci:v00008086d000010D3sv*sd*bc*sc*i* e1000e");
        AliasIndex index = load();
        assertTrue(index.isVfioModule("vfio_pci"));
        assertTrue(index.isVfioModule("vfio-pci"));
        assertTrue(index.isVfioModule("mlx5-vfio-pci"));
        assertFalse(index.isVfioModule("e1000e"));
        assertFalse(index.isVfioModule("vfio"));
        assertFalse(index.isVfioModule("vfio_pci_core"));
    }

    @Test
    void aModuleDrivesOnlyWhatItsOwnAliasesMatch() throws IOException {
        modulesAlias(CATCH_ALL, MLX5, "alias pci:v00008086d000010D3sv*sd*bc*sc*i* e1000e");
        AliasIndex index = load();
        assertTrue(index.drives("mlx5-vfio-pci", MLX5_MODALIAS));
        assertFalse(index.drives("mlx5_vfio_pci", E1000E_MODALIAS), "the catch-all's match is not the variant's");
        assertTrue(index.drives("vfio-pci", E1000E_MODALIAS));
        assertTrue(index.drives("vfio_pci", MLX5_MODALIAS));
        assertFalse(index.drives("e1000e", E1000E_MODALIAS), "only vfio_ aliases count");
    }

    @Test
    void onlyVfioAliasesAreKept() throws IOException {
        modulesAlias("# Aliases extracted from modules themselves.",
                "alias pci:v00008086d000010D3sv*sd*bc*sc*i* e1000e",
                "alias devname:vfio/vfio vfio",
                "alias char-major-10-196 vfio",
                CATCH_ALL,
                "alias usb:v0BDAp8187d01[0-9][0-9]dc*dsc*dp*ic*isc*ip*in* rtl8187",
                "alias platform:vfio_fake vfio_fake",
                MLX5);
        builtinModinfo("debugfs.alias=fs-debugfs", "ext4.alias=fs-ext4");
        conf(etc, "aliases.conf", "alias my-nic e1000e", "alias vfio_pci:v00008086d*sv*sd*bc*sc*i* intel_vfio");
        AliasIndex index = load();
        assertEquals(3, index.size());
        assertEquals(List.of("intel_vfio", "vfio_pci", "mlx5_vfio_pci"),
                index.aliases().stream().map(VfioAlias::module).toList());
        for (VfioAlias a : index.aliases()) assertTrue(a.pattern().startsWith(AliasIndex.VFIO_PREFIX), a.pattern());
        assertEquals(0, index.malformedLines(), () -> "problems " + index.problems());
        assertEquals(List.of(0, 1, 2), index.aliases().stream().map(VfioAlias::order).toList());
    }
}
