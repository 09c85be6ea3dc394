package org.vfiod.daemon.state;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
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
}
