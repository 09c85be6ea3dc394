package org.vfiod.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code vfiod resolve} against temporary modules folders: its columns and exit codes. */
class ResolveCommandTest {
    static final String MLX5_MODALIAS = "pci:v000015B3d00001021sv000015B3sd00000001bc02sc00i00";
    static final String E1000E_MODALIAS = "pci:v00008086d000010D3sv00008086sd00000000bc02sc00i00";
    static final String NVIDIA_MODALIAS = "pci:v000010DEd00002204sv000010DEsd00001454bc03sc00i00";
    static final String USB_MODALIAS = "usb:v0BDAp8187d0142dc00dsc00dp00ic00isc00ip00in00";

    @TempDir
    Path root;
    Path modulesDir;
    Path modprobeDir;

    /** What one run printed. */
    record Run(int exit, List<String> out, String err) {
    }

    @BeforeEach
    void layout() throws IOException {
        modulesDir = Files.createDirectories(root.resolve("modules"));
        modprobeDir = Files.createDirectories(root.resolve("modprobe.d"));
        Files.writeString(modulesDir.resolve("modules.alias"), String.join("\n",
                "# Aliases extracted from modules themselves.",
                "alias pci:v00008086d000010D3sv*sd*bc*sc*i* e1000e",
                "alias vfio_pci:v*d*sv*sd*bc*sc*i* vfio_pci",
                "alias vfio_pci:v000015B3d00001021sv*sd*bc*sc*i* mlx5_vfio_pci",
                "alias vfio_pci:v000010DEd*sv*sd*bc03sc*i* nvgrace_gpu_vfio_pci",
                "alias vfio_pci:v*d00002204sv*sd*bc03sc*i* other_gpu_vfio_pci") + "\n");
    }

    /** Runs with the temporary folders; the host's /etc/modprobe.d and /lib/modules are never read. */
    Run resolve(String... modaliases) {
        List<String> args = new ArrayList<>(List.of("--modules-dir", modulesDir.toString(),
                "--modprobe-dir", modprobeDir.toString()));
        args.addAll(Arrays.asList(modaliases));
        return run(args);
    }

