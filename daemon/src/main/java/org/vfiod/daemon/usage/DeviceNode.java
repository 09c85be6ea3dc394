package org.vfiod.daemon.usage;

/**
 * A device node beneath a device: a folder with a {@code dev} file.
 *
 * @param devName the node's path under /dev (uevent's DEVNAME, such as {@code dri/card1}; else the folder's name)
 */
record DeviceNode(String devName, DeviceNumber number) {
    /** The node's path as the kernel writes it in a {@code /proc/<pid>/fd} link. */
    String path() {
        return "/dev/" + devName;
    }
}
