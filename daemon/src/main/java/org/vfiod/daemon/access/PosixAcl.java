package org.vfiod.daemon.access;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * A POSIX access ACL in the kernel's xattr form ({@code system.posix_acl_access}, linux/posix_acl_xattr.h): a
 * little-endian u32 version 2, then 8-byte entries {u16 tag, u16 perm, u32 id}, sorted by tag and id. Only named
 * users are ever added or removed here; the owner, group and other entries are the mode's, and the mask is made the
 * union of the group class, as setfacl does, so an entry gives what it says.
 */
record PosixAcl(List<Entry> entries) {
    static final int VERSION = 2;
    static final int USER_OBJ = 0x01, USER = 0x02, GROUP_OBJ = 0x04, GROUP = 0x08, MASK = 0x10, OTHER = 0x20;
    static final int READ = 4, WRITE = 2;
    static final long UNDEFINED_ID = 0xffffffffL;

    record Entry(int tag, int perm, long id) {
    }

    PosixAcl {
        entries = entries.stream().sorted(Comparator.comparingInt(Entry::tag).thenComparingLong(Entry::id)).toList();
    }

    /** The ACL a file without one has: its mode's three entries. */
    static PosixAcl ofMode(int mode) {
        return new PosixAcl(List.of(new Entry(USER_OBJ, (mode >> 6) & 7, UNDEFINED_ID),
                new Entry(GROUP_OBJ, (mode >> 3) & 7, UNDEFINED_ID), new Entry(OTHER, mode & 7, UNDEFINED_ID)));
    }

    static PosixAcl parse(byte[] xattr) {
        ByteBuffer b = ByteBuffer.wrap(xattr).order(ByteOrder.LITTLE_ENDIAN);
        if (xattr.length < 4 || (xattr.length - 4) % 8 != 0 || b.getInt() != VERSION) {
            throw new IllegalArgumentException("not a version 2 POSIX ACL (" + xattr.length + " bytes)");
        }
        List<Entry> out = new ArrayList<>();
        while (b.hasRemaining()) out.add(new Entry(Short.toUnsignedInt(b.getShort()), Short.toUnsignedInt(b.getShort()),
                Integer.toUnsignedLong(b.getInt())));
        return new PosixAcl(out);
    }

    byte[] bytes() {
        ByteBuffer b = ByteBuffer.allocate(4 + 8 * entries.size()).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(VERSION);
        for (Entry e : entries) b.putShort((short) e.tag()).putShort((short) e.perm()).putInt((int) e.id());
        return b.array();
    }

    List<Long> users() {
        return entries.stream().filter(e -> e.tag() == USER).map(Entry::id).sorted().toList();
    }

    /** With {@code uid}'s own read/write entry (replacing one it had). */
    PosixAcl withUser(long uid) {
        List<Entry> out = new ArrayList<>(entries.stream().filter(e -> !(e.tag() == USER && e.id() == uid)).toList());
        out.add(new Entry(USER, READ | WRITE, uid));
        return withMask(out);
    }

    /** Without any named user; without named groups either it is the mode's three entries again. */
    PosixAcl withoutUsers() {
        return withMask(new ArrayList<>(entries.stream().filter(e -> e.tag() != USER).toList()));
    }

    /** Whether the mode alone says the same: then the kernel keeps no ACL at all. */
    boolean isMinimal() {
        return entries.stream().allMatch(e -> e.tag() == USER_OBJ || e.tag() == GROUP_OBJ || e.tag() == OTHER);
    }

    /**
     * The mask is needed as soon as there is a named entry, and must cover them all and the owning group, or the
     * kernel would let them less than their entries say. Without named entries, it goes.
     */
    private static PosixAcl withMask(List<Entry> entries) {
        entries.removeIf(e -> e.tag() == MASK);
        boolean named = entries.stream().anyMatch(e -> e.tag() == USER || e.tag() == GROUP);
        if (named) {
            int mask = 0;
            for (Entry e : entries) if (e.tag() == USER || e.tag() == GROUP || e.tag() == GROUP_OBJ) mask |= e.perm();
            entries.add(new Entry(MASK, mask, UNDEFINED_ID));
        }
        return new PosixAcl(entries);
    }
}
