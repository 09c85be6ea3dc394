package org.vfiod.cli;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.freedesktop.dbus.DBusPath;
import org.freedesktop.dbus.exceptions.DBusException;
import org.freedesktop.dbus.messages.MethodCall;
import org.vfiod.client.Assignment;
import org.vfiod.client.DeviceInfo;
import org.vfiod.client.RebindOptions;
import org.vfiod.client.Resolution;
import org.vfiod.client.VfiodClient;

/** {@link Vfiod} over D-Bus, through the api's typed {@link VfiodClient}. */
final class BusVfiod implements Vfiod {
    static final String SYSTEM_BUS = "unix:path=/run/dbus/system_bus_socket";
    /** dbus-java's own default; enough for every read-only call. */
    private static final long READ_REPLY_MS = 20_000;
    /** vfiod's limits on waiting for polkit: 5 min when a person may be asked for a password, 25 s otherwise. */
    private static final long INTERACTIVE_AUTH_MS = 5 * 60_000, AUTH_MS = 25_000;
    /** vfiod's default kernel timeout, used when the caller sets none. */
    private static final long DEFAULT_KERNEL_MS = 10_000;
    private static final long SLACK_MS = 30_000;

    private final VfiodClient client;

    private BusVfiod(VfiodClient client) {
        this.client = client;
    }

    /** The bus to use: {@code --address}, else {@code DBUS_SYSTEM_BUS_ADDRESS}, else the system bus socket. */
    static String busAddress(String option, String environment) {
        if (option != null && !option.isBlank()) return option;
        if (environment != null && !environment.isBlank()) return environment;
        return SYSTEM_BUS;
    }

    static BusVfiod connect(String address) throws Exit.Unavailable {
        try {
            return new BusVfiod(VfiodClient.connect(address));
        } catch (DBusException | RuntimeException e) {
            Throwable cause = e.getCause() != null && e.getMessage() == null ? e.getCause() : e;
            throw new Exit.Unavailable("cannot connect to the bus at " + address + ": " + Exit.message(cause), e);
        }
    }

    @Override
    public List<DeviceInfo> devices() throws DBusException {
        return client.devices();
    }

    @Override
    public DeviceInfo device(String address) throws DBusException {
        return client.device(client.devicePath(address));
    }

    @Override
    public List<String> users(String address) throws DBusException {
        return client.users(client.devicePath(address));
    }

    /**
     * A call that changes devices: its reply may wait for polkit and the kernel, so dbus-java waits as long as vfiod
     * may take (see {@link #replyTimeout}), then goes back to the read calls' default.
     */
    private static <T> T waitingForTheKernel(RebindOptions options, Supplier<T> call) {
        MethodCall.setDefaultTimeout(replyTimeout(options));
        try {
            return call.get();
        } finally {
            MethodCall.setDefaultTimeout(READ_REPLY_MS);
        }
    }

    @Override
    public String rebind(String address, RebindOptions options) {
        return waitingForTheKernel(options, () -> client.rebind(address, options));
    }

    @Override
    public String restore(String address, RebindOptions options) {
        return waitingForTheKernel(options, () -> client.restore(address, options));
    }

    @Override
    public Assignment assign(String address, RebindOptions options) {
        return waitingForTheKernel(options, () -> client.assign(address, options));
    }

    @Override
    public Assignment release(String address, RebindOptions options) {
        return waitingForTheKernel(options, () -> client.release(address, options));
    }

    /** Long enough for vfiod to ask polkit and then wait on the kernel for as long as it was allowed to. */
    static long replyTimeout(RebindOptions o) {
        long auth = o.dryRun() ? 0 : o.noUserInteraction() ? AUTH_MS : INTERACTIVE_AUTH_MS;
        return auth + o.timeoutMillis().orElse(DEFAULT_KERNEL_MS) + SLACK_MS;
    }

    @Override
    public Resolution resolve(String modalias) {
        return client.resolve(modalias);
    }

    @Override
    public AutoCloseable watch(Events events) throws DBusException {
        List<AutoCloseable> handles = new ArrayList<>();
        handles.add(client.onServiceOwnerChanged(events::daemon));
        handles.add(client.onDevicesChanged(events::added, events::removed));
        handles.add(client.onPropertiesChanged((path, props) -> events.changed(path, plain(props))));
        AutoCloseable all = () -> {
            for (AutoCloseable h : handles) h.close();
        };
        try {
            client.listDevices(); // fails with ServiceUnknown when vfiod is not running
        } catch (RuntimeException e) {
            try {
                all.close();
            } catch (Exception ignored) {
                // the failure that matters is e
            }
            throw e;
        }
        return all;
    }

    /** Property values without dbus-java types: object paths as strings, lists element by element. */
    static Map<String, Object> plain(Map<String, Object> props) {
        Map<String, Object> out = new LinkedHashMap<>();
        props.forEach((k, v) -> out.put(k, plain(v)));
        return out;
    }

    private static Object plain(Object v) {
        if (v instanceof DBusPath p) return p.getPath();
        if (v instanceof List<?> list) {
            List<Object> out = new ArrayList<>(list.size());
            for (Object o : list) out.add(plain(o));
            return out;
        }
        return v;
    }

    @Override
    public boolean connected() {
        return client.isConnected();
    }

    @Override
    public void close() {
        client.close();
    }
}
