package org.vfiod.daemon.sysfs;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** Writes straight to the attribute, never creating it: a missing attribute is an error, not a new file. */
public final class FileKernelWriter implements KernelWriter {
    @Override
    public void write(Path attribute, String value) throws IOException {
        try (FileChannel ch = FileChannel.open(attribute, StandardOpenOption.WRITE)) {
            ByteBuffer buf = ByteBuffer.wrap(value.getBytes(StandardCharsets.US_ASCII));
            // sysfs takes a store in one write; a short write would be a second, different store
            int n = ch.write(buf);
            if (buf.hasRemaining()) throw new IOException("short write of " + n + " bytes to " + attribute);
        }
    }
}
