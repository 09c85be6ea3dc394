package org.vfiod.daemon.usage;

import java.nio.file.Path;

/**
 * A device to check.
 *
 * @param path         its resolved folder under the sysfs root, such as {@code <root>/devices/pci0000:00/0000:03:00.0}
 * @param onVfioDriver whether it is bound to a vfio driver: then what matters is whether a VM holds its VFIO nodes
 */
public record DeviceFolder(Path path, boolean onVfioDriver) {
}
