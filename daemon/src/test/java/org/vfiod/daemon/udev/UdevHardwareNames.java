package org.vfiod.daemon.udev;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The test oracle for {@link HwdbFile}: libudev's own hwdb lookup through JNA. Vendor and model names from the udev
 * hardware database (hwdb.bin, shipped by the udev package), looked up by
 * modalias the way udev's own {@code hwdb} builtin does.
 *
 * <p>The hwdb is not thread-safe and callers (the D-Bus registry) come from many threads, so it has its own
 * libudev context behind one lock, apart from the monitor's thread. Lookups are memory-mapped trie walks, short
 * enough to hold the lock through; results are cached per modalias because the registry asks again for every
 * refresh of a device.
 */
public final class UdevHardwareNames implements HardwareNames {
    private static final Logger LOG = LoggerFactory.getLogger(UdevHardwareNames.class);
    private static final Names NONE = new Names(Optional.empty(), Optional.empty());
    /** Far above the number of distinct device kinds in a machine; only guards against a runaway caller. */
    private static final int CACHE_LIMIT = 4096;

    private final Object lock = new Object();
    private final Libudev lib;
    private Libudev.Context context;
    private Libudev.Hwdb hwdb;
    private final Map<String, Names> cache = new LinkedHashMap<>(64, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Names> eldest) {
            return size() > CACHE_LIMIT;
        }
    };

    /** Opens the hwdb; where libudev is missing, names are simply empty. */
    public static HardwareNames open() {
        try {
            return new UdevHardwareNames(Libudev.load());
        } catch (LinkageError e) {
            LOG.warn("libudev is not available; devices will have no vendor or model names: {}", e.getMessage());
            return HardwareNames.NONE;
        }
    }

    UdevHardwareNames(Libudev lib) {
        this.lib = lib;
        context = lib.udev_new();
        if (context == null) {
            LOG.warn("udev_new failed; devices will have no vendor or model names");
            return;
        }
        hwdb = lib.udev_hwdb_new(context);
        if (hwdb == null) {
            LOG.info("no udev hwdb.bin (is the udev package installed?); devices will have no vendor or model names");
        }
    }

    /** Whether a hwdb was found; without one every lookup is empty. */
    public boolean available() {
        synchronized (lock) {
            return hwdb != null;
        }
    }

    @Override
    public Names lookup(String modalias) {
        if (modalias == null || modalias.isEmpty()) return NONE;
        synchronized (lock) {
            if (hwdb == null) return NONE;
            Names cached = cache.get(modalias);
            if (cached != null) return cached;
            String vendor = null;
            String model = null;
            // The list belongs to the hwdb and is overwritten by the next lookup: read it all now, under the lock.
            for (Libudev.ListEntry e = lib.udev_hwdb_get_properties_list_entry(hwdb, modalias, 0); e != null;
                 e = lib.udev_list_entry_get_next(e)) {
                String name = lib.udev_list_entry_get_name(e);
                if ("ID_VENDOR_FROM_DATABASE".equals(name)) vendor = lib.udev_list_entry_get_value(e);
                else if ("ID_MODEL_FROM_DATABASE".equals(name)) model = lib.udev_list_entry_get_value(e);
            }
            Names names = new Names(nonBlank(vendor), nonBlank(model));
            cache.put(modalias, names);
            return names;
        }
    }

    /** Every property libudev's hwdb has for {@code modalias}: what {@link HwdbFile} is held equal to. */
    Map<String, String> properties(String modalias) {
        Map<String, String> out = new LinkedHashMap<>();
        synchronized (lock) {
            if (hwdb == null) return out;
            for (Libudev.ListEntry e = lib.udev_hwdb_get_properties_list_entry(hwdb, modalias, 0); e != null;
                 e = lib.udev_list_entry_get_next(e)) {
                out.put(lib.udev_list_entry_get_name(e), lib.udev_list_entry_get_value(e));
            }
        }
        return out;
    }

    /** Later lookups return empty names. */
    @Override
    public void close() {
        synchronized (lock) {
            if (hwdb != null) {
                lib.udev_hwdb_unref(hwdb);
                hwdb = null;
            }
            if (context != null) {
                lib.udev_unref(context);
                context = null;
            }
            cache.clear();
        }
    }

    private static Optional<String> nonBlank(String s) {
        return s == null || s.isBlank() ? Optional.empty() : Optional.of(s.strip());
    }
}
