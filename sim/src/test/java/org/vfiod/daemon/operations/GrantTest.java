package org.vfiod.daemon.operations;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicReference;
import org.freedesktop.DBus.Error.AccessDenied;
import org.freedesktop.dbus.types.UInt32;
import org.freedesktop.dbus.types.Variant;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vfiod.daemon.access.Grants;
import org.vfiod.daemon.access.PasswdFile;
import org.vfiod.daemon.access.PosixAclAccess;
import org.vfiod.daemon.access.VfioNodes;
import org.vfiod.daemon.aliases.AliasIndex;
import org.vfiod.daemon.aliases.AliasSources;
import org.vfiod.daemon.auth.AuthResult;
import org.vfiod.daemon.auth.CallerCredentials;
import org.vfiod.daemon.binding.JournalStore;
import org.vfiod.daemon.binding.PollingDriverWaiter;
import org.vfiod.daemon.binding.RebindEngine;
import org.vfiod.daemon.bus.Actions;
import org.vfiod.daemon.bus.Caller;
import org.vfiod.daemon.model.DeviceRegistry;
import org.vfiod.daemon.model.DeviceView;
import org.vfiod.daemon.sim.SimulatedHost;
import org.vfiod.daemon.sim.SimulatedKernel;
import org.vfiod.daemon.sim.SimulatedSysfs;
import org.vfiod.daemon.state.Persistence;
import org.vfiod.daemon.state.RuleStore;
import org.vfiod.daemon.sysfs.DeviceName;
import org.vfiod.daemon.sysfs.PciAddress;
import org.vfiod.daemon.sysfs.Sysfs;
import org.vfiod.daemon.udev.HardwareNames;
import org.vfiod1.Error;

/**
 * Handing a device to a VM's user on the simulated machine, through Operations as the bus calls it: the grant (a
 * real ACL on the simulated dev root's node files), its authorization, its removal on Restore, a persisted owner
 * at start, and the full answers of Assign and Release.
 */
class GrantTest {
    static final long ALICE = 4242, BOB = 4243;
    static final String ROOT_BUS = ":1.0", ALICE_BUS = ":1.1";
    static final DeviceName NIC = name("0000:03:00.0"), GPU = name("0000:01:00.0"), AUDIO = name("0000:01:00.1");

    @TempDir
    Path dir;
    Path dev;
    Sysfs sysfs;
    RebindEngine engine;
    DeviceRegistry registry;
    Persistence persistence;
    Operations operations;
    ExecutorService pool = Executors.newCachedThreadPool();
    final PosixAclAccess acl = new PosixAclAccess();
    /** Every action polkit was asked about, and those it refuses. */
    final List<String> asked = Collections.synchronizedList(new ArrayList<>());
    final Set<String> refused = Collections.synchronizedSet(new HashSet<>());
    /** What polkit was told with each question. */
    final List<Map<String, String>> details = Collections.synchronizedList(new ArrayList<>());

    static DeviceName name(String a) {
        return PciAddress.require(a).toDeviceName();
    }

    @BeforeEach
    void setUp() throws Exception {
        dev = dir.resolve("dev");
        SimulatedSysfs sim = SimulatedSysfs.sampleMachine(dir.resolve("sys")).devRoot(dev);
        SimulatedKernel kernel = new SimulatedKernel(sim.root());
        sysfs = new Sysfs(sim.root(), kernel);
        Path modules = Files.createDirectories(dir.resolve("modules"));
        Files.writeString(modules.resolve("modules.alias"), "alias vfio_pci:v*d*sv*sd*bc*sc*i* vfio_pci\n");
        AliasIndex index = AliasIndex.load(AliasSources.forModulesDir(modules, List.of()));
        engine = new RebindEngine(sysfs, () -> index, kernel, new PollingDriverWaiter(sysfs), new JournalStore(dir.resolve("run/journal")),
                SimulatedHost.scanner(sim.root(), dir.resolve("host")));
        Path passwd = dir.resolve("passwd");
        Files.writeString(passwd, "root:x:0:0::/root:/bin/sh\nalice:x:4242:4242::/:/bin/false\nbob:x:4243:4243::/:/bin/false\n");
        PasswdFile users = new PasswdFile(passwd);
        VfioNodes nodes = new VfioNodes(dev, acl);
        Grants grants = new Grants(sysfs, nodes, engine::onVfioDriver);
        RuleStore rules = new RuleStore(dir.resolve("etc"));
        registry = new DeviceRegistry(sysfs, () -> index, engine::onVfioDriver, HardwareNames.NONE, rules::covers, a -> "",
                (d, vfio) -> new DeviceView.Nodes(nodes.groupNode(d, vfio).map(Object::toString).orElse(""),
                        vfio ? nodes.deviceNode(d).map(Object::toString).orElse("") : "", nodes.users(d, vfio)));
        registry.populate(sysfs.readAll());
        persistence = new Persistence(rules, sysfs, engine, () -> index, Optional.empty(), registry::refreshWithGroup,
                (device, uid) -> String.join("; ", grants.grant(device, uid, users.nameOf(uid).orElseThrow())));
        operations = new Operations(engine, (bus, action, told, interactive) -> {
            asked.add(action);
            details.add(told);
            return refused.contains(action) ? new AuthResult.Denied("test refuses " + action) : new AuthResult.Granted();
        }, bus -> Optional.of(new CallerCredentials(bus.equals(ROOT_BUS) ? 0 : ALICE, 77)), pool, registry, 8, persistence,
                new AtomicReference<>(index), () -> index, dir.resolve("proc"), grants, users);
    }

