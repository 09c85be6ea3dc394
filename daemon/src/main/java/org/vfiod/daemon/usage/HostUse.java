package org.vfiod.daemon.usage;

import java.util.List;
import java.util.Objects;

/**
 * Something that uses a device: the host (a mount, swap, a stacked block device, a network interface in service,
 * an open node) or a VM (its VFIO nodes open). Each says itself in one line.
 */
public sealed interface HostUse {
    /** One line, such as "nvme0n1p2 is mounted at /". */
    String describe();

    /** Mounted in one or more mount namespaces; the mount points of all of them, sorted. */
    record Mounted(String block, List<String> mountPoints) implements HostUse {
        public Mounted {
            Objects.requireNonNull(block);
            mountPoints = List.copyOf(mountPoints);
        }

        @Override
        public String describe() {
            return block + " is mounted at " + String.join(", ", mountPoints);
        }
    }

    record ActiveSwap(String block) implements HostUse {
        @Override
        public String describe() {
            return block + " is active swap";
        }
    }

    /** Beneath a device-mapper, md or LVM device (its sysfs {@code holders}). */
    record HeldBy(String block, List<String> holders) implements HostUse {
        public HeldBy {
            Objects.requireNonNull(block);
            holders = List.copyOf(holders);
        }

        @Override
        public String describe() {
            return block + " is held by " + String.join(", ", holders);
        }
    }

    /** The kernel refused an exclusive open, and nothing above explains it. */
    record OpenExclusively(String block) implements HostUse {
        @Override
        public String describe() {
            return block + " is open exclusively (by the kernel's answer: EBUSY)";
        }
    }

    /**
     * A network interface in service: up with addresses (link-local IPv6 ones do not count), or carrying a
     * default route.
     *
     * @param addresses address/prefix, IPv4 first
     */
    record InterfaceInService(String iface, List<String> addresses, boolean ipv4DefaultRoute, boolean ipv6DefaultRoute)
            implements HostUse {
        public InterfaceInService {
            Objects.requireNonNull(iface);
            addresses = List.copyOf(addresses);
        }

        @Override
        public String describe() {
            StringBuilder out = new StringBuilder(iface);
            if (!addresses.isEmpty()) out.append(" is up with ").append(String.join(", ", addresses));
            if (ipv4DefaultRoute || ipv6DefaultRoute) {
                out.append(addresses.isEmpty() ? " carries " : " and carries ");
                if (!ipv6DefaultRoute) out.append("the default route");
                else if (!ipv4DefaultRoute) out.append("the IPv6 default route");
                else out.append("the IPv4 and IPv6 default routes");
            }
            return out.toString();
        }
    }

    /** A port of a bond, bridge or team. */
    record Enslaved(String iface, String master) implements HostUse {
        @Override
        public String describe() {
            return iface + " is enslaved to " + master;
        }
    }

    /** A node beneath the device (DRM, framebuffer, sound, a disk, any other) that a process has open. */
    record NodeOpen(String node, Opener opener) implements HostUse {
        @Override
        public String describe() {
            return node + " is open by pid " + opener.pid() + " (" + opener.command() + ")";
        }
    }

    /** A VFIO group or device node of a device on a vfio driver that a process, a VM as a rule, has open. */
    record VfioNodeOpen(String node, Opener opener) implements HostUse {
        @Override
        public String describe() {
            return node + " is open by pid " + opener.pid() + " (" + opener.command() + ")";
        }
    }
}
