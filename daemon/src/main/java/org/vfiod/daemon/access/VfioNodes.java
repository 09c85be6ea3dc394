package org.vfiod.daemon.access;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.vfiod.daemon.sysfs.Device;

/**
 * The VFIO device nodes of a device on a vfio driver, under the dev root: its group's {@code vfio/<group>}, and
 * where the kernel has one (6.2 and later, with CONFIG_VFIO_DEVICE_CDEV) its own cdev {@code vfio/devices/vfioN},
 * named by the {@code vfio-dev/vfioN} folder in sysfs. The container ({@code vfio/vfio}) and {@code /dev/iommu} are
 * everyone's already (udev's mode 0666) and are left as the system set them.
 */
public final class VfioNodes {
    private final Path devRoot;
    private final NodeAccess access;

    public VfioNodes(Path devRoot, NodeAccess access) {
        this.devRoot = devRoot;
        this.access = access;
    }

    public NodeAccess access() {
        return access;
    }

    /** The group node, for a device on a vfio driver in an IOMMU group. */
    public Optional<Path> groupNode(Device d, boolean onVfio) {
        if (!onVfio || d.iommuGroup().isEmpty()) return Optional.empty();
        return Optional.of(groupNode(d.iommuGroup().getAsInt()));
    }

    /**
     * The node of IOMMU group {@code group}: {@code vfio/N}, or, for the fake group vfio makes in its unsafe no-IOMMU
     * mode, {@code vfio/noiommu-N} (the kernel's name for it) when that is the one there.
     */
    public Path groupNode(int group) {
        Path plain = devRoot.resolve("vfio").resolve(Integer.toString(group));
        Path noIommu = devRoot.resolve("vfio").resolve("noiommu-" + group);
        return !java.nio.file.Files.exists(plain) && java.nio.file.Files.exists(noIommu) ? noIommu : plain;
    }

    /** The node of the cdev the kernel named {@code vfioN}. */
    public Path cdev(String name) {
        return devRoot.resolve("vfio").resolve("devices").resolve(name);
    }

    /** The device's own cdev, when the kernel made one. */
    public Optional<Path> deviceNode(Device d) {
        return d.vfioCdev().map(n -> devRoot.resolve("vfio").resolve("devices").resolve(n));
    }

    /** The nodes a VM opens for the device: the group node, then the cdev. */
    public List<Path> nodes(Device d, boolean onVfio) {
        List<Path> out = new ArrayList<>();
        groupNode(d, onVfio).ifPresent(out::add);
        deviceNode(d).ifPresent(out::add);
        return out;
    }

    /**
     * Who has access now, from the group node's ACL (it lives on the node, so it outlives vfiod); empty for a
     * device not on VFIO or a node that is not there (yet: udev makes it after the bind).
     */
    public List<Long> users(Device d, boolean onVfio) {
        Optional<Path> node = groupNode(d, onVfio).or(() -> deviceNode(d));
        if (node.isEmpty()) return List.of();
        try {
            return access.users(node.get());
        } catch (IOException | RuntimeException e) {
            return List.of();
        }
    }
}
