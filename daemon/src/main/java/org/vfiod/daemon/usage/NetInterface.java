package org.vfiod.daemon.usage;

import java.util.Optional;

/**
 * A network interface beneath a device, as its {@code net/<name>} folder shows it.
 *
 * @param up     operstate {@code up}, or IFF_UP in {@code flags} (administratively up, whatever the carrier)
 * @param master the bond, bridge or team its {@code master} link names
 */
record NetInterface(String name, int index, boolean up, Optional<String> master) {
}
