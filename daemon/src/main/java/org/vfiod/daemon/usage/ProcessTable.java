package org.vfiod.daemon.usage;

import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * One pass over every process of a {@code /proc}: which of them have a descriptor on one of the wanted targets,
 * and which mount namespaces there are.
 *
 * <p>A machine has some 10,000 processes and 200,000 descriptors, and each descriptor is one {@code readlinkat}.
 * What makes the pass fast is what it does not do: no {@code Path} or {@code String} per descriptor (names are
 * read by {@code getdents64} into a native buffer and passed back to {@code readlinkat} in place; a link's text is
 * compared as bytes, first by length), every target checked in the same pass, and the processes shared between the
 * caller's thread and one of the common pool.
 */
final class ProcessTable {
    /** Pids kept per mount namespace: one whose mount table can be read, with spares for one that exits first. */
    private static final int PIDS_PER_NAMESPACE = 3;
    private static final int DIRENTS_SIZE = 64 * 1024;
    /** In a {@code struct linux_dirent64}: after d_ino (8) and d_off (8), d_reclen (2), d_type (1), d_name. */
    private static final int DIRENT_RECLEN = 16;
    private static final int DIRENT_NAME = 19;
    /** The largest record: the header, a 255-byte name and its NUL, aligned to 8. */
    private static final int DIRENT_MAX = (DIRENT_NAME + 256 + 7) & ~7;

    private final Path procRoot;
    private final FdFolders fdFolders;

    /**
     * Opens a process's {@code fd} folder: a descriptor, or the errno negated. The seam is here because the tests
     * run as root, which no mode bits keep out, and the refusal to test is the one a vfiod without
     * CAP_DAC_READ_SEARCH gets from another user's process.
     */
    interface FdFolders {
        int open(int procFd, long name, int pid);

        FdFolders KERNEL = (procFd, name, pid) -> {
            int fd = Syscalls.openat(procFd, name, Syscalls.O_RDONLY | Syscalls.O_DIRECTORY | Syscalls.O_CLOEXEC);
            return fd >= 0 ? fd : -Native.getLastError();
        };
    }

    ProcessTable(Path procRoot) {
        this(procRoot, FdFolders.KERNEL);
    }

    ProcessTable(Path procRoot, FdFolders fdFolders) {
        this.procRoot = procRoot;
        this.fdFolders = fdFolders;
    }

    /** A fresh pass; {@code wantedTargets} are link texts as the kernel writes them, such as {@code /dev/dri/card1}. */
    ProcessScan scan(Set<String> wantedTargets) throws IOException {
        Wanted wanted = new Wanted(wantedTargets);
        int procFd = Syscalls.open(procRoot.toString(), Syscalls.O_RDONLY | Syscalls.O_DIRECTORY | Syscalls.O_CLOEXEC);
        if (procFd < 0) throw new IOException("cannot open " + procRoot + ": errno " + Native.getLastError());
        try {
            int[] pids = listPids(procFd);
            CompletableFuture<Part> other = CompletableFuture.supplyAsync(() -> new Part(wanted, fdFolders).scan(procFd, pids, 1));
            Part mine = new Part(wanted, fdFolders).scan(procFd, pids, 0);
            Part theirs;
            try {
                theirs = other.join();
            } catch (CompletionException e) {
                throw e.getCause() instanceof RuntimeException r ? r : e;
            }
            return merge(mine, theirs, pids.length);
        } finally {
            Syscalls.close(procFd);
        }
    }

    private static int[] listPids(int procFd) throws IOException {
        int[] pids = new int[1024];
        int count = 0;
        try (Memory dents = new Memory(DIRENTS_SIZE)) {
            ByteBuffer view = dents.getByteBuffer(0, DIRENTS_SIZE).order(ByteOrder.nativeOrder());
            long address = Pointer.nativeValue(dents);
            while (true) {
                long n = Syscalls.getdents64(procFd, address, DIRENTS_SIZE);
                if (n < 0) throw new IOException("cannot list /proc: errno " + Native.getLastError());
                if (n == 0) break;
                for (int off = 0; off < n; off += view.getShort(off + DIRENT_RECLEN) & 0xffff) {
                    int pid = parsePid(view, off + DIRENT_NAME);
                    if (pid <= 0) continue;
                    if (count == pids.length) pids = Arrays.copyOf(pids, count * 2);
                    pids[count++] = pid;
                }
            }
        }
        int[] out = Arrays.copyOf(pids, count);
        Arrays.sort(out);
        return out;
    }

    /** The number a NUL-terminated name spells, or -1 when it is not all digits (self, thread-self, sys...). */
    private static int parsePid(ByteBuffer buffer, int at) {
        int value = 0;
        int i = at;
        for (byte b; (b = buffer.get(i)) != 0; i++) {
            if (b < '0' || b > '9' || i - at > 9) return -1;
            value = value * 10 + (b - '0');
        }
        return i == at ? -1 : value;
    }

    private static ProcessScan merge(Part a, Part b, int processes) {
        Map<String, List<Integer>> openers = new TreeMap<>();
        for (Part p : List.of(a, b)) {
            p.openers.forEach((target, pids) -> openers.computeIfAbsent(target, t -> new ArrayList<>()).addAll(pids));
        }
        openers.replaceAll((target, pids) -> sortedDistinct(pids));
        Map<String, List<Integer>> namespaces = new TreeMap<>();
        for (Part p : List.of(a, b)) {
            p.namespaces.forEach((ns, pids) -> namespaces.computeIfAbsent(ns, t -> new ArrayList<>()).addAll(pids));
        }
        namespaces.replaceAll((ns, pids) -> sortedDistinct(pids));
        return new ProcessScan(Collections.unmodifiableMap(openers), Collections.unmodifiableMap(namespaces), processes, a.denied + b.denied);
    }

