package org.vfiod.daemon.usage;

/** An address of an interface, by the interface's index. */
public record InterfaceAddress(int interfaceIndex, String address, int prefixLength) {
    /** As {@code ip} writes it: 10.0.0.5/24. */
    public String text() {
        return address + "/" + prefixLength;
    }
}
