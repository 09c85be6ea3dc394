package org.vfiod.daemon.bus;

import java.util.List;
import java.util.Map;
import org.freedesktop.dbus.types.Variant;
import org.vfiod.daemon.sysfs.DeviceName;

/**
 * What the mutating members do. The bus only routes the calls here, on its slow pool; the implementation
 * (Operations) validates, asks polkit, acts and refreshes the model. Failures are D-Bus errors (org.vfiod1.Error,
 * AccessDenied), which go back to the caller as they are.
 */
public interface Mutations {
    /**
     * {@code caller} names who asks and the polkit action the member table gives the call; {@code device} is the
     * device object's, or the Manager's {@code address} argument already parsed.
     */
    String rebind(Caller caller, DeviceName device, Map<String, Variant<?>> options);

    String restore(Caller caller, DeviceName device, Map<String, Variant<?>> options);

    /** Rebind, answered in full: the keys the contract lists under Assign. */
    Map<String, Variant<?>> assign(Caller caller, DeviceName device, Map<String, Variant<?>> options);

    /** Restore, answered in full. */
    Map<String, Variant<?>> release(Caller caller, DeviceName device, Map<String, Variant<?>> options);

    /**
     * Who uses the device and the endpoints that would move with it, one line each, as InUse names them: not a
     * change, but it reads all of /proc, so it runs where the changes run.
     */
    List<String> users(DeviceName device);

    /** Reads the alias sources again and makes the new index the one in use. */
    void reload(Caller caller);
}
