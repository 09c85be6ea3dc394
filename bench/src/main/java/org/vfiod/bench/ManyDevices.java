package org.vfiod.bench;

import java.io.IOException;
import java.nio.file.Path;
import org.vfiod.daemon.sim.SimulatedSysfs;
import org.vfiod.daemon.sim.SimulatedSysfs.Device;

/**
 * Lays out a simulated sysfs with many PCI devices for the bus benchmark ({@code bench/run-bus-bench.sh}): by
 * default 256 devices in 128 IOMMU groups, two functions per group (bus {@code NN}, functions .0 and .1, group
 * {@code NN}), with a mix of drivers like a large server: GPUs with their audio function (one of them the boot
 * VGA), dual-port NICs, NVMe, USB/SATA controllers, an unbound GPU, SR-IOV PF+VF pairs and a few devices already
 * on vfio-pci. {@code 0000:03:00.0} is an e1000e NIC, as in the sample machine.
 *
 * <pre>java -cp bench/target/benchmarks.jar org.vfiod.bench.ManyDevices ROOT [DEVICES]</pre>
 */
public final class ManyDevices {
    private ManyDevices() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length < 1 || args.length > 2) {
            System.err.println("usage: ManyDevices ROOT [DEVICES (even, <= 510; default 256)]");
            System.exit(64);
        }
        int devices = args.length > 1 ? Integer.parseInt(args[1]) : 256;
        if (devices < 2 || devices % 2 != 0 || devices > 510) {
            System.err.println("ManyDevices: DEVICES must be even, between 2 and 510");
            System.exit(64);
        }
        int groups = build(Path.of(args[0]), devices);
        System.out.println(devices + " devices in " + groups + " IOMMU groups under " + args[0]);
    }

    /** Builds the tree; returns the number of IOMMU groups. */
    public static int build(Path root, int devices) throws IOException {
        SimulatedSysfs s = SimulatedSysfs.create(root)
                .driver("vfio-pci", "vfio_pci", true, "vfio", "override-only")
                .driver("amdgpu", "amdgpu", true, "1002:73bf")
                .driver("snd_hda_intel", "snd_hda_intel", true, "1002:ab28", "10de:22ba")
                .driver("igb", "igb", true, "8086:1521")
                .driver("nvme", "nvme", true, "144d:a808")
                .driver("e1000e", "e1000e", true, "8086:10d3")
                .driver("mlx5_core", "mlx5_core", true, "15b3:101d", "15b3:101e")
                .driver("xhci_hcd", "xhci_pci", true, "1b21:2142")
                .driver("ahci", "ahci", true, "1b21:0612")
                .driver("nouveau", "nouveau", false, "10de:2684")
                .driver("i40e", "i40e", true, "8086:1572");
        int groups = devices / 2;
        for (int bus = 1; bus <= groups; bus++) {
            String f0 = String.format("0000:%02x:00.0", bus), f1 = String.format("0000:%02x:00.1", bus);
            switch (bus % 8) {
                case 0 -> {
                    s.device(Device.of(f0, 0x144d, 0xa808, 0x010802, bus, "nvme"));
                    s.device(Device.of(f1, 0x144d, 0xa808, 0x010802, bus, null));
                }
                case 1 -> {
                    Device gpu = Device.of(f0, 0x1002, 0x73bf, 0x030000, bus, "amdgpu");
                    s.device(bus == 1 ? gpu.asBootVga() : gpu);
                    s.device(Device.of(f1, 0x1002, 0xab28, 0x040300, bus, "snd_hda_intel"));
                }
                case 2 -> {
                    s.device(Device.of(f0, 0x8086, 0x1521, 0x020000, bus, "igb"));
                    s.device(Device.of(f1, 0x8086, 0x1521, 0x020000, bus, "igb"));
                }
                case 3 -> {
                    s.device(Device.of(f0, 0x8086, 0x10d3, 0x020000, bus, "e1000e"));
                    s.device(Device.of(f1, 0x8086, 0x10d3, 0x020000, bus, "e1000e"));
                }
                case 4 -> {
                    s.device(Device.of(f0, 0x15b3, 0x101d, 0x020000, bus, "mlx5_core"));
                    s.device(Device.of(f1, 0x15b3, 0x101e, 0x020000, bus, "mlx5_core").virtfnOf(f0));
                }
                case 5 -> {
                    s.device(Device.of(f0, 0x1b21, 0x2142, 0x0c0330, bus, "xhci_hcd"));
                    s.device(Device.of(f1, 0x1b21, 0x0612, 0x010601, bus, "ahci"));
                }
                case 6 -> {
                    s.device(Device.of(f0, 0x10de, 0x2684, 0x030000, bus, null));
                    s.device(Device.of(f1, 0x10de, 0x22ba, 0x040300, bus, "snd_hda_intel"));
                }
                default -> {
                    String drv = bus % 16 == 15 ? "vfio-pci" : "i40e";
                    s.device(Device.of(f0, 0x8086, 0x1572, 0x020000, bus, drv));
                    s.device(Device.of(f1, 0x8086, 0x1572, 0x020000, bus, drv));
                }
            }
        }
        return groups;
    }
}
