package org.vfiod.daemon.state;

import java.nio.file.Path;
import java.util.Optional;

/** One rule file: the devices it covers, and how to rebind them (a chosen vfio driver, the whole IOMMU group). */
public record PersistentRule(Path file, DeviceMatch match, Optional<String> driver, boolean group) {
}
