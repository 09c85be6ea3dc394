package org.vfiod.cli;

/** {@code vfioctl --help}. Keep it in step with cli/README.md and cli/src/main/man/vfioctl.1. */
final class Help {
    private Help() {
    }

    static final String TEXT = """
            Usage: vfioctl [--address ADDR] [--json] COMMAND [ARGS] [OPTIONS]

            Moves devices (PCI, and platform, CDX, fsl-mc where vfiod serves them) to VFIO drivers and back
            through vfiod (bus name org.vfiod).

            Commands:
              list                      every device, by bus: address (BUS:NAME off PCI), vendor:device,
                                        driver, vfio driver, IOMMU group, state, persistent, name
              show DEV                  one device in full
              rebind DEV                move a device to its vfio driver
                  --group               move the other devices of its IOMMU group too
                  --persist             keep it there across reboots and hotplug
                  --force               take it even if it is the boot VGA device
                  --dry-run             only say what would happen (needs no authorization)
                  --driver D            use vfio driver D instead of the one the aliases choose
                  --timeout MS          bound each wait on the kernel (1..600000 ms; vfiod's default 10000)
                  --no-ask              do not ask for a password: fail with exit 3 instead
                  --owner UID           give user UID read/write access to the device's VFIO nodes
                                        (/dev/vfio/N and its cdev); another user than yourself needs
                                        the org.vfiod.grant authorization. The answer lists the nodes.
              restore DEV               give a device back to its host driver
                  --persist --group --dry-run --timeout MS --no-ask   as for rebind
              resolve MODALIAS          which vfio driver a modalias would get
              monitor                   print device events as they happen, one line each, until Ctrl-C
              import-driverctl          take over driverctl's vfio overrides: a persistent rebind for each
                                        DIR/pci-* file naming a vfio driver; others are listed as skipped
                  --dir DIR             driverctl's directory (default /etc/driverctl.d)
                  --dry-run --no-ask    as for rebind
              help                      this text

            DEV is a PCI address (0000:03:00.0 or 03:00.0), BUS:NAME with NAME as in /sys/bus/BUS/devices
            (platform:a000000.virtio_mmio, fsl-mc:dprc.1, cdx:cdx-00:01, pci:0000:03:00.0), or an object path
            (/org/vfiod/devices/pci_0000_3a03_3a00_2e0, as vfioctl show prints it).

            Options for every command:
              --address ADDR            the bus to use (default: $DBUS_SYSTEM_BUS_ADDRESS, else
                                        unix:path=/run/dbus/system_bus_socket)
              --json                    print JSON (monitor: one object per line)
              -h, --help                this text

            Exit status:
              0   done (a dry run: it would be done)
              1   the operation failed (Failed, Timeout, GroupNotViable, NoVfioDriver, no reply;
                  import-driverctl: some override was not taken over)
              2   no such device
              3   not authorized (AccessDenied)
              4   vfiod is not running, or the bus cannot be reached
              5   busy: too many operations in flight, try again
              6   in use: the host uses the device (a mount, an interface that is up, an open node) or a VM holds
                  it; nothing was changed (InUse)
              64  usage: unknown command or option, bad argument (vfiod's InvalidArgument too)
              70  internal error in vfioctl or its installation
              130 monitor stopped by Ctrl-C (143: by SIGTERM)
            Errors are one line on stderr: "vfioctl: <message>".
            """;
}
