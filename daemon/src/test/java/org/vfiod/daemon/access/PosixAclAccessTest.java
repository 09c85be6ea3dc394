package org.vfiod.daemon.access;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real ACL code on a real file (the temp folder's file system must keep ACLs: ext4 and tmpfs do), checked
 * against getfacl(1), the acl package's own reading of the same bytes.
 */
class PosixAclAccessTest {
    private final PosixAclAccess access = new PosixAclAccess();

    private static Path node(Path dir) throws IOException {
        Path n = dir.resolve("7");
        Files.createFile(n);
        Files.setPosixFilePermissions(n, PosixFilePermissions.fromString("rw-------"));
        return n;
    }

    private static String getfacl(Path f) throws Exception {
        Process p = new ProcessBuilder("getfacl", "-n", "-c", "-p", f.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), out);
        return out;
    }

    private static boolean hasGetfacl() {
        try {
            return new ProcessBuilder("getfacl", "--version").start().waitFor() == 0;
        } catch (Exception e) {
            return false;
        }
    }

    @Test
    void aGrantIsANamedUserEntryWithAMaskAndTheModeStays(@TempDir Path dir) throws Exception {
        assumeTrue(hasGetfacl(), "getfacl (package acl) is not installed");
        Path n = node(dir);
        access.grant(n, 4242);
        assertEquals("user::rw-\nuser:4242:rw-\ngroup::---\nmask::rw-\nother::---\n\n", getfacl(n));
        assertEquals(List.of(4242L), access.users(n));
        access.grant(n, 99);
        access.grant(n, 4242);
        assertEquals(List.of(99L, 4242L), access.users(n));
        assertEquals("user::rw-\nuser:99:rw-\nuser:4242:rw-\ngroup::---\nmask::rw-\nother::---\n\n", getfacl(n));
    }

    @Test
    void revokingPutsTheNodeBackAsItsModeSays(@TempDir Path dir) throws Exception {
        assumeTrue(hasGetfacl(), "getfacl (package acl) is not installed");
        Path n = node(dir);
        access.grant(n, 4242);
        access.revokeAll(n);
        assertEquals(List.of(), access.users(n));
        assertEquals("user::rw-\ngroup::---\nother::---\n\n", getfacl(n));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(n)));
        // nothing to take: nothing written
        access.revokeAll(n);
        assertEquals(List.of(), access.users(n));
    }

    @Test
    void aNodeWithoutAnAclHasNoUsersAndAMissingNodeSaysSo(@TempDir Path dir) throws Exception {
        Path n = node(dir);
        assertEquals(List.of(), access.users(n));
        assertThrows(NoSuchFileException.class, () -> access.grant(dir.resolve("8"), 1));
    }

    @Test
    void theBytesAreTheKernelsFormat() {
        PosixAcl acl = PosixAcl.ofMode(0600).withUser(65534);
        // what setfacl -m u:65534:rw writes on a 0644 file, with the mode's group and other bits of 0600
        byte[] expected = {2, 0, 0, 0, 1, 0, 6, 0, -1, -1, -1, -1, 2, 0, 6, 0, (byte) 0xfe, (byte) 0xff, 0, 0,
                4, 0, 0, 0, -1, -1, -1, -1, 0x10, 0, 6, 0, -1, -1, -1, -1, 0x20, 0, 0, 0, -1, -1, -1, -1};
        assertArrayEquals(expected, acl.bytes());
        assertEquals(acl, PosixAcl.parse(expected));
        assertEquals(PosixAcl.ofMode(0600), acl.withoutUsers());
    }
}
