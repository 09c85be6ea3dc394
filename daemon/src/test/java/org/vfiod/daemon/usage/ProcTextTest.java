package org.vfiod.daemon.usage;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/** The parsers of mountinfo, swaps, route, ipv6_route and if_inet6, on lines as this machine's kernel writes them. */
class ProcTextTest {
    @Test
    void mountinfoGivesNumberSourceAndUnescapedMountPoint() {
        String text = """
                22 27 0:21 / /proc rw,relatime - proc proc rw
                29 27 259:2 / / rw,relatime shared:1 - ext4 /dev/nvme0n1p2 rw,errors=remount-ro
                30 29 259:3 / /srv/my\\040files rw,relatime shared:5 master:2 - xfs /dev/nvme0n1p3 rw
                31 29 0:45 /@home /home rw,relatime shared:6 - btrfs /dev/sda2 rw,space_cache=v2
                """;
        assertEquals(List.of(
                new MountTable.Mount(new DeviceNumber(0, 21), "proc", "/proc"),
                new MountTable.Mount(new DeviceNumber(259, 2), "/dev/nvme0n1p2", "/"),
                new MountTable.Mount(new DeviceNumber(259, 3), "/dev/nvme0n1p3", "/srv/my files"),
                new MountTable.Mount(new DeviceNumber(0, 45), "/dev/sda2", "/home")), MountTable.parse(text));
        assertEquals("a\\b\tc\\04", MountTable.unescape("a\\134b\\011c\\04"));
    }

    @Test
    void swapsGivesTheBlockNames() {
        String text = """
                Filename				Type		Size		Used		Priority
                /dev/nvme0n1p3                          partition	8388604		0		-2
                /dev/dm-1                               partition	1000		0		-3
                /swap\\040file                           file		1000		0		-4
                """;
        assertEquals(Set.of("nvme0n1p3", "dm-1", "swap file"), ProcNet.swapNames(text));
    }

    @Test
    void routeGivesOnlyTheInterfacesOfZeroOverZero() {
        String text = """
                Iface	Destination	Gateway 	Flags	RefCnt	Use	Metric	Mask		MTU	Window	IRTT
                eth0	00000000	010200C0	0003	0	0	0	00000000	0	0	0
                eth1	000200C0	00000000	0001	0	0	0	00FFFFFF	0	0	0
                eth2	00000000	00000000	0001	0	0	0	00000080	0	0	0
                """;
        assertEquals(Set.of("eth0"), ProcNet.ipv4DefaultRoutes(text));
    }

    @Test
    void ipv6RouteGivesTheInterfacesOfColonColonZeroButNotUnreachableOnes() {
        String text = """
                fd000000000000000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001     eth0
                00000000000000000000000000000000 00 00000000000000000000000000000000 00 fe800000000000000000000000000001 00000400 00000001 00000000 00000003     eth0
                00000000000000000000000000000000 00 00000000000000000000000000000000 00 00000000000000000000000000000000 ffffffff 00000001 00000000 00200200       lo
                """;
        assertEquals(Set.of("eth0"), ProcNet.ipv6DefaultRoutes(text));
    }

    @Test
    void ifInet6GivesAddressesByIndexWithoutLinkLocalOnes() {
        String text = """
                00000000000000000000000000000001 01 80 10 80       lo
                fe8000000000000000fc00fffe000001 04 40 20 80     eth0
                fd000000000000000000000000000002 04 40 00 82     eth0
                20010db8000100000000000000000000 0a 30 00 80     eth1
                """;
        assertEquals(Map.of(1, List.of("::1/128"), 4, List.of("fd00::2/64"), 10, List.of("2001:db8:1::/48")), ProcNet.ipv6Addresses(text));
    }

    @Test
    void ipv6TextIsRfc5952() {
        assertEquals("2001:db8::1", Ipv6Text.of(bytes("20010db8000000000000000000000001")));
        assertEquals("2001:db8:0:1:1:1:1:1", Ipv6Text.of(bytes("20010db8000000010001000100010001")));
        assertEquals("2001:0:0:1::1", Ipv6Text.of(bytes("20010000000000010000000000000001")));
        assertEquals("::", Ipv6Text.of(new byte[16]));
        assertEquals("fe80::", Ipv6Text.of(bytes("fe800000000000000000000000000000")));
    }

    @Test
    void namesWithNumbersSortAsNumbers() {
        TreeSet<String> names = new TreeSet<>(NaturalOrder.INSTANCE);
        names.addAll(List.of("nvme0n1p10", "nvme0n1p2", "nvme0n1", "card10", "card2", "dm-0", "md127", "p02", "p2"));
        assertEquals(List.of("card2", "card10", "dm-0", "md127", "nvme0n1", "nvme0n1p2", "nvme0n1p10", "p02", "p2"), List.copyOf(names));
    }

    private static byte[] bytes(String hex) {
        byte[] out = new byte[16];
        for (int i = 0; i < 16; i++) out[i] = (byte) Integer.parseInt(hex.substring(2 * i, 2 * i + 2), 16);
        return out;
    }
}