    @AfterEach
    void tearDown() {
        persistence.close();
        engine.close();
        pool.shutdownNow();
    }

    static Map<String, Variant<?>> opts(Object... kv) {
        Map<String, Variant<?>> m = new java.util.LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            Object v = kv[i + 1];
            m.put((String) kv[i], v instanceof Long l ? new Variant<>(new UInt32(l)) : new Variant<>(v));
        }
        return m;
    }

    static Caller caller(String bus) {
        return new Caller(bus, Actions.REBIND);
    }

    @SuppressWarnings("unchecked")
    static <T> T get(Map<String, Variant<?>> answer, String key) {
        assertTrue(answer.containsKey(key), key + " in " + answer.keySet());
        return (T) answer.get(key).getValue();
    }

    static List<Long> uids(Object au) {
        return ((List<?>) au).stream().map(u -> ((UInt32) u).longValue()).toList();
    }

    String driver(DeviceName d) throws Exception {
        return sysfs.read(d).orElseThrow().driver().orElse("");
    }

    Path cdev(DeviceName d) throws Exception {
        return dev.resolve("vfio/devices").resolve(sysfs.read(d).orElseThrow().vfioCdev().orElseThrow());
    }

    /** polkit is told the device's bus as well as its name: a rule can scope by subsystem. */
    @Test
    void polkitIsToldTheDevicesSubsystemAndName() throws Exception {
        operations.assign(caller(ALICE_BUS), NIC, opts("owner", ALICE));
        assertEquals("pci", details.get(0).get("subsystem"));
        assertEquals("0000:03:00.0", details.get(0).get("address"));
    }

    @Test
    void givingYourselfTheDeviceNeedsOnlyRebindAndPutsAnAclEntryOnBothNodes() throws Exception {
        org.vfiod.daemon.model.RecordingListener heard = new org.vfiod.daemon.model.RecordingListener();
        registry.listen(heard);
        Map<String, Variant<?>> a = operations.assign(caller(ALICE_BUS), NIC, opts("owner", ALICE));
        assertEquals(List.of(Actions.REBIND), asked);
        Path group = dev.resolve("vfio/3");
        assertEquals(List.of(ALICE), acl.users(group));
        assertEquals(List.of(ALICE), acl.users(cdev(NIC)));
        assertEquals("vfio-pci", get(a, "driver"));
        assertEquals(List.of("0000:03:00.0"), get(a, "devices"));
        assertEquals(Map.of("0000:03:00.0", "vfio-pci"), get(a, "drivers"));
        assertEquals(3, (int) get(a, "group"));
        assertEquals(group.toString(), get(a, "group-node"));
        assertEquals(Map.of("0000:03:00.0", cdev(NIC).toString()), get(a, "device-nodes"));
        assertEquals(List.of(group.toString(), cdev(NIC).toString()), get(a, "nodes"));
        assertEquals(List.of(ALICE), uids(get(a, "access")));
        List<String> steps = get(a, "steps");
        assertTrue(steps.contains("give uid 4242 (alice) read and write access to " + group), steps.toString());
        assertEquals(List.of(), get(a, "users"));
        assertEquals(false, get(a, "dry-run"));
        // the device object shows it, and the same paths
        Map<String, Variant<?>> p = registry.get(NIC).orElseThrow().properties();
        assertEquals(group.toString(), p.get("VfioGroupNode").getValue());
        assertEquals(cdev(NIC).toString(), p.get("VfioDeviceNode").getValue());
        assertEquals(List.of(ALICE), uids(p.get("AccessUids").getValue()));
        // announced (PropertiesChanged on the bus): the nodes, and who has them
        String all = String.join("\n", heard.heard());
        assertTrue(all.contains("VfioGroupNode=" + group), all);
        assertTrue(all.contains("VfioDeviceNode=" + cdev(NIC)), all);
        assertTrue(all.contains("AccessUids=[4242]"), all);
    }

    @Test
    void givingAnotherUserTheDeviceNeedsGrantAndItsRefusalChangesNothing() throws Exception {
        refused.add(Actions.GRANT);
        assertThrows(AccessDenied.class, () -> operations.assign(caller(ALICE_BUS), NIC, opts("owner", BOB)));
        assertEquals(List.of(Actions.REBIND, Actions.GRANT), asked);
        assertEquals("e1000e", driver(NIC));
        assertFalse(Files.exists(dev.resolve("vfio/3")));
        refused.clear();
        asked.clear();
        assertEquals("vfio-pci", operations.rebind(caller(ALICE_BUS), NIC, opts("owner", BOB)));
        assertEquals(List.of(Actions.REBIND, Actions.GRANT), asked);
        assertEquals(List.of(BOB), acl.users(dev.resolve("vfio/3")));
    }

    @Test
    void withoutRebindNothingIsGivenNorMoved() throws Exception {
        refused.add(Actions.REBIND);
        assertThrows(AccessDenied.class, () -> operations.assign(caller(ALICE_BUS), NIC, opts("owner", ALICE)));
        assertEquals("e1000e", driver(NIC));
        assertFalse(Files.exists(dev.resolve("vfio/3")));
    }

    @Test
    void aUidNoUserHasIsAnInvalidArgumentBeforeAnythingIsAskedOrDone() throws Exception {
        Error.InvalidArgument e = assertThrows(Error.InvalidArgument.class,
                () -> operations.assign(caller(ROOT_BUS), NIC, opts("owner", 31337L)));
        assertTrue(e.getMessage().contains("no user has uid 31337"), e.getMessage());
        assertEquals(List.of(), asked);
        assertEquals("e1000e", driver(NIC));
        assertFalse(Files.exists(dev.resolve("vfio")));
        // and on a device already on VFIO, its access stays as it was
        operations.rebind(caller(ROOT_BUS), NIC, opts("owner", ALICE));
        assertThrows(Error.InvalidArgument.class, () -> operations.rebind(caller(ROOT_BUS), NIC, opts("owner", 31337L)));
        assertEquals(List.of(ALICE), acl.users(dev.resolve("vfio/3")));
        // owner is for the way in only
        assertThrows(Error.InvalidArgument.class, () -> operations.release(caller(ROOT_BUS), NIC, opts("owner", ALICE)));
        assertEquals("vfio-pci", driver(NIC));
    }

    @Test
    void restoreTakesTheAccessBackBeforeTheDeviceLeavesVfio() throws Exception {
        operations.rebind(caller(ROOT_BUS), NIC, opts("owner", ALICE));
        // the simulated kernel removes the node files with the device's leaving, as the kernel does; a second name
        // of the same inode shows what was done to the node before that
        Path group = dev.resolve("vfio/3"), kept = dir.resolve("group-3-inode");
        Files.createLink(kept, group);
        Map<String, Variant<?>> r = operations.release(caller(ROOT_BUS), NIC, opts());
        assertEquals(List.of(), acl.users(kept));
        assertEquals("e1000e", driver(NIC));
        List<String> steps = get(r, "steps");
        assertEquals("take back the access of uid 4242 to " + group, steps.get(0), steps.toString());
        assertTrue(steps.size() > 1, steps.toString());
        assertEquals(List.of(), uids(get(r, "access")));
        assertEquals("", get(r, "group-node"));
        assertEquals(List.of(), get(r, "nodes"));
        assertEquals(Map.of("0000:03:00.0", "e1000e"), get(r, "drivers"));
        assertEquals(List.of("0000:03:00.0"), get(r, "devices"));
    }

    @Test
    void aRestoreThatIsRefusedGivesTheAccessBack() throws Exception {
        operations.rebind(caller(ROOT_BUS), NIC, opts("owner", ALICE));
        // a VM holds the group
        org.vfiod.daemon.usage.FakeHost host = new org.vfiod.daemon.usage.FakeHost(dir.resolve("sys"), dir.resolve("host"));
        host.process(500, "qemu-system-x86", org.vfiod.daemon.usage.FakeHost.HOST_NAMESPACE);
        host.open(500, 30, "/dev/vfio/3");
        assertThrows(Error.InUse.class, () -> operations.release(caller(ROOT_BUS), NIC, opts()));
        assertEquals("vfio-pci", driver(NIC));
        assertEquals(List.of(ALICE), acl.users(dev.resolve("vfio/3")));
    }

    @Test
    void theAccessLivesOnTheNodeSoANewDaemonShowsIt() throws Exception {
        operations.rebind(caller(ROOT_BUS), NIC, opts("owner", ALICE));
        AliasIndex aliases = AliasIndex.load(AliasSources.forModulesDir(dir.resolve("modules"), List.of()));
        DeviceRegistry fresh = new DeviceRegistry(sysfs, () -> aliases, engine::onVfioDriver, HardwareNames.NONE, d -> false, a -> "",
                (d, vfio) -> {
                    VfioNodes n = new VfioNodes(dev, acl);
                    return new DeviceView.Nodes(n.groupNode(d, vfio).map(Object::toString).orElse(""), "", n.users(d, vfio));
                });
        fresh.populate(List.of(sysfs.read(NIC).orElseThrow()));
        assertEquals(List.of(ALICE), uids(fresh.get(NIC).orElseThrow().properties().get("AccessUids").getValue()));
    }

    @Test
    void aPersistedOwnerIsGivenTheNodesAtStart() throws Exception {
        Files.createDirectories(dir.resolve("etc/devices.d"));
        Files.writeString(dir.resolve("etc/devices.d/nic.conf"), "match address 0000:03:00.0\nowner 4242\n");
        persistence.coldplug(sysfs.readAll());
        assertEquals("vfio-pci", driver(NIC));
        assertEquals(List.of(ALICE), acl.users(dev.resolve("vfio/3")));
        // a device the boot rules put on VFIO before vfiod ran gets its owner at start too
        acl.revokeAll(dev.resolve("vfio/3"));
        registry.refresh(NIC);
        assertEquals(List.of(), uids(registry.get(NIC).orElseThrow().properties().get("AccessUids").getValue()));
        persistence.coldplug(sysfs.readAll());
        assertEquals(List.of(ALICE), acl.users(dev.resolve("vfio/3")));
        // and its object says so
        assertEquals(List.of(ALICE), uids(registry.get(NIC).orElseThrow().properties().get("AccessUids").getValue()));
    }

    @Test
    void persistWithOwnerWritesTheOwnerIntoTheRule() throws Exception {
        operations.rebind(caller(ROOT_BUS), NIC, opts("owner", ALICE, "persist", true));
        String rule = Files.readString(dir.resolve("etc/devices.d").resolve(RuleStore.addressFile(dir.resolve("etc/devices.d"), NIC).getFileName()));
        assertTrue(rule.contains("\nowner 4242\n"), rule);
        assertEquals(List.of(ALICE), acl.users(dev.resolve("vfio/3")));
    }

    @Test
    void theFullAnswerOfAGroupRebindNamesTheWholeGroup() throws Exception {
        Map<String, Variant<?>> a = operations.assign(caller(ROOT_BUS), GPU, opts("group", true, "owner", ALICE));
        assertEquals(List.of("0000:01:00.0", "0000:01:00.1"), get(a, "devices"));
        assertEquals(Map.of("0000:01:00.0", "vfio-pci", "0000:01:00.1", "vfio-pci"), get(a, "drivers"));
        assertEquals(1, (int) get(a, "group"));
        Path group = dev.resolve("vfio/1");
        assertEquals(Map.of("0000:01:00.0", cdev(GPU).toString(), "0000:01:00.1", cdev(AUDIO).toString()), get(a, "device-nodes"));
        assertEquals(List.of(group.toString(), cdev(GPU).toString(), cdev(AUDIO).toString()), get(a, "nodes"));
        for (Path n : List.of(group, cdev(GPU), cdev(AUDIO))) assertEquals(List.of(ALICE), acl.users(n), n.toString());
        assertEquals(List.of(ALICE), uids(get(a, "access")));
    }

    @Test
    void aDryRunAnswersWhatWouldHappenAndChangesNothing() throws Exception {
        Map<String, Variant<?>> a = operations.assign(caller(ALICE_BUS), GPU, opts("group", true, "dry-run", true, "owner", BOB));
        // anyone may ask: no polkit, no write, no node
        assertEquals(List.of(), asked);
        assertEquals("amdgpu", driver(GPU));
        assertFalse(Files.exists(dev.resolve("vfio")));
        assertEquals(true, get(a, "dry-run"));
        assertEquals(List.of("0000:01:00.0", "0000:01:00.1"), get(a, "devices"));
        assertEquals(Map.of("0000:01:00.0", "vfio_pci", "0000:01:00.1", "vfio_pci"), get(a, "drivers"));
        assertEquals(dev.resolve("vfio/1").toString(), get(a, "group-node"));
        List<String> steps = get(a, "steps");
        assertTrue(steps.contains("load module vfio_pci"), steps.toString());
        assertTrue(steps.contains("give uid 4243 (bob) read and write access to " + dev.resolve("vfio/1")), steps.toString());
        assertEquals(List.of(), uids(get(a, "access")));
    }

    @Test
    void aForcedDryRunNamesTheUsersItFound() throws Exception {
        Map<String, Variant<?>> a = operations.assign(caller(ROOT_BUS), name("0000:00:02.0"), opts("dry-run", true, "force", true));
        List<String> users = get(a, "users");
        assertTrue(users.stream().anyMatch(u -> u.contains("boot VGA")), users.toString());
        assertEquals("i915", driver(name("0000:00:02.0")));
    }
}