    private static List<Integer> sortedDistinct(List<Integer> pids) {
        return pids.stream().distinct().sorted().toList();
    }

    /** The wanted targets as bytes, with a quick test by length: most links (sockets, pipes, files) fail it. */
    private static final class Wanted {
        final String[] texts;
        final byte[][] bytes;
        final boolean[] lengths;
        final int longest;

        Wanted(Set<String> targets) {
            texts = targets.toArray(String[]::new);
            bytes = new byte[texts.length][];
            int max = 0;
            for (int i = 0; i < texts.length; i++) {
                bytes[i] = texts[i].getBytes(StandardCharsets.UTF_8);
                max = Math.max(max, bytes[i].length);
            }
            longest = max;
            lengths = new boolean[max + 1];
            for (byte[] b : bytes) lengths[b.length] = true;
        }

        /** The index of the target the first {@code n} bytes of {@code link} spell, or -1. */
        int match(ByteBuffer link, int n) {
            if (n > longest || !lengths[n]) return -1;
            next:
            for (int i = 0; i < bytes.length; i++) {
                byte[] t = bytes[i];
                if (t.length != n) continue;
                for (int k = n - 1; k >= 0; k--) if (link.get(k) != t[k]) continue next;
                return i;
            }
            return -1;
        }
    }

    /** One thread's share of the processes, with its own native buffers. */
    private static final class Part {
        final Wanted wanted;
        final FdFolders fdFolders;
        final Map<String, List<Integer>> openers = new HashMap<>();
        /** Processes whose descriptors vfiod may not read: counted, for the check to say it saw less than all. */
        int denied;
        final Map<String, List<Integer>> namespaces = new HashMap<>();
        private byte[] lastNamespace = new byte[0];
        private List<Integer> lastNamespacePids;

        Part(Wanted wanted, FdFolders fdFolders) {
            this.wanted = wanted;
            this.fdFolders = fdFolders;
        }

        Part scan(int procFd, int[] pids, int first) {
            int linkSize = Math.max(64, wanted.longest + 1);
            try (Memory dents = new Memory(DIRENTS_SIZE); Memory name = new Memory(32); Memory link = new Memory(linkSize)) {
                ByteBuffer dentsView = dents.getByteBuffer(0, DIRENTS_SIZE).order(ByteOrder.nativeOrder());
                ByteBuffer nameView = name.getByteBuffer(0, 32);
                ByteBuffer linkView = link.getByteBuffer(0, linkSize);
                long dentsAddress = Pointer.nativeValue(dents);
                long nameAddress = Pointer.nativeValue(name);
                long linkAddress = Pointer.nativeValue(link);
                for (int i = first; i < pids.length; i += 2) {
                    int pid = pids[i];
                    int digits = putPid(nameView, pid);
                    putAscii(nameView, digits, "/ns/mnt");
                    long n = Syscalls.readlinkat(procFd, nameAddress, linkAddress, linkSize);
                    if (n > 0 && n < linkSize) namespace(linkView, (int) n, pid);
                    putAscii(nameView, digits, "/fd");
                    int fdDir = fdFolders.open(procFd, nameAddress, pid);
                    if (fdDir < 0) {
                        // exited, or a zombie: nothing of it to see; but a refusal hides what it holds open
                        if (fdDir == -Syscalls.EACCES || fdDir == -Syscalls.EPERM) denied++;
                        continue;
                    }
                    try {
                        long got;
                        do {
                            got = Syscalls.getdents64(fdDir, dentsAddress, DIRENTS_SIZE);
                            for (int off = 0; off < got; off += dentsView.getShort(off + DIRENT_RECLEN) & 0xffff) {
                                if (dentsView.get(off + DIRENT_NAME) == '.') continue;
                                long len = Syscalls.readlinkat(fdDir, dentsAddress + off + DIRENT_NAME, linkAddress, linkSize);
                                if (len <= 0 || len >= linkSize) continue;
                                int hit = wanted.match(linkView, (int) len);
                                if (hit >= 0) openers.computeIfAbsent(wanted.texts[hit], t -> new ArrayList<>()).add(pid);
                            }
                            // getdents64 fills the buffer until the next record would not fit: with room for the
                            // largest left over, the folder is at its end, and the call that would return 0 is saved
                        } while (got > DIRENTS_SIZE - DIRENT_MAX);
                    } finally {
                        Syscalls.close(fdDir);
                    }
                }
            }
            return this;
        }

        /** Most processes share a namespace with the one before, so its link text is compared before it is decoded. */
        private void namespace(ByteBuffer link, int n, int pid) {
            boolean same = n == lastNamespace.length;
            for (int k = 0; same && k < n; k++) same = link.get(k) == lastNamespace[k];
            if (!same) {
                lastNamespace = new byte[n];
                link.get(0, lastNamespace);
                lastNamespacePids = namespaces.computeIfAbsent(new String(lastNamespace, StandardCharsets.UTF_8), t -> new ArrayList<>());
            }
            if (lastNamespacePids.size() < PIDS_PER_NAMESPACE) lastNamespacePids.add(pid);
        }

        /** Writes the pid's digits at the start of the buffer and returns how many. */
        private static int putPid(ByteBuffer name, int pid) {
            String digits = Integer.toString(pid);
            for (int k = 0; k < digits.length(); k++) name.put(k, (byte) digits.charAt(k));
            return digits.length();
        }

        private static void putAscii(ByteBuffer name, int at, String text) {
            for (int k = 0; k < text.length(); k++) name.put(at + k, (byte) text.charAt(k));
            name.put(at + text.length(), (byte) 0);
        }
    }
}
