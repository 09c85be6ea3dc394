package org.vfiod.daemon.bus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.TreeMap;
import java.util.TreeSet;
import javax.xml.parsers.DocumentBuilderFactory;
import org.freedesktop.dbus.types.Variant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vfiod.client.Introspection;
import org.vfiod.daemon.aliases.AliasIndex;
import org.vfiod.daemon.aliases.AliasSources;
import org.vfiod.daemon.bus.MemberTable.Kind;
import org.vfiod.daemon.bus.MemberTable.Member;
import org.vfiod.daemon.bus.MemberTable.Mutates;
import org.vfiod.daemon.model.DeviceView;
import org.vfiod.daemon.sysfs.PciAddress;
import org.vfiod.daemon.sysfs.PciInfo;
import org.vfiod1.Device;
import org.vfiod1.Manager;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/**
 * The dispatcher's member table and the properties vfiod serves, held to the committed contract
 * (api's org/vfiod1/org.vfiod1.xml) and to the standard interfaces' introspection: member by member (name,
 * in- and out-signature, polkit action), property by property (name and type). No bus, no root.
 */
class ContractTest {
    private static final String ACTION = "org.vfiod1.PolkitAction";
    private static final MemberTable TABLE = new MemberTable(null, null);

    /** {@code iface.Member(in)->(out)}, and the polkit action when there is one. */
    private static String line(String iface, String name, String in, String out, String action) {
        return iface + "." + name + "(" + in + ")->(" + out + ")" + (action == null ? "" : " polkit " + action);
    }

    private static Element parse(String xml) throws Exception {
        DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
        f.setFeature("http://apache.org/xml/features/nonvalidating/load-external-dtd", false);
        return f.newDocumentBuilder().parse(new ByteArrayInputStream(xml.getBytes(StandardCharsets.UTF_8))).getDocumentElement();
    }

    private static List<Element> children(Element parent, String tag) {
        List<Element> out = new ArrayList<>();
        NodeList nodes = parent.getChildNodes();
        for (int i = 0; i < nodes.getLength(); i++) {
            if (nodes.item(i) instanceof Element e && e.getTagName().equals(tag)) out.add(e);
        }
        return out;
    }

    /** Every method of the introspection {@code xml}, as {@link #line} puts it. */
    private static TreeSet<String> methods(String xml) throws Exception {
        TreeSet<String> out = new TreeSet<>();
        for (Element iface : children(parse(xml), "interface")) {
            for (Element m : children(iface, "method")) {
                StringBuilder in = new StringBuilder(), out2 = new StringBuilder();
                for (Element arg : children(m, "arg")) {
                    ("out".equals(arg.getAttribute("direction")) ? out2 : in).append(arg.getAttribute("type"));
                }
                String action = null;
                for (Element a : children(m, "annotation")) if (ACTION.equals(a.getAttribute("name"))) action = a.getAttribute("value");
                out.add(line(iface.getAttribute("name"), m.getAttribute("name"), in.toString(), out2.toString(), action));
            }
        }
        return out;
    }

    /** The members a kind of object answers: the table's, and Introspect, which the dispatcher answers itself. */
    private static TreeSet<String> table(Kind kind) {
        TreeSet<String> out = new TreeSet<>();
        for (Member m : kind.members()) {
            out.add(line(m.iface(), m.name(), m.in(), m.out(), m.access() instanceof Mutates w ? w.action() : null));
        }
        if (!kind.introspected().isEmpty()) out.add(line(MemberTable.INTROSPECTABLE, "Introspect", "", "s", null));
        return out;
    }

    private static String served(Kind kind) {
        return new IntrospectionXml().node(kind.introspected(), List.of());
    }

    @Test
    void theManagerObjectAnswersExactlyTheMembersItIntrospects() throws Exception {
        assertEquals(methods(served(TABLE.managerObject())), table(TABLE.managerObject()));
    }

    @Test
    void aDeviceObjectAnswersExactlyTheMembersItIntrospects() throws Exception {
        assertEquals(methods(served(TABLE.deviceObject())), table(TABLE.deviceObject()));
    }

