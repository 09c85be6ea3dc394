package org.vfiod.daemon.access;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * Who besides the node's owner and group may read and write a device node, and the changes to that: the kernel-facing
 * side of giving a VM's user its VFIO nodes. {@link PosixAclAccess} is the real one; a node that is not there has no
 * one to grant to, which is a {@link java.nio.file.NoSuchFileException}.
 */
public interface NodeAccess {
    /** The uids with a read/write entry of their own on the node, sorted; empty when it has none. */
    List<Long> users(Path node) throws IOException;

    /** Gives {@code uid} read and write access; its owner, group and mode bits stay as they were. */
    void grant(Path node, long uid) throws IOException;

    /** Takes every uid's own entry away, leaving the node as its owner, group and mode say. */
    void revokeAll(Path node) throws IOException;
}
