package org.vfiod.daemon.usage;

import java.nio.file.Path;
import java.util.List;

/**
 * A disk or partition beneath a device.
 *
 * @param name    the kernel's name, such as {@code nvme0n1p2}
 * @param devName the node's name under /dev (uevent's DEVNAME; usually the name)
 * @param number  its {@code dev}, MAJ:MIN
 * @param holders the names in its {@code holders/} folder (dm-0, md127), sorted
 * @param disk    the disk a partition is part of; for a disk, itself
 */
record BlockDevice(Path folder, String name, String devName, DeviceNumber number, List<String> holders, String disk) {
    boolean isPartition() {
        return !disk.equals(name);
    }
}
