package org.vfiod.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Function;
import org.vfiod.client.Assignment;
import org.vfiod.client.DeviceInfo;
import org.vfiod.client.RebindOptions;
import org.vfiod.client.Resolution;
import org.vfiod1.Error;

/** A daemon in memory: devices by address, every call recorded, failures injected per call. */
final class FakeVfiod implements Vfiod {
    record Call(String method, String address, RebindOptions options) {
    }

    final TreeMap<String, DeviceInfo> devices = new TreeMap<>();
    final List<Call> calls = new ArrayList<>();
    /** Called for each rebind/restore; returns the answer or throws. Default: the vfio driver / the driver. */
    Function<Call, String> mutate = c -> c.method().equals("rebind") ? "vfio-pci" : "e1000e";
    RuntimeException failNext;
    /** Events a {@link #watch} replays at once; afterwards the connection counts as lost. */
    final List<Runnable> events = new ArrayList<>();
    Events listener;
    boolean closed;

    FakeVfiod with(DeviceInfo... ds) {
        // by what vfioctl asks with: a PCI address alone, bus:name off PCI
        for (DeviceInfo d : ds) devices.put(DeviceNames.of(d), d);
        return this;
    }

    private void maybeFail() {
        RuntimeException f = failNext;
        failNext = null;
        if (f != null) throw f;
    }

    @Override
    public List<DeviceInfo> devices() {
        calls.add(new Call("devices", null, null));
        maybeFail();
        return List.copyOf(devices.values());
    }

    @Override
    public DeviceInfo device(String address) {
        calls.add(new Call("device", address, null));
        maybeFail();
        DeviceInfo d = devices.get(address);
        if (d == null) throw new Error.NoSuchDevice("no PCI device " + address);
        return d;
    }

    /** What {@link #users} answers, by address (nothing when absent). */
    final Map<String, List<String>> users = new java.util.HashMap<>();

    @Override
    public List<String> users(String address) {
        calls.add(new Call("users", address, null));
        maybeFail();
        if (!devices.containsKey(address)) throw new Error.NoSuchDevice("no PCI device " + address);
        return users.getOrDefault(address, List.of());
    }

    @Override
    public String rebind(String address, RebindOptions options) {
        Call c = new Call("rebind", address, options);
        calls.add(c);
        maybeFail();
        return mutate.apply(c);
    }

    @Override
    public String restore(String address, RebindOptions options) {
        Call c = new Call("restore", address, options);
        calls.add(c);
        maybeFail();
        return mutate.apply(c);
    }

    /** The full answer the fake gives: the driver {@link #mutate} names, and whatever this adds. */
    java.util.function.BiFunction<Call, String, Assignment> full = (c, driver) -> Assignment.ofDriver(driver, c.options().dryRun());

    @Override
    public Assignment assign(String address, RebindOptions options) {
        Call c = new Call("rebind", address, options);
        calls.add(c);
        maybeFail();
        return full.apply(c, mutate.apply(c));
    }

    @Override
    public Assignment release(String address, RebindOptions options) {
        Call c = new Call("restore", address, options);
        calls.add(c);
        maybeFail();
        return full.apply(c, mutate.apply(c));
    }

    @Override
    public Resolution resolve(String modalias) {
        calls.add(new Call("resolve", modalias, null));
        maybeFail();
        return new Resolution("vfio_pci", Optional.of("vfio-pci"), "vfio_pci:v*d*sv*sd*bc*sc*i*", 7, false, List.of());
    }

    @Override
    public AutoCloseable watch(Events events) {
        calls.add(new Call("watch", null, null));
        maybeFail();
        listener = events;
        for (Runnable r : this.events) r.run();
        return () -> listener = null;
    }

    @Override
    public boolean connected() {
        return false;
    }

    @Override
    public void close() {
        closed = true;
    }

    List<Call> mutations() {
        return calls.stream().filter(c -> c.options() != null).toList();
    }

    // ---- fixtures: the demo machine

    static DeviceInfo device(String address, int vendor, int device, long classCode, String driver, String vfioDriver,
                             int group, List<String> groupMembers, String state) {
        List<String> paths = groupMembers.stream().map(FakeVfiod::path).toList();
        return new DeviceInfo(path(address), address, "pci", "pci:v0000" + Pci.hex(vendor, 4).toUpperCase()
                + "d0000" + Pci.hex(device, 4).toUpperCase() + "sv00000000sd00000000bc00sc00i00", vendor, device, classCode,
                "", "", driver, "", vfioDriver, group, paths, false, false, state);
    }

    static String path(String address) {
        return org.vfiod1.DevicePaths.path("pci", address);
    }

    /** A virtio-mmio device on the platform bus, alone in IOMMU group 9, as the arm64 virt machine has them. */
    static DeviceInfo platformDevice() {
        String path = org.vfiod1.DevicePaths.path("platform", "a000000.virtio_mmio");
        return new DeviceInfo(path, "a000000.virtio_mmio", "platform", "of:NvirtioT(null)Cvirtio,mmio", 0, 0, 0,
                "", "", "virtio-mmio", "", "vfio-platform", 9, List.of(path), false, false, "host");
    }

    static final List<String> GROUP1 = List.of("0000:00:01.0", "0000:01:00.0", "0000:01:00.1");

    static FakeVfiod demo() {
        return new FakeVfiod().with(
                device("0000:00:01.0", 0x8086, 0x9a09, 0x060400, "pcieport", "vfio_pci", 1, GROUP1, "host"),
                device("0000:01:00.0", 0x1002, 0x73bf, 0x030000, "amdgpu", "vfio_pci", 1, GROUP1, "host"),
                device("0000:01:00.1", 0x1002, 0xab28, 0x040300, "snd_hda_intel", "vfio_pci", 1, GROUP1, "host"),
                device("0000:03:00.0", 0x8086, 0x10d3, 0x020000, "e1000e", "vfio_pci", 3, List.of("0000:03:00.0"), "host"),
                device("0000:04:00.0", 0x15b3, 0x101d, 0x020000, "mlx5_core", "vfio_pci", 4, List.of("0000:04:00.0"), "host"),
                device("0000:04:00.1", 0x15b3, 0x101e, 0x020000, "mlx5_core", "vfio_pci", 5, List.of("0000:04:00.1"), "host"));
    }

    static Map<String, Object> props(Object... kv) {
        Map<String, Object> m = new java.util.LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) m.put((String) kv[i], kv[i + 1]);
        return m;
    }
}
