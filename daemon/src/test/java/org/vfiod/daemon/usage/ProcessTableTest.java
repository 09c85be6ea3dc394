package org.vfiod.daemon.usage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ProcessTableTest {
    @TempDir
    Path dir;

    @Test
    void everyProcessIsSeenWhicheverOfTheTwoThreadsTakesIt() throws IOException {
        FakeHost host = new FakeHost(dir);
        for (int pid = 1; pid <= 41; pid++) {
            host.process(pid, "p" + pid, FakeHost.HOST_NAMESPACE);
            for (int fd = 0; fd < 10; fd++) host.open(pid, fd, fd == 7 ? "/dev/dri/card1" : "socket:[" + (pid * 100 + fd) + "]");
        }
        ProcessScan scan = new ProcessTable(host.proc).scan(Set.of("/dev/dri/card1", "/dev/dri/card2"));
        assertEquals(Set.of("/dev/dri/card1"), scan.openers().keySet());
        assertEquals(41, scan.openers().get("/dev/dri/card1").size());
        assertEquals(1, scan.openers().get("/dev/dri/card1").get(0));
        assertEquals(41, scan.openers().get("/dev/dri/card1").get(40));
    }

    @Test
    void onlyWholeTargetsMatchNotTheirPrefixesOrLongerNamesOfTheSameLength() throws IOException {
        FakeHost host = new FakeHost(dir);
        host.process(10, "a", FakeHost.HOST_NAMESPACE);
        host.open(10, 0, "/dev/dri/card1");
        host.open(10, 1, "/dev/dri/card10");
        host.open(10, 2, "/dev/dri/cardX");
        host.open(10, 3, "/dev/dri/card");
        host.process(11, "b", FakeHost.HOST_NAMESPACE);
        host.open(11, 0, "/dev/dri/card2");
        host.open(11, 1, "/" + "x".repeat(300));
        ProcessScan scan = new ProcessTable(host.proc).scan(Set.of("/dev/dri/card1", "/dev/dri/card2"));
        assertEquals(Map.of("/dev/dri/card1", List.of(10), "/dev/dri/card2", List.of(11)), scan.openers());
    }

    @Test
    void aProcessWithoutDescriptorsToShowAndEntriesThatAreNoPidsAreSkipped() throws IOException {
        FakeHost host = new FakeHost(dir);
        host.process(10, "zombie", FakeHost.HOST_NAMESPACE);
        Files.delete(host.proc.resolve("10/fd"));
        host.process(11, "a", FakeHost.HOST_NAMESPACE);
        host.open(11, 0, "/dev/dri/card1");
        Files.createDirectories(host.proc.resolve("sys/fd"));
        Files.createSymbolicLink(host.proc.resolve("sys/fd/0"), Path.of("/dev/dri/card1"));
        Files.createSymbolicLink(host.proc.resolve("thread-self"), Path.of("11/task/11"));
        ProcessScan scan = new ProcessTable(host.proc).scan(Set.of("/dev/dri/card1"));
        assertEquals(Map.of("/dev/dri/card1", List.of(11)), scan.openers());
    }

    /** As the kernel answers a reader without CAP_DAC_READ_SEARCH for another user's process (root passes mode 000). */
    static ProcessTable.FdFolders refusing(Set<Integer> pids) {
        return (procFd, name, pid) -> pids.contains(pid) ? -Syscalls.EACCES : ProcessTable.FdFolders.KERNEL.open(procFd, name, pid);
    }

    @Test
    void aProcessThatWillNotShowItsDescriptorsIsCountedNotJustSkipped() throws IOException {
        FakeHost host = new FakeHost(dir);
        host.process(10, "a", FakeHost.HOST_NAMESPACE);
        host.open(10, 0, "/dev/dri/card1");
        host.process(11, "qemu", FakeHost.HOST_NAMESPACE);
        host.open(11, 0, "/dev/dri/card1");
        host.process(12, "exited", FakeHost.HOST_NAMESPACE);
        Files.delete(host.proc.resolve("12/fd"));
        ProcessScan scan = new ProcessTable(host.proc, refusing(Set.of(11))).scan(Set.of("/dev/dri/card1"));
        assertEquals(Map.of("/dev/dri/card1", List.of(10)), scan.openers());
        assertEquals(1, scan.denied(), "the refused process, not the one that exited");
        assertEquals(3, scan.processes());

        ProcessScan all = new ProcessTable(host.proc).scan(Set.of("/dev/dri/card1"));
        assertEquals(Map.of("/dev/dri/card1", List.of(10, 11)), all.openers());
        assertEquals(0, all.denied());
    }

    @Test
    void eachMountNamespaceKeepsItsFirstFewPids() throws IOException {
        FakeHost host = new FakeHost(dir);
        for (int pid = 1; pid <= 9; pid++) host.process(pid, "p", pid % 3 == 0 ? "mnt:[2]" : "mnt:[1]");
        ProcessScan scan = new ProcessTable(host.proc).scan(Set.of());
        assertEquals(Set.of("mnt:[1]", "mnt:[2]"), scan.mountNamespaces().keySet());
        assertEquals(List.of(3, 6, 9), scan.mountNamespaces().get("mnt:[2]"));
        List<Integer> first = scan.mountNamespaces().get("mnt:[1]");
        assertTrue(first.size() >= 2 && first.size() <= 6 && first.contains(1) && first.contains(2), first.toString());
        assertEquals(List.of(), scan.openers().keySet().stream().toList());
    }

    @Test
    void aProcessWithThousandsOfDescriptorsIsReadToTheEndOfItsFolder() throws IOException {
        FakeHost host = new FakeHost(dir);
        host.process(10, "postgres", FakeHost.HOST_NAMESPACE);
        // 3,000 records of 24 bytes (a name of up to 4 digits) fill more than one 64 KiB read; every one is wanted,
        // for the folder's order is its hash order, not the descriptors'
        Set<String> wanted = new java.util.HashSet<>();
        for (int fd = 0; fd < 3_000; fd++) {
            host.open(10, fd, "/dev/n" + fd);
            wanted.add("/dev/n" + fd);
        }
        ProcessScan scan = new ProcessTable(host.proc).scan(wanted);
        assertEquals(wanted, scan.openers().keySet());
    }

    @Test
    void aProcWithManyProcessesNeedsSeveralDirectoryReads() throws IOException {
        FakeHost host = new FakeHost(dir);
        // 64 KiB of getdents64 records hold 2,048 records of this length (32 bytes each): 2,100 need a second read
        for (int pid = 100_000; pid < 102_100; pid++) Files.createDirectories(host.proc.resolve(Integer.toString(pid)).resolve("fd"));
        host.open(102_099, 0, "/dev/fb0");
        host.open(100_000, 0, "/dev/fb0");
        ProcessScan scan = new ProcessTable(host.proc).scan(Set.of("/dev/fb0"));
        assertEquals(Map.of("/dev/fb0", List.of(100_000, 102_099)), scan.openers());
    }
}
