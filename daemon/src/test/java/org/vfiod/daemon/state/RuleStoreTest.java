package org.vfiod.daemon.state;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.vfiod.daemon.sysfs.DriverName;
import org.vfiod.daemon.sysfs.DeviceName;
import org.vfiod.daemon.sysfs.PciAddress;

/** A rule change and its undo: the folder, and the rules read from it, end as they were before the change. */
class RuleStoreTest {
    private static final DeviceName NIC = PciAddress.require("0000:03:00.0").toDeviceName();
    private static final String BY_HAND = "# written by an admin\nmatch address 0000:03:00.0\ndriver vfio-pci\n";

    @TempDir
    Path config;
    RuleStore store;
    Path file;

    @BeforeEach
    void setUp() {
        store = new RuleStore(config);
        file = RuleStore.addressFile(store.folder(), NIC);
    }

    private List<Path> folder() throws Exception {
        try (Stream<Path> files = Files.list(store.folder())) {
            return files.sorted().toList();
        }
    }

    @Test
    void undoingANewRuleRemovesItAgain() throws Exception {
        RuleChange change = store.persist(NIC, Optional.empty(), true);
        assertFalse(change.existedBefore());
        assertEquals(1, store.current().rules().size());
        change.undo();
        assertFalse(Files.exists(file));
        assertEquals(List.of(), folder(), "no temporary file is left behind");
        assertEquals(List.of(), store.current().rules());
    }

    @Test
    void undoingAReplacedRuleBringsBackTheOldTextByteForByte() throws Exception {
        Files.createDirectories(store.folder());
        Files.writeString(file, BY_HAND);
        store.reload();
        RuleChange change = store.persist(NIC, Optional.of(new DriverName("vfio-pci")), true);
        assertTrue(change.existedBefore());
        assertTrue(store.current().rules().get(0).group());
        change.undo();
        assertEquals(BY_HAND, Files.readString(file));
        assertEquals(List.of(file), folder());
        assertFalse(store.current().rules().get(0).group(), "the rules are read again after the undo");
    }

    @Test
    void undoingAForgetPutsTheRuleBack() throws Exception {
        Files.createDirectories(store.folder());
        Files.writeString(file, BY_HAND);
        store.reload();
        RuleChange change = store.forget(NIC);
        assertTrue(change.existedBefore());
        assertEquals(List.of(), store.current().rules());
        change.undo();
        assertEquals(BY_HAND, Files.readString(file));
        assertEquals(1, store.current().rules().size());
    }

    @Test
    void undoingAForgetOfNoRuleLeavesNoRule() throws Exception {
        RuleChange change = store.forget(NIC);
        assertFalse(change.existedBefore());
        change.undo();
        assertFalse(Files.exists(file));
        assertEquals(List.of(), store.current().rules());
    }

    // ---- what the folder may hold: anything root (or a mistake) put there -----------------------------------

    private static final String GOOD = "match address 0000:03:00.0\n";
    private static final String HASH = "$6$Zq9SecretSaltX$SECRETHASHabcdefghijklmnopqrstuvwxyz0123456789";

    /** Loads the folder with one good rule beside {@code odd}; returns the log, after checking the good rule still loads. */
    private String loadBesideAGoodRule(String odd) throws Exception {
        Files.createDirectories(store.folder());
        Files.writeString(store.folder().resolve("good.conf"), GOOD);
        try (LoggedLines log = new LoggedLines(RuleStore.class)) {
            RuleStore.Loaded loaded = store.reload();
            assertEquals(1, loaded.rules().size(), loaded.toString());
            assertTrue(loaded.problems().stream().anyMatch(p -> p.file().getFileName().toString().equals(odd)), loaded.problems().toString());
            for (String line : log.lines()) assertFalse(line.contains("\n"), "one log line is one line: " + line);
            return log.all();
        }
    }

