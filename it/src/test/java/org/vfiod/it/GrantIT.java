package org.vfiod.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The owner option through the real bus and the real polkitd: giving yourself a device's VFIO nodes needs only
 * org.vfiod.rebind, giving them to someone else org.vfiod.grant (auth_admin: only root gets it here, no agent
 * answers), a uid nobody has is InvalidArgument; the access is an ACL entry on the simulated kernel's node files,
 * read back with getfacl, and shown by the device object.
 */
@ExtendWith(RealComponents.class)
class GrantIT {
    static final String NIC = "0000:03:00.0";

    static long uid(User user) throws Exception {
        Process p = new ProcessBuilder("id", "-u", user.account()).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).strip();
        p.waitFor(10, TimeUnit.SECONDS);
        return Long.parseLong(out);
    }

    /** The simulated kernel makes its nodes in the host folder's dev/, which is vfiod's --dev-root. */
    static Path dev(Env env) throws Exception {
        Path dev = env.hostDir().resolve("dev");
        env.sim().devRoot(dev);
        return dev;
    }

    static String getfacl(Path node) throws Exception {
        Process p = new ProcessBuilder("getfacl", "-n", "-c", "-p", node.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor(10, TimeUnit.SECONDS);
        return out;
    }

    @Test
    void aMemberGivesHimselfTheNodesWithRebindAlone(Env env) throws Exception {
        Path dev = dev(env);
        env.vfiod();
        long member = uid(User.MEMBER);
        Reply r = env.manager(User.MEMBER, "Assign", NIC, "{'owner': <uint32 " + member + ">}").assertOk();
        Path group = dev.resolve("vfio/3");
        String out = r.out();
        assertTrue(out.contains("'group-node': <'" + group + "'>"), r::describe);
        assertTrue(out.contains("'access': <[uint32 " + member + "]>"), r::describe);
        assertTrue(out.contains("'driver': <'vfio-pci'>"), r::describe);
        assertTrue(getfacl(group).contains("user:" + member + ":rw-"), getfacl(group));
        assertTrue(env.get(User.OUTSIDER, Env.devicePath(NIC), Env.DEVICE_IFACE, "AccessUids").assertOk().out()
                .contains("uint32 " + member), "AccessUids");
        assertEquals(group.toString(), env.deviceProperty(NIC, "VfioGroupNode"));
        // and Release takes it back before the node goes
        Path kept = env.dir().resolve("group-3-inode");
        Files.createLink(kept, group);
        Reply back = env.manager(User.MEMBER, "Release", NIC, "{}").assertOk();
        assertTrue(back.out().contains("take back the access of uid " + member), back::describe);
        assertFalse(getfacl(kept).contains("user:" + member), getfacl(kept));
        assertEquals("e1000e", env.driverOf(NIC));
    }

    @Test
    void giveAnotherUserTheNodesNeedsGrant(Env env) throws Exception {
        Path dev = dev(env);
        env.vfiod();
        long outsider = uid(User.OUTSIDER);
        SysfsSnapshot before = env.snapshot();
        env.manager(User.MEMBER, "Assign", NIC, "{'owner': <uint32 " + outsider + ">}")
                .assertError(Env.ACCESS_DENIED, "not authorized", "nothing was changed");
        before.assertUnchanged("an owner the member may not give");
        assertFalse(Files.exists(dev.resolve("vfio/3")));
        // root may; v1's Rebind takes the option too, and still answers the driver alone
        assertEquals("vfio-pci", Env.string(env.manager(User.ROOT, "Rebind", NIC, "{'owner': <uint32 " + outsider + ">}").assertOk()));
        assertTrue(getfacl(dev.resolve("vfio/3")).contains("user:" + outsider + ":rw-"));
    }

    @Test
    void theOutsiderCannotGiveHimselfTheNodes(Env env) throws Exception {
        Path dev = dev(env);
        env.vfiod();
        SysfsSnapshot before = env.snapshot();
        env.device(User.OUTSIDER, NIC, "Assign", "{'owner': <uint32 " + uid(User.OUTSIDER) + ">}")
                .assertError(Env.ACCESS_DENIED, "not authorized");
        before.assertUnchanged("the outsider's Assign");
        assertFalse(Files.exists(dev.resolve("vfio/3")));
    }

    @Test
    void aUidNoUserHasIsAnInvalidArgument(Env env) throws Exception {
        Path dev = dev(env);
        env.vfiod();
        SysfsSnapshot before = env.snapshot();
        env.manager(User.ROOT, "Assign", NIC, "{'owner': <uint32 3999999999>}")
                .assertError(Env.INVALID_ARGUMENT, "no user has uid 3999999999", "nothing was changed");
        env.manager(User.ROOT, "Rebind", NIC, "{'owner': <'root'>}").assertError(Env.INVALID_ARGUMENT, "'owner' must be of type u");
        before.assertUnchanged("an owner nobody is");
        assertFalse(Files.exists(dev.resolve("vfio/3")));
    }

    @Test
    void aDryRunAnswersInFullAndAsksNobody(Env env) throws Exception {
        Path dev = dev(env);
        env.vfiod();
        SysfsSnapshot before = env.snapshot();
        Reply r = env.manager(User.OUTSIDER, "Assign", "0000:01:00.0", "{'group': <true>, 'dry-run': <true>}").assertOk();
        assertTrue(r.out().contains("'dry-run': <true>"), r::describe);
        assertTrue(r.out().contains("'devices': <['0000:01:00.0', '0000:01:00.1']>"), r::describe);
        assertTrue(r.out().contains("'group-node': <'" + dev.resolve("vfio/1") + "'>"), r::describe);
        before.assertUnchanged("a dry run");
    }

    @Test
    void theTypedClientGetsTheFullAnswer(Env env) throws Exception {
        Path dev = dev(env);
        env.vfiod();
        long member = uid(User.MEMBER);
        try (org.vfiod.client.VfiodClient client = org.vfiod.client.VfiodClient.connect(env.address())) {
            org.vfiod.client.Assignment a = client.assign(NIC, org.vfiod.client.RebindOptions.none().withOwner(member));
            assertEquals("vfio-pci", a.driver());
            assertEquals(java.util.List.of(NIC), a.devices());
            assertEquals(java.util.Map.of(NIC, "vfio-pci"), a.drivers());
            assertEquals(3, a.group());
            assertEquals(dev.resolve("vfio/3").toString(), a.groupNode());
            assertEquals(java.util.List.of(member), a.access());
            assertEquals(a.nodes().get(0), a.groupNode());
            assertEquals(java.util.List.copyOf(a.deviceNodes().values()), a.nodes().subList(1, a.nodes().size()));
            assertFalse(a.dryRun());
            org.vfiod.client.DeviceInfo info = client.device(client.devicePath(NIC));
            assertEquals(a.groupNode(), info.vfioGroupNode());
            assertEquals(java.util.List.of(member), info.accessUids());
            // version 1 is as it was: the driver alone
            assertEquals("e1000e", client.restore(NIC, org.vfiod.client.RebindOptions.none()));
            org.vfiod.client.Assignment again = client.assign(NIC, org.vfiod.client.RebindOptions.none().withDryRun());
            assertTrue(again.dryRun());
            assertEquals(java.util.List.of(), again.access());
        }
    }

    @Test
    void aRulesOwnerGetsTheNodesWhenVfiodStarts(Env env) throws Exception {
        Path dev = dev(env);
        long member = uid(User.MEMBER);
        Path rules = Files.createDirectories(env.dir().resolve("etc-vfiod/devices.d"));
        Files.writeString(rules.resolve("nic.conf"), "match address " + NIC + "\nowner " + member + "\n");
        env.vfiod();
        assertEquals("vfio-pci", env.driverOf(NIC));
        assertTrue(getfacl(dev.resolve("vfio/3")).contains("user:" + member + ":rw-"), getfacl(dev.resolve("vfio/3")));
        assertTrue(env.get(User.ROOT, Env.devicePath(NIC), Env.DEVICE_IFACE, "AccessUids").assertOk().out()
                .contains("uint32 " + member), "AccessUids");
    }
}
