package org.vfiod.daemon.udev;

import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.PointerType;
import java.util.Map;

/**
 * The part of libudev the daemon uses, bound with JNA. Modelled on jna-platform's
 * {@code com.sun.jna.platform.linux.Udev}, which the daemon does not depend on and which has no monitor.
 *
 * <p>libudev objects are not thread-safe: an object, and everything reachable from the context it was made from,
 * must never be used by two threads at once. {@link UdevMonitorSource} keeps its objects on its own thread and
 * The tests' {@code UdevHardwareNames} keeps its own context behind a lock; nothing else may hold these types.
 *
 * <p>Every getter returns memory owned by the object it was called on, which JNA copies into a Java string at
 * once, so the strings stay valid after the object is unreferenced. Functions returning {@code int} return a
 * negative errno on failure; functions returning an object return {@code null} and set {@code errno}, which
 * {@link Native#getLastError()} reads (JNA saves errno after every call, so it survives the JVM's own work until
 * the next native call on the same thread).
 */
public interface Libudev extends Library {

    /** Loads the library; throws {@link UnsatisfiedLinkError} where there is no libudev at all. */
    static Libudev load() {
        // Names from the hwdb may be UTF-8 whatever the JVM's default charset is.
        Map<String, Object> options = Map.of(Library.OPTION_STRING_ENCODING, "UTF-8");
        try {
            return Native.load("udev", Libudev.class, options);
        } catch (UnsatisfiedLinkError noDevelopmentLink) {
            // "udev" needs libudev.so (a -dev package) unless JNA finds a versioned file itself; the runtime
            // package always ships the soname.
            return Native.load("libudev.so.1", Libudev.class, options);
        }
    }

    // Distinct pointer types so that a device cannot be passed where a monitor is expected.

    /** {@code struct udev}: the library context. */
    class Context extends PointerType {
    }

    /** {@code struct udev_enumerate}. */
    class Enumerate extends PointerType {
    }

    /** {@code struct udev_monitor}. */
    class Monitor extends PointerType {
    }

    /** {@code struct udev_device}. */
    class Device extends PointerType {
    }

    /** {@code struct udev_list_entry}: owned by the object it came from, never unreferenced on its own. */
    class ListEntry extends PointerType {
    }

    /** {@code struct udev_hwdb}. */
    class Hwdb extends PointerType {
    }

    // ---- context -------------------------------------------------------------------------------------------

    Context udev_new();

    Context udev_unref(Context udev);

    // ---- list entries --------------------------------------------------------------------------------------

    ListEntry udev_list_entry_get_next(ListEntry entry);

    String udev_list_entry_get_name(ListEntry entry);

    String udev_list_entry_get_value(ListEntry entry);

    // ---- enumerate -----------------------------------------------------------------------------------------

    Enumerate udev_enumerate_new(Context udev);

    int udev_enumerate_add_match_subsystem(Enumerate enumerate, String subsystem);

    int udev_enumerate_scan_devices(Enumerate enumerate);

    /** Names are syspaths; values are unused. */
    ListEntry udev_enumerate_get_list_entry(Enumerate enumerate);

    Enumerate udev_enumerate_unref(Enumerate enumerate);

    // ---- device --------------------------------------------------------------------------------------------

    Device udev_device_new_from_syspath(Context udev, String syspath);

    Device udev_device_unref(Device device);

    String udev_device_get_syspath(Device device);

    String udev_device_get_sysname(Device device);

    String udev_device_get_subsystem(Device device);

    /** {@code null} for a device that did not come from a monitor. */
    String udev_device_get_action(Device device);

    String udev_device_get_driver(Device device);

    String udev_device_get_sysattr_value(Device device, String sysattr);

    String udev_device_get_property_value(Device device, String key);

    ListEntry udev_device_get_properties_list_entry(Device device);

    // ---- monitor -------------------------------------------------------------------------------------------

    /** {@code name} is {@code "udev"} (events after udevd processed them) or {@code "kernel"} (raw uevents). */
    Monitor udev_monitor_new_from_netlink(Context udev, String name);

    /** {@code devtype} may be {@code null} for any. */
    int udev_monitor_filter_add_match_subsystem_devtype(Monitor monitor, String subsystem, String devtype);

    int udev_monitor_enable_receiving(Monitor monitor);

    int udev_monitor_set_receive_buffer_size(Monitor monitor, int size);

    int udev_monitor_get_fd(Monitor monitor);

    /**
     * Reads one event from the non-blocking socket. {@code null} with errno {@code EAGAIN} when there is nothing
     * (more) to read, {@code ENOBUFS} when the kernel dropped events because the socket buffer was full.
     */
    Device udev_monitor_receive_device(Monitor monitor);

    Monitor udev_monitor_unref(Monitor monitor);

    // ---- hwdb ----------------------------------------------------------------------------------------------

    /** {@code null} when no hwdb.bin is installed. */
    Hwdb udev_hwdb_new(Context udev);

    /** Owned by the hwdb and valid only until its next lookup. {@code flags} must be 0. */
    ListEntry udev_hwdb_get_properties_list_entry(Hwdb hwdb, String modalias, int flags);

    Hwdb udev_hwdb_unref(Hwdb hwdb);
}
