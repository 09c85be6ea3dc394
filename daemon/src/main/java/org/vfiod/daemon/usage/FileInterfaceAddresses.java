package org.vfiod.daemon.usage;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * IPv4 addresses from a file, one a line: {@code <interface index> <address>/<prefix length>}, such as
 * {@code 3 10.0.0.5/24}. A missing file is a host without addresses. For simulated hosts.
 */
public final class FileInterfaceAddresses implements InterfaceAddresses {
    private final Path file;

    public FileInterfaceAddresses(Path file) {
        this.file = file;
    }

    @Override
    public List<InterfaceAddress> ipv4() throws IOException {
        String text;
        try {
            text = Files.readString(file);
        } catch (NoSuchFileException e) {
            return List.of();
        }
        List<InterfaceAddress> out = new ArrayList<>();
        for (String line : text.split("\n")) {
            String[] f = line.strip().split("\\s+");
            if (f.length != 2) continue;
            int slash = f[1].indexOf('/');
            try {
                out.add(new InterfaceAddress(Integer.parseInt(f[0]), f[1].substring(0, slash), Integer.parseInt(f[1].substring(slash + 1))));
            } catch (RuntimeException e) {
                throw new IOException(file + ": not an address line: " + line, e);
            }
        }
        return out;
    }
}
