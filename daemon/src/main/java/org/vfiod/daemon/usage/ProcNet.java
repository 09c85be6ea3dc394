package org.vfiod.daemon.usage;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** The few files of {@code /proc} (and {@code /proc/net}) the network and swap checks read. */
final class ProcNet {
    private static final int RTF_REJECT = 0x200;

    private ProcNet() {
    }

    /** The block names of the active swap devices in {@code /proc/swaps} (a swap file's name matches no block). */
    static Set<String> swapNames(String swaps) {
        Set<String> out = new HashSet<>();
        String[] lines = swaps.split("\n");
        for (int i = 1; i < lines.length; i++) {
            String[] f = lines[i].strip().split("\\s+");
            if (f[0].isEmpty()) continue;
            String path = MountTable.unescape(f[0]);
            out.add(path.substring(path.lastIndexOf('/') + 1));
        }
        return out;
    }

    /** The interfaces {@code /proc/net/route} routes 0.0.0.0/0 through. */
    static Set<String> ipv4DefaultRoutes(String route) {
        Set<String> out = new HashSet<>();
        String[] lines = route.split("\n");
        for (int i = 1; i < lines.length; i++) {
            // Iface Destination Gateway Flags RefCnt Use Metric Mask MTU Window IRTT
            String[] f = lines[i].strip().split("\\s+");
            if (f.length >= 8 && f[1].equals("00000000") && f[7].equals("00000000")) out.add(f[0]);
        }
        return out;
    }

    /** The interfaces {@code /proc/net/ipv6_route} routes ::/0 through, unreachable routes left out. */
    static Set<String> ipv6DefaultRoutes(String ipv6Route) {
        Set<String> out = new HashSet<>();
        for (String line : ipv6Route.split("\n")) {
            // destination prefix-length source source-length next-hop metric refcnt use flags device
            String[] f = line.strip().split("\\s+");
            if (f.length < 10 || !isZeros(f[0]) || !f[1].equals("00")) continue;
            int flags;
            try {
                flags = Integer.parseUnsignedInt(f[8], 16);
            } catch (NumberFormatException e) {
                continue;
            }
            if ((flags & RTF_REJECT) == 0) out.add(f[9]);
        }
        return out;
    }

    /**
     * The IPv6 addresses of {@code /proc/net/if_inet6} by interface index, as address/prefix, the link-local ones
     * left out: the kernel gives one to every interface that is up, so it says nothing of the host using it.
     */
    static Map<Integer, List<String>> ipv6Addresses(String ifInet6) {
        Map<Integer, List<String>> out = new HashMap<>();
        for (String line : ifInet6.split("\n")) {
            // address index prefix-length scope flags name, all hex
            String[] f = line.strip().split("\\s+");
            if (f.length < 6 || f[0].length() != 32) continue;
            try {
                byte[] address = new byte[16];
                for (int i = 0; i < 16; i++) address[i] = (byte) Integer.parseInt(f[0].substring(2 * i, 2 * i + 2), 16);
                if ((address[0] & 0xff) == 0xfe && (address[1] & 0xc0) == 0x80) continue;
                int index = Integer.parseInt(f[1], 16);
                int prefix = Integer.parseInt(f[2], 16);
                out.computeIfAbsent(index, k -> new ArrayList<>()).add(Ipv6Text.of(address) + "/" + prefix);
            } catch (NumberFormatException e) {
                // a line this reader does not understand names no address
            }
        }
        return out;
    }

    private static boolean isZeros(String hex) {
        for (int i = 0; i < hex.length(); i++) if (hex.charAt(i) != '0') return false;
        return !hex.isEmpty();
    }
}
