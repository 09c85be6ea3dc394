package org.vfiod.daemon.usage;

import java.io.IOException;
import java.util.List;

/**
 * The host's IPv4 addresses. {@code /proc} has no per-interface file of them (IPv6 has {@code net/if_inet6}), so on
 * a real host they come from rtnetlink ({@link NetlinkAddresses}); a simulated host writes them in a file
 * ({@link FileInterfaceAddresses}).
 */
public interface InterfaceAddresses {
    List<InterfaceAddress> ipv4() throws IOException;
}