    @Test
    void theObjectsOnTheWayDownAnswerExactlyTheMembersTheyIntrospect() throws Exception {
        assertEquals(methods(served(MemberTable.ANCESTOR)), table(MemberTable.ANCESTOR));
    }

    @Test
    void whatIsServedOfOurInterfacesIsTheCommittedContract() throws Exception {
        TreeSet<String> contract = methods(Introspection.contract());
        TreeSet<String> ours = new TreeSet<>();
        for (Kind kind : List.of(TABLE.managerObject(), TABLE.deviceObject())) {
            for (String l : table(kind)) if (l.startsWith("org.vfiod1.")) ours.add(l);
        }
        assertEquals(contract, ours);
    }

    @Test
    void everyPolkitActionTheContractNamesIsDefinedByThePolicy() throws Exception {
        String policy = Files.readString(Path.of("..", "packaging", "polkit", "org.vfiod.policy"));
        TreeSet<String> named = new TreeSet<>();
        for (String l : methods(Introspection.contract())) if (l.contains(" polkit ")) named.add(l.substring(l.indexOf(" polkit ") + 8));
        named.add(Actions.PERSIST);
        named.add(Actions.FORCE);
        named.add(Actions.GRANT);
        assertEquals(5, named.size(), named.toString());
        for (String action : named) assertTrue(policy.contains("<action id=\"" + action + "\">"), action);
    }

    /** Name to type of every property of {@code iface} in the contract; each must be read-only. */
    private static Map<String, String> contractProperties(String iface) throws Exception {
        Map<String, String> out = new TreeMap<>();
        for (Element i : children(parse(Introspection.contract()), "interface")) {
            if (!i.getAttribute("name").equals(iface)) continue;
            for (Element p : children(i, "property")) {
                assertEquals("read", p.getAttribute("access"), p.getAttribute("name"));
                out.put(p.getAttribute("name"), p.getAttribute("type"));
            }
        }
        assertFalse(out.isEmpty(), iface);
        return out;
    }

    private static Map<String, String> types(Map<String, Variant<?>> properties) {
        Map<String, String> out = new TreeMap<>();
        properties.forEach((k, v) -> out.put(k, v.getSig()));
        return out;
    }

    @Test
    void theManagersPropertiesHaveTheContractsNamesAndTypes(@TempDir Path modules) throws Exception {
        Files.writeString(modules.resolve("modules.alias"), "alias vfio_pci:v*d*sv*sd*bc*sc*i* vfio_pci\n");
        AliasIndex index = AliasIndex.load(AliasSources.forModulesDir(modules, List.of()));
        assertEquals(contractProperties(Manager.INTERFACE), types(ManagerObject.props("6.1.0-test", index)));
    }

    @Test
    void aDevicesPropertiesHaveTheContractsNamesAndTypes() throws Exception {
        var gpu = PciAddress.require("0000:01:00.0").toDeviceName();
        var audio = PciAddress.require("0000:01:00.1").toDeviceName();
        Optional<PciInfo> pci = Optional.of(new PciInfo(0x1002, 0x73bf, 0x030000, 0, 0, Optional.empty(), List.of()));
        for (boolean plain : List.of(true, false)) {
            // one device with every optional value absent, one with every one present
            org.vfiod.daemon.sysfs.Device d = plain
                    ? new org.vfiod.daemon.sysfs.Device(gpu, "pci:v00001002d000073BFsv00000000sd00000000bc03sc00i00",
                            Optional.empty(), Optional.empty(), OptionalInt.empty(), List.of(), false, false, false, pci)
                    : new org.vfiod.daemon.sysfs.Device(gpu, "pci:v00001002d000073BFsv00000000sd00000000bc03sc00i00",
                            Optional.of("amdgpu"), Optional.of("vfio-pci"), OptionalInt.of(1), List.of(gpu, audio), true, false, false, pci);
            assertEquals(contractProperties(Device.INTERFACE),
                    types(DeviceView.properties(d, "AMD", "Navi 21", "vfio-pci", !plain, plain, !plain, plain ? "" : "put back on amdgpu")), "plain " + plain);
        }
    }
}