    @Test
    void aLinkIsNotFollowedAndWhatItPointsToNeverReachesTheLog(@TempDir Path elsewhere) throws Exception {
        Path shadow = Files.writeString(elsewhere.resolve("shadow"), "root:" + HASH + ":19000:0:99999:7:::\nalice:" + HASH + ":19000::::::\n");
        Files.createDirectories(store.folder());
        Files.createSymbolicLink(store.folder().resolve("shadow.conf"), shadow);
        String log = loadBesideAGoodRule("shadow.conf");
        assertTrue(log.contains("shadow.conf: is a symbolic link, which is not followed"), log);
        assertEquals(1, log.lines().count(), log);
        assertFalse(log.contains("root") || log.contains("SECRET"), log);
    }

    @Test
    void aFileThatIsNoRuleIsEchoedNoFurtherThanAShortExcerptOfItsFirstLines() throws Exception {
        StringBuilder copy = new StringBuilder();
        for (int i = 0; i < 30; i++) copy.append("user").append(i).append(':').append(HASH).append(":19000:0:99999:7:::\n");
        Files.createDirectories(store.folder());
        Files.writeString(store.folder().resolve("shadow-copy.conf"), copy);
        String log = loadBesideAGoodRule("shadow-copy.conf");
        assertFalse(log.contains("SECRET"), log);
        assertFalse(log.contains("user3:"), "three mistakes, then the file is not read further:\n" + log);
        assertTrue(log.contains("shadow-copy.conf:1: unknown keyword 'user0:$6$Zq9SecretSaltX$...'"), log);
        assertTrue(log.contains("shadow-copy.conf:4: and the rest of the file is not read"), log);
    }

    @Test
    void aFileLargerThanARuleCanBeIsNotRead() throws Exception {
        Files.createDirectories(store.folder());
        // sparse: 188 MB that take no disk
        try (RandomAccessFile big = new RandomAccessFile(store.folder().resolve("big.conf").toFile(), "rw")) {
            big.setLength(188L << 20);
        }
        String log = loadBesideAGoodRule("big.conf");
        assertTrue(log.contains("big.conf: is 197132288 bytes, more than a rule file may have (65536)"), log);
    }

    @Test
    @Timeout(value = 20, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void aLinkToADeviceIsNotOpened() throws Exception {
        Files.createDirectories(store.folder());
        Files.createSymbolicLink(store.folder().resolve("zero.conf"), Path.of("/dev/zero"));
        String log = loadBesideAGoodRule("zero.conf");
        assertTrue(log.contains("zero.conf: is a symbolic link, which is not followed"), log);
    }

    @Test
    @Timeout(value = 20, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void aFifoDoesNotHoldTheLoad() throws Exception {
        Files.createDirectories(store.folder());
        Path fifo = store.folder().resolve("fifo.conf");
        assertEquals(0, new ProcessBuilder("mkfifo", fifo.toString()).inheritIO().start().waitFor());
        long t0 = System.nanoTime();
        String log = loadBesideAGoodRule("fifo.conf");
        assertTrue(System.nanoTime() - t0 < 5_000_000_000L, "the load waited on the FIFO");
        assertTrue(log.contains("fifo.conf: is not a regular file, so it is not read"), log);
    }

    @Test
    void aNameOrLineWithControlCharactersStaysOnOneLogLine() throws Exception {
        Files.createDirectories(store.folder());
        String name = "x\nWARN RuleStore: forged\u001b[31m.conf";
        Files.writeString(store.folder().resolve(name), "match address 0000:03:00.0\u001b[2J\r\nmatch\u0007 id\n");
        String log = loadBesideAGoodRule(name);
        assertTrue(log.contains("x\\x0aWARN RuleStore: forged\\x1b[31m.conf:1: '0000:03:00.0\\x1b[2J' is not a PCI address"), log);
        assertFalse(log.contains("\u001b") || log.contains("\u0007") || log.contains("\r"), log);
    }
}