    static Run run(List<String> args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        int exit;
        try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
             PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8)) {
            exit = ResolveCommand.run(args, o, e);
        }
        return new Run(exit, out.toString(StandardCharsets.UTF_8).lines().toList(), err.toString(StandardCharsets.UTF_8));
    }

    static List<String> columns(String line) {
        return List.of(line.split("\t", -1));
    }

    @Test
    void aMatchPrintsModulePatternWildcardsKindAndNoTie() {
        Run r = resolve(MLX5_MODALIAS);
        assertEquals(0, r.exit(), r.err());
        assertEquals(1, r.out().size(), () -> "out " + r.out());
        assertEquals(List.of(MLX5_MODALIAS, "mlx5_vfio_pci", "vfio_pci:v000015B3d00001021sv*sd*bc*sc*i*", "wildcards=5",
                "module", "no-tie"), columns(r.out().get(0)));
        assertEquals("", r.err());
    }

    @Test
    void theCatchAllMatchHasSevenWildcards() {
        Run r = resolve(E1000E_MODALIAS);
        assertEquals(0, r.exit(), r.err());
        assertEquals(List.of(E1000E_MODALIAS, "vfio_pci", "vfio_pci:v*d*sv*sd*bc*sc*i*", "wildcards=7", "module", "no-tie"),
                columns(r.out().get(0)));
    }

    @Test
    void aTieNamesTheModulesThatLost() {
        Run r = resolve(NVIDIA_MODALIAS);
        assertEquals(0, r.exit(), r.err());
        assertEquals(List.of(NVIDIA_MODALIAS, "nvgrace_gpu_vfio_pci", "vfio_pci:v000010DEd*sv*sd*bc03sc*i*", "wildcards=5",
                "module", "tie:other_gpu_vfio_pci"), columns(r.out().get(0)));
    }

    @Test
    void aTieWithSeveralModulesListsThemCommaSeparated() throws IOException {
        Files.writeString(modprobeDir.resolve("gpu.conf"), "alias vfio_pci:v000010DEd00002204sv*sd*bc03sc*i* admin_gpu_vfio\n"
                + "alias vfio_pci:v*d00002204sv000010DEsd*bc03sc*i* admin_gpu2_vfio\n"
                + "alias vfio_pci:v*d00002204sv*sd00001454bc03sc*i* admin_gpu3_vfio\n");
        Run r = resolve(NVIDIA_MODALIAS);
        assertEquals(0, r.exit(), r.err());
        List<String> c = columns(r.out().get(0));
        assertEquals("admin_gpu_vfio", c.get(1));
        assertEquals("wildcards=4", c.get(3));
        assertEquals("tie:admin_gpu2_vfio,admin_gpu3_vfio", c.get(5));
    }

    @Test
    void aBuiltinModuleIsMarkedBuiltin() throws IOException {
        Files.writeString(modulesDir.resolve("modules.builtin.modinfo"),
                "vfio_pci.license=GPL v2\0vfio_pci.alias=vfio_pci:v*d*sv*sd*bc*sc*i*\0");
        Run r = resolve(E1000E_MODALIAS);
        assertEquals(0, r.exit(), r.err());
        List<String> c = columns(r.out().get(0));
        assertEquals("vfio_pci", c.get(1));
        assertEquals("builtin", c.get(4));
        assertEquals("no-tie", c.get(5), "the built-in record and the modules.alias line name the same module");
    }

    @Test
    void noMatchPrintsNoneAndExitsOne() {
        Run r = resolve(USB_MODALIAS);
        assertEquals(1, r.exit());
        assertEquals(List.of(USB_MODALIAS + "\tnone\t-\t-\t-\t-"), r.out());
        assertEquals(List.of(USB_MODALIAS, "none", "-", "-", "-", "-"), columns(r.out().get(0)));
    }

    @Test
    void someResolvedSomeNotExitsOneAndPrintsEveryLineInOrder() {
        Run r = resolve(E1000E_MODALIAS, USB_MODALIAS, MLX5_MODALIAS);
        assertEquals(1, r.exit());
        assertEquals(3, r.out().size(), () -> "out " + r.out());
        assertEquals("vfio_pci", columns(r.out().get(0)).get(1));
        assertEquals("none", columns(r.out().get(1)).get(1));
        assertEquals("mlx5_vfio_pci", columns(r.out().get(2)).get(1));
    }

    @Test
    void allResolvedExitsZero() {
        Run r = resolve(E1000E_MODALIAS, MLX5_MODALIAS, NVIDIA_MODALIAS);
        assertEquals(0, r.exit(), r.err());
        assertEquals(3, r.out().size());
    }

    @Test
    void aMissingModulesAliasExitsTwoNamingTheFile() throws IOException {
        Path empty = Files.createDirectories(root.resolve("no-modules"));
        Run r = run(List.of("--modules-dir", empty.toString(), "--modprobe-dir", modprobeDir.toString(), E1000E_MODALIAS));
        assertEquals(2, r.exit());
        assertEquals(List.of(), r.out());
        assertTrue(r.err().contains(empty.resolve("modules.alias").toString()), r.err());
    }

    @Test
    void anUnreadableModulesAliasExitsTwo() throws IOException {
        Path odd = Files.createDirectories(root.resolve("odd"));
        Files.createDirectories(odd.resolve("modules.alias"));
        Run r = run(List.of("--modules-dir", odd.toString(), "--modprobe-dir", modprobeDir.toString(), E1000E_MODALIAS));
        assertEquals(2, r.exit());
        assertTrue(r.err().contains(odd.resolve("modules.alias").toString()), r.err());
    }

    @Test
    void malformedLinesAreReportedOnStderrButDoNotChangeTheExitCode() throws IOException {
        Files.writeString(modprobeDir.resolve("broken.conf"), "alias vfio_pci:v*\nfrobnicate\n");
        Run r = resolve(MLX5_MODALIAS);
        assertEquals(0, r.exit());
        assertEquals("mlx5_vfio_pci", columns(r.out().get(0)).get(1));
        assertTrue(r.err().contains("skipped 2 malformed line(s)"), r.err());
        assertTrue(r.err().contains(modprobeDir.resolve("broken.conf") + ":1"), r.err());
    }

    @Test
    void modprobeDirsAreReadInTheOrderGiven() throws IOException {
        Path etc = Files.createDirectories(root.resolve("etc"));
        Path lib = Files.createDirectories(root.resolve("lib"));
        Files.writeString(etc.resolve("vfio.conf"), "alias vfio_pci:v00008086d000010D3sv*sd*bc*sc*i* admin_vfio\n");
        Files.writeString(lib.resolve("vfio.conf"), "alias vfio_pci:v00008086d000010D3sv*sd*bc*sc*i* packaged_vfio\n");
        Run r = run(List.of("--modules-dir", modulesDir.toString(), "--modprobe-dir", etc.toString(),
                "--modprobe-dir", lib.toString(), E1000E_MODALIAS));
        assertEquals(0, r.exit(), r.err());
        assertEquals(List.of(E1000E_MODALIAS, "admin_vfio", "vfio_pci:v00008086d000010D3sv*sd*bc*sc*i*", "wildcards=5",
                "module", "no-tie"), columns(r.out().get(0)));
    }

    @Test
    void anUnknownOptionIsAUsageError() {
        Run r = resolve("--frobnicate", E1000E_MODALIAS);
        assertEquals(64, r.exit());
        assertEquals(List.of(), r.out());
        assertTrue(r.err().contains("unknown option --frobnicate"), r.err());
        assertTrue(r.err().contains("usage:"), r.err());
    }

    @Test
    void otherUsageErrorsExit64() {
        assertEquals(64, run(List.of()).exit());
        assertEquals(64, run(List.of("--modules-dir", modulesDir.toString(), "--modprobe-dir", modprobeDir.toString())).exit());
        assertEquals(64, run(List.of(E1000E_MODALIAS, "--modules-dir")).exit());
        assertEquals(64, run(List.of(E1000E_MODALIAS, "--modprobe-dir")).exit());
        assertEquals(64, run(List.of("-x", E1000E_MODALIAS)).exit());
    }

    @Test
    void helpExitsZeroOnStdout() {
        for (String h : List.of("-h", "--help")) {
            Run r = run(List.of(h));
            assertEquals(0, r.exit());
            assertTrue(r.out().get(0).startsWith("usage: vfiod resolve"), () -> "out " + r.out());
            assertEquals("", r.err());
        }
    }
}
