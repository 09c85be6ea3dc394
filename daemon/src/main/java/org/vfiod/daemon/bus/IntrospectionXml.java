package org.vfiod.daemon.bus;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Collection;
import java.util.List;
import org.vfiod.client.Introspection;

/**
 * The Introspect answer of each node: the standard interfaces, our interfaces cut verbatim from the committed
 * contract (so what is served and what is documented cannot drift apart), and the child nodes. The contract is read
 * on the first Introspect, not at start-up.
 */
final class IntrospectionXml {
    private static final String HEADER = """
            <!DOCTYPE node PUBLIC "-//freedesktop//DTD D-BUS Object Introspection 1.0//EN"
             "http://www.freedesktop.org/standards/dbus/1.0/introspect.dtd">
            """;
    static final String PEER = """
              <interface name="org.freedesktop.DBus.Peer">
                <method name="Ping"/>
                <method name="GetMachineId">
                  <arg name="machine_uuid" type="s" direction="out"/>
                </method>
              </interface>
            """;
    static final String INTROSPECTABLE = """
              <interface name="org.freedesktop.DBus.Introspectable">
                <method name="Introspect">
                  <arg name="xml_data" type="s" direction="out"/>
                </method>
              </interface>
            """;
    static final String PROPERTIES = """
              <interface name="org.freedesktop.DBus.Properties">
                <method name="Get">
                  <arg name="interface_name" type="s" direction="in"/>
                  <arg name="property_name" type="s" direction="in"/>
                  <arg name="value" type="v" direction="out"/>
                </method>
                <method name="GetAll">
                  <arg name="interface_name" type="s" direction="in"/>
                  <arg name="properties" type="a{sv}" direction="out"/>
                </method>
                <method name="Set">
                  <arg name="interface_name" type="s" direction="in"/>
                  <arg name="property_name" type="s" direction="in"/>
                  <arg name="value" type="v" direction="in"/>
                </method>
                <signal name="PropertiesChanged">
                  <arg name="interface_name" type="s"/>
                  <arg name="changed_properties" type="a{sv}"/>
                  <arg name="invalidated_properties" type="as"/>
                </signal>
              </interface>
            """;
    static final String OBJECT_MANAGER = """
              <interface name="org.freedesktop.DBus.ObjectManager">
                <method name="GetManagedObjects">
                  <arg name="objects" type="a{oa{sa{sv}}}" direction="out"/>
                </method>
                <signal name="InterfacesAdded">
                  <arg name="object" type="o"/>
                  <arg name="interfaces" type="a{sa{sv}}"/>
                </signal>
                <signal name="InterfacesRemoved">
                  <arg name="object" type="o"/>
                  <arg name="interfaces" type="as"/>
                </signal>
              </interface>
            """;

    private volatile String contract;

    /** The node: {@code interfaces} are standard blocks or contract interface names; {@code children} are names. */
    String node(List<String> interfaces, Collection<String> children) {
        StringBuilder xml = new StringBuilder(HEADER).append("<node>\n");
        for (String i : interfaces) xml.append(i.startsWith("  <interface") ? i : contractInterface(i));
        for (String c : children) xml.append("  <node name=\"").append(c).append("\"/>\n");
        return xml.append("</node>\n").toString();
    }

    private String contractInterface(String name) {
        String all = contract;
        if (all == null) {
            try {
                all = Introspection.contract();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            contract = all;
        }
        int start = all.indexOf("<interface name=\"" + name + "\">");
        if (start < 0) throw new IllegalStateException("the contract has no interface " + name);
        int end = all.indexOf("</interface>", start) + "</interface>".length();
        return "  " + all.substring(start, end) + "\n";
    }
}
