package org.vfiod.daemon.access;

import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import java.io.IOException;
import java.util.Optional;

/**
 * The users as the C library's getpwuid_r sees them, through NSS: /etc/passwd, and also systemd-homed, sssd or LDAP
 * users, who are real users of a desktop or a managed machine but in no file vfiod could read. The default.
 */
public final class NssUsers implements Users {
    private static final int ERANGE = 34, EINTR = 4;

    static {
        Native.register(NssUsers.class, "c");
    }

    /** {@code struct passwd *pwd, char *buf, size_t buflen, struct passwd **result}. */
    private static native int getpwuid_r(int uid, Memory pwd, Memory buf, long buflen, Memory result);

    @Override
    public Optional<String> nameOf(long uid) throws IOException {
        if (uid < 0 || uid > 0xfffffffeL) return Optional.empty();
        // struct passwd is 48 bytes on LP64; a little room in case of padding
        Memory pwd = new Memory(64);
        Memory result = new Memory(Native.POINTER_SIZE);
        for (long size = 4096; size <= 1 << 20; size *= 4) {
            Memory buf = new Memory(size);
            result.setPointer(0, null);
            int rc = getpwuid_r((int) uid, pwd, buf, size, result);
            if (rc == ERANGE || rc == EINTR) continue;
            if (rc != 0) throw new IOException("getpwuid_r(" + uid + ") failed: errno " + rc);
            Pointer found = result.getPointer(0);
            if (found == null) return Optional.empty();
            return Optional.of(found.getPointer(0).getString(0));
        }
        throw new IOException("getpwuid_r(" + uid + "): the entry is over 1 MiB");
    }
}
