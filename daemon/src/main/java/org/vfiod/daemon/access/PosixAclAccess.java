package org.vfiod.daemon.access;

import com.sun.jna.Memory;
import com.sun.jna.Native;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;

/**
 * Access through a POSIX ACL entry per uid ({@code system.posix_acl_access}, written with setxattr through JNA),
 * not through ownership. An ACL keeps the node's owner, group and mode as udev set them (root, and whatever
 * group a distribution gives VFIO), lets several uids be listed at once (two VMs of two users on one group cannot
 * be, but a user and a management daemon can), and is taken back by removing the entry alone, with nothing of the
 * previous state to remember; a chown would have to remember and restore the owner, and a crash between the two
 * would leave the node someone else's. It is what systemd-logind's uaccess does for a seat's devices. devtmpfs
 * and tmpfs keep ACLs (CONFIG_TMPFS_POSIX_ACL, on in Debian's kernels). Setting it needs only the node's owner
 * (root): no capability beyond vfiod's.
 */
public final class PosixAclAccess implements NodeAccess {
    private static final String NAME = "system.posix_acl_access";
    private static final int ENOENT = 2, ENODATA = 61, ERANGE = 34;

    static {
        Native.register(PosixAclAccess.class, "c");
    }

    private static native long getxattr(String path, String name, Memory value, long size);

    private static native int setxattr(String path, String name, Memory value, long size, int flags);

    private static native int removexattr(String path, String name);

    @Override
    public List<Long> users(Path node) throws IOException {
        return read(node).users();
    }

    @Override
    public void grant(Path node, long uid) throws IOException {
        if (uid < 0 || uid >= PosixAcl.UNDEFINED_ID) throw new IllegalArgumentException("not a uid: " + uid);
        write(node, read(node).withUser(uid));
    }

    @Override
    public void revokeAll(Path node) throws IOException {
        PosixAcl now = read(node);
        if (now.users().isEmpty()) return;
        write(node, now.withoutUsers());
    }

    /** The node's ACL, or its mode's when it has none. */
    PosixAcl read(Path node) throws IOException {
        String path = node.toString();
        // a node is never a link here: the paths are made from the dev root and the kernel's names
        if (Files.isSymbolicLink(node)) throw new IOException(node + " is a symbolic link; refusing to follow it");
        Memory buf = new Memory(512);
        long n = getxattr(path, NAME, buf, buf.size());
        if (n < 0) {
            int errno = Native.getLastError();
            if (errno == ENODATA) return PosixAcl.ofMode(mode(node));
            throw failure("read the ACL of", node, errno);
        }
        return PosixAcl.parse(buf.getByteArray(0, (int) n));
    }

    private void write(Path node, PosixAcl acl) throws IOException {
        byte[] bytes = acl.bytes();
        Memory buf = new Memory(bytes.length);
        buf.write(0, bytes, 0, bytes.length);
        // a minimal ACL is the mode: the kernel then drops the xattr and sets the group bits from it
        if (setxattr(node.toString(), NAME, buf, bytes.length, 0) != 0) throw failure("write the ACL of", node, Native.getLastError());
        if (acl.isMinimal() && removexattr(node.toString(), NAME) != 0 && Native.getLastError() != ENODATA) {
            throw failure("remove the ACL of", node, Native.getLastError());
        }
    }

    private static int mode(Path node) throws IOException {
        return ((Integer) Files.getAttribute(node, "unix:mode", LinkOption.NOFOLLOW_LINKS)) & 0777;
    }

    private static IOException failure(String what, Path node, int errno) {
        if (errno == ENOENT) return new NoSuchFileException(node.toString());
        return new IOException("cannot " + what + " " + node + ": errno " + errno + (errno == ERANGE ? " (ACL too large)" : ""));
    }
}
