package org.vfiod.daemon.usage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The two checks that ask this machine's kernel, both read-only. */
class KernelChecksTest {
    private static final int EPERM = 1;
    private static final int EACCES = 13;

    @TempDir
    Path dir;

    @Test
    void netlinkGivesTheIpv4AddressesIpShows() throws Exception {
        Path ip = Path.of("/usr/sbin/ip");
        if (!Files.isExecutable(ip)) ip = Path.of("/sbin/ip");
        assumeTrue(Files.isExecutable(ip), "no ip(8) to compare with");
        Process p = new ProcessBuilder(ip.toString(), "-j", "-4", "addr", "show").redirectErrorStream(true).start();
        String json = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), json);
        // ip -j: [{"ifindex":1,"ifname":"lo",...,"addr_info":[{"family":"inet","local":"127.0.0.1","prefixlen":8,...}]}, ...]
        List<InterfaceAddress> expected = new ArrayList<>();
        Matcher iface = Pattern.compile("\\{\"ifindex\":(\\d+),").matcher(json);
        List<int[]> starts = new ArrayList<>();
        while (iface.find()) starts.add(new int[] {iface.start(), Integer.parseInt(iface.group(1))});
        Pattern address = Pattern.compile("\"family\":\"inet\",\"local\":\"([0-9.]+)\",(?:\"address\":\"[0-9.]+\",)?\"prefixlen\":(\\d+)");
        for (int i = 0; i < starts.size(); i++) {
            int end = i + 1 < starts.size() ? starts.get(i + 1)[0] : json.length();
            Matcher a = address.matcher(json.substring(starts.get(i)[0], end));
            while (a.find()) expected.add(new InterfaceAddress(starts.get(i)[1], a.group(1), Integer.parseInt(a.group(2))));
        }
        assertFalse(expected.isEmpty(), "ip shows no IPv4 address, not even the loopback's: " + json);
        assertEquals(expected, new NetlinkAddresses().ipv4());
    }

    @Test
    void anExclusiveOpenOfAPlainFileOrOfNothingIsNotBusy() throws IOException {
        Path file = Files.writeString(dir.resolve("nvme0n1"), "");
        assertFalse(new KernelExclusiveOpen().busy(file));
        assertFalse(new KernelExclusiveOpen().busy(dir.resolve("absent")));
    }

    @Test
    void theBlockDeviceOfTheRootFileSystemIsBusy() throws IOException {
        // the kernel's answer for a device that is certainly held: mounted at /, so the O_EXCL open claims nothing
        Optional<Path> root = Files.readAllLines(Path.of("/proc/self/mountinfo")).stream()
                .map(line -> line.split(" "))
                .filter(f -> f.length > 9 && f[4].equals("/"))
                .map(f -> f[java.util.Arrays.asList(f).indexOf("-") + 2])
                .filter(source -> source.startsWith("/dev/"))
                .map(Path::of)
                .findFirst();
        assumeTrue(root.isPresent() && Files.exists(root.get()) && !Files.isRegularFile(root.get()), "/ is not on a block device here");
        int errno = KernelExclusiveOpen.openError(root.get());
        // a sandbox kernel (gVisor) refuses the open itself, with EPERM: it has no answer to give
        assumeTrue(errno != EPERM && errno != EACCES, "this kernel refuses to open " + root.get() + " at all: errno " + errno);
        assertEquals(Syscalls.EBUSY, errno, root.get() + " is mounted at /");
        assertTrue(new KernelExclusiveOpen().busy(root.get()));
    }
}
