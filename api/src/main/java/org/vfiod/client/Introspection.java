package org.vfiod.client;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import javax.xml.parsers.DocumentBuilderFactory;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/**
 * The committed contract ({@code org/vfiod1/org.vfiod1.xml}) and a canonical form of an interface's members, so
 * the live introspection can be compared with it: order and argument names do not count, types, directions and
 * access do.
 */
public final class Introspection {
    public static final String RESOURCE = "/org/vfiod1/org.vfiod1.xml";

    private Introspection() {
    }

    public static String contract() throws IOException {
        try (InputStream in = Introspection.class.getResourceAsStream(RESOURCE)) {
            if (in == null) throw new IOException("missing " + RESOURCE);
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    /** One line per member of the interface, sorted; empty when the interface is absent. */
    public static List<String> canonical(String xml, String interfaceName) throws IOException {
        try {
            DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
            f.setValidating(false);
            f.setFeature("http://apache.org/xml/features/nonvalidating/load-external-dtd", false);
            Element root = f.newDocumentBuilder().parse(new ByteArrayInputStream(xml.getBytes(StandardCharsets.UTF_8))).getDocumentElement();
            NodeList ifaces = root.getElementsByTagName("interface");
            TreeSet<String> out = new TreeSet<>();
            for (int i = 0; i < ifaces.getLength(); i++) {
                Element iface = (Element) ifaces.item(i);
                if (!iface.getAttribute("name").equals(interfaceName)) continue;
                for (String kind : List.of("method", "signal", "property")) {
                    NodeList members = iface.getElementsByTagName(kind);
                    for (int j = 0; j < members.getLength(); j++) {
                        Element m = (Element) members.item(j);
                        StringBuilder line = new StringBuilder(kind).append(' ').append(m.getAttribute("name"));
                        if (kind.equals("property")) {
                            line.append(' ').append(m.getAttribute("type")).append(' ').append(m.getAttribute("access"));
                        } else {
                            List<String> args = new ArrayList<>();
                            NodeList a = m.getElementsByTagName("arg");
                            for (int k = 0; k < a.getLength(); k++) {
                                Element arg = (Element) a.item(k);
                                String dir = arg.getAttribute("direction");
                                if (dir.isEmpty()) dir = kind.equals("signal") ? "out" : "in";
                                args.add(dir + ":" + arg.getAttribute("type"));
                            }
                            line.append(' ').append(args);
                        }
                        out.add(line.toString());
                    }
                }
            }
            return List.copyOf(out);
        } catch (IOException e) {
            throw e;
        } catch (Exception e) {
            throw new IOException("not introspection XML: " + e.getMessage(), e);
        }
    }
}
