package org.vfiod.daemon.operations;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.freedesktop.DBus.Error.AccessDenied;
import org.freedesktop.dbus.exceptions.DBusExecutionException;
import org.freedesktop.dbus.types.UInt16;
import org.freedesktop.dbus.types.UInt32;
import org.freedesktop.dbus.types.Variant;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.vfiod.daemon.auth.AuthResult;
import org.vfiod.daemon.auth.Authorizer;
import org.vfiod.daemon.auth.CallerCredentials;
import org.vfiod.daemon.auth.Credentials;
import org.vfiod.daemon.aliases.AliasIndex;
import org.vfiod.daemon.aliases.AliasSourceException;
import org.vfiod.daemon.binding.BindResult;
import org.vfiod.daemon.binding.BindingException;
import org.vfiod.daemon.binding.RebindEngine;
import org.vfiod.daemon.bus.Actions;
import org.vfiod.daemon.bus.Caller;
import org.vfiod.daemon.bus.Mutations;
import org.vfiod.daemon.model.DeviceRegistry;
import org.vfiod.daemon.model.DeviceState;
import org.vfiod.daemon.sysfs.CallerText;
import java.util.Optional;
import org.vfiod.daemon.state.Persistence;
import org.vfiod.daemon.state.RuleChange;
import org.vfiod.daemon.state.RuleStore;
import org.vfiod.daemon.sysfs.DeviceName;
import org.vfiod.daemon.sysfs.DriverName;
import org.vfiod1.Error;

/**
 * The mutating calls, in the order that keeps them safe and fair: validate everything the caller sent, learn who
 * calls (uid and pid, from the bus) and count the call against that uid's allowance, ask polkit (on the auth pool,
 * never on the bus threads' critical path) for the action the bus's member table gave the call, telling it which
 * device; only then take a shared slot, let the engine work, and refresh the model. A dry run asks nobody and
 * changes nothing anyone sees. Every change is logged with its caller's uid, pid and command.
 */
public final class Operations implements Mutations {
    private static final Logger LOG = LoggerFactory.getLogger(Operations.class);

    /** How long a reply waits for the moved devices to be read again. */
    static final Duration REFRESH_WAIT = Duration.ofMillis(500);

    private final RebindEngine engine;
    private final Authorizer authorizer;
    private final Credentials credentials;
    private final ExecutorService authPool;
    private final DeviceRegistry registry;
    private final CallLimits limits;
    private final Persistence persistence;
    private final AtomicReference<AliasIndex> index;
    private final Supplier<AliasIndex> aliasLoader;
    private final Path procRoot;

    /**
     * {@code maxSlowCalls}: authorized changes in flight at once, beyond which they are refused with Busy (see
     * {@link CallLimits}); {@code aliasLoader} reads the alias sources for Reload, throwing
     * {@link AliasSourceException} wrapped in an unchecked exception; {@code procRoot}: where a caller's command is
     * read ({@code <pid>/comm}), for the log.
     */
    public Operations(RebindEngine engine, Authorizer authorizer, Credentials credentials, ExecutorService authPool,
                      DeviceRegistry registry, int maxSlowCalls, Persistence persistence, AtomicReference<AliasIndex> index,
                      Supplier<AliasIndex> aliasLoader, Path procRoot) {
        this.engine = engine;
        this.authorizer = authorizer;
        this.credentials = credentials;
        this.authPool = authPool;
        this.registry = registry;
        this.limits = new CallLimits(maxSlowCalls, Math.max(1, maxSlowCalls / 2));
        this.persistence = persistence;
        this.index = index;
        this.aliasLoader = aliasLoader;
        this.procRoot = procRoot;
    }

    @Override
    public String rebind(Caller caller, DeviceName device, Map<String, Variant<?>> options) {
        return run("Rebind", caller, device, options, true);
    }

    @Override
    public String restore(Caller caller, DeviceName device, Map<String, Variant<?>> options) {
        return run("Restore", caller, device, options, false);
    }

    @Override
    public List<String> users(DeviceName device) {
        try (CallLimits.Permit slot = limits.examination(null)) {
            return engine.users(device);
        } catch (BindingException e) {
            throw toDBus(e);
        }
    }

    @Override
    public void reload(Caller caller) {
        CallerCredentials who = identify(caller);
        try (CallLimits.Permit own = limits.admit(who)) {
            authorize(caller, caller.action(), Map.of(), true);
            AliasIndex fresh;
            try {
                fresh = aliasLoader.get();
            } catch (RuntimeException e) {
                Throwable cause = e.getCause() instanceof AliasSourceException a ? a : e;
                LOG.info("Reload by {} failed: {}", describe(who, caller), cause.getMessage());
                throw new Error.Failed("reload failed, the previous aliases stay in use: " + cause.getMessage());
            }
            index.set(fresh);
            LOG.info("Reload by {}: {} vfio_ aliases", describe(who, caller), fresh.size());
        }
    }

    private String run(String method, Caller caller, DeviceName device, Map<String, Variant<?>> options, boolean toVfio) {
        CallOptions parsed = CallOptions.parse(options);
        CallerCredentials who = identify(caller);
        try (CallLimits.Permit own = limits.admit(who)) {
            if (parsed.bind().dryRun()) return dryRun(method, who, device, parsed, toVfio);
            Map<String, String> details = details(method, device, parsed, toVfio);
            authorize(caller, caller.action(), details, parsed.interactive());
            if (parsed.persist()) authorize(caller, Actions.PERSIST, details, parsed.interactive());
            // force takes a device the host uses, or the boot GPU, or asks a VM to let go: an admin's decision
            if (parsed.bind().force()) authorize(caller, Actions.FORCE, details, parsed.interactive());
            return change(method, caller, who, device, parsed, toVfio);
        }
    }

    /**
     * A dry run: anyone may ask, so it shows nobody else anything (no busy state, no signal) and logs at DEBUG only,
     * so that one user's dry runs cannot fill the log.
     */
    private String dryRun(String method, CallerCredentials who, DeviceName device, CallOptions parsed, boolean toVfio) {
        try (CallLimits.Permit slot = limits.examination(who)) {
            BindResult r = toVfio ? engine.rebind(device, parsed.bind()) : engine.restore(device, parsed.bind());
            LOG.debug("{} {} (dry run) by uid {}: {}", method, device, who.uid(), describe(r));
            return r.driver();
        } catch (BindingException e) {
            LOG.debug("{} {} (dry run) by uid {} refused: {}", method, device, who.uid(), e.getMessage());
            throw toDBus(e);
        }
    }

    private String change(String method, Caller caller, CallerCredentials who, DeviceName device, CallOptions parsed, boolean toVfio) {
        List<DeviceName> group = groupOf(device);
        registry.markBusy(group, true);
        BindingException.Timeout timedOut = null;
        boolean untouched = false;
        try {
            BindResult r = parsed.persist()
                    ? persisting(device, parsed, toVfio)
                    : toVfio ? engine.rebind(device, parsed.bind()) : engine.restore(device, parsed.bind());
            LOG.info("{} {} by {}{}: {}", method, device, describe(who, caller), parsed.persist() ? " (persist)" : "", describe(r));
            return r.driver();
        } catch (BindingException e) {
            LOG.info("{} {} by {} refused: {}", method, device, describe(who, caller), e.getMessage());
            if (e instanceof BindingException.Timeout t) timedOut = t;
            // refused before anything was written: nothing to read again, and while another call's write hangs the
            // read would only wait for the device lock the kernel holds
            untouched = e instanceof BindingException.Busy;
            throw toDBus(e);
        } finally {
            if (timedOut != null) {
                // the kernel still holds the devices, and vfiod still moves them once it returns: they stay busy
                // until then, and a read of them now would only delay the reply
                timedOut.settled().whenComplete((done, failure) -> {
                    registry.markBusy(group, false);
                    refreshLater(group);
                });
            } else {
                registry.markBusy(group, false);
                if (!untouched) refreshBeforeReplying(group);
            }
        }
    }

    /** Who called, from the bus; a caller the bus cannot name is refused, as polkit would refuse it. */
    private CallerCredentials identify(Caller caller) {
        Optional<CallerCredentials> who = credentials.of(caller.busName());
        if (who.isEmpty()) throw new AccessDenied("cannot tell who is calling (the bus does not know " + caller.busName() + "); nothing was changed");
        return who.get();
    }

    /** The caller for the log: {@code uid U pid P (comm) :1.N}. The command is the caller's own text, escaped. */
    private String describe(CallerCredentials who, Caller caller) {
        String comm = "?";
        if (who.pid() > 0) {
            try {
                comm = CallerText.printable(Files.readString(procRoot.resolve(Long.toString(who.pid())).resolve("comm"),
                        StandardCharsets.UTF_8).strip());
            } catch (IOException | RuntimeException e) {
                // gone already, or no /proc to read: the uid and pid still say who it was
            }
        }
        return "uid " + who.uid() + " pid " + who.pid() + " (" + comm + ") " + caller.busName();
    }

    /**
     * What polkit is told about a Rebind or Restore, for rules to scope by (see packaging/polkit/
     * 49-vfiod-scoped.rules.example): the device, what it is, a Rebind's vfio driver when known, and the options.
     */
    private Map<String, String> details(String method, DeviceName device, CallOptions parsed, boolean toVfio) {
        Map<String, String> d = new LinkedHashMap<>();
        d.put("method", method);
        d.put("address", device.name());
        d.put("force", Boolean.toString(parsed.bind().force()));
        d.put("group", Boolean.toString(parsed.bind().group()));
        Map<String, Variant<?>> p = registry.get(device).map(DeviceState::properties).orElse(Map.of());
        if (p.get("VendorId") != null && p.get("DeviceId") != null) {
            d.put("id", String.format("%04x:%04x", number(p.get("VendorId")), number(p.get("DeviceId"))));
        }
        if (p.get("Class") != null) d.put("class", String.format("%06x", number(p.get("Class"))));
        if (toVfio) {
            Optional<String> driver = parsed.bind().driver()
                    .or(() -> Optional.ofNullable(p.get("VfioDriver")).map(v -> String.valueOf(v.getValue())).filter(s -> !s.isEmpty()));
            driver.ifPresent(v -> d.put("driver", v));
        }
        return d;
    }

    private static long number(Variant<?> v) {
        Object o = v.getValue();
        if (o instanceof UInt16 u) return u.longValue();
        if (o instanceof UInt32 u) return u.longValue();
        return o instanceof Number n ? n.longValue() : 0;
    }

    /**
     * Re-reads the moved devices, so that a caller who reads them after the reply sees the move; but waits at most
     * {@link #REFRESH_WAIT} for it: a device the kernel still holds blocks its reads, and must not hold the reply.
     * The read then finishes in the background (and the device events bring the rest).
     */
    /** Re-reads the devices in the background; the device events bring the rest. */
    private CompletableFuture<Void> refreshLater(List<DeviceName> group) {
        try {
            return CompletableFuture.runAsync(() -> group.forEach(registry::refresh), authPool);
        } catch (java.util.concurrent.RejectedExecutionException stopping) {
            // vfiod is stopping
            return CompletableFuture.completedFuture(null);
        }
    }

    private void refreshBeforeReplying(List<DeviceName> group) {
        try {
            refreshLater(group).get(REFRESH_WAIT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            LOG.warn("{} did not answer a read within {} ms; replying without waiting for it", group, REFRESH_WAIT.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException e) {
            LOG.warn("re-reading {} failed: {}", group, e.toString());
        }
    }

    /**
     * A change with {@code persist}. Everything is checked first, writing nothing: the options, and the engine's
     * verdict on the same change as a dry run. Only then is the rule written (or removed), and put back if the
     * change still fails, so the device and its rule never disagree and a refused call leaves no trace.
     */
    private BindResult persisting(DeviceName device, CallOptions parsed, boolean toVfio) throws BindingException {
        if (toVfio && parsed.bind().driver().isPresent() && !DriverName.isValid(parsed.bind().driver().get())) {
            throw new BindingException.InvalidArgument("option 'driver' is not a driver name: "
                    + CallerText.printable(parsed.bind().driver().get()) + "; nothing was changed");
        }
        if (toVfio) engine.rebind(device, parsed.bind().withDryRun(true));
        else engine.restore(device, parsed.bind().withDryRun(true));
        RuleStore store = persistence.store();
        Optional<RuleChange> change;
        try {
            if (toVfio) {
                Optional<DriverName> driver = parsed.bind().driver().map(DriverName::new);
                change = Optional.of(store.persist(device, driver, parsed.bind().group()));
            } else {
                change = Optional.of(store.forget(device));
            }
        } catch (IOException e) {
            throw new BindingException.Failed("cannot write the rule " + RuleStore.addressFile(store.folder(), device) + ": "
                    + e.getMessage() + "; nothing was changed");
        }
        try {
            BindResult r = toVfio ? engine.rebind(device, parsed.bind()) : engine.restore(device, parsed.bind());
            persistence.rulesChanged();
            return r;
        } catch (BindingException e) {
            if (change.isPresent()) {
                try {
                    change.get().undo();
                } catch (IOException undo) {
                    throw new BindingException.Failed(e.getMessage() + "; and the rule " + change.get().file() + " could not be put back: " + undo.getMessage());
                }
            }
            throw e;
        }
    }

    private List<DeviceName> groupOf(DeviceName device) {
        List<DeviceName> out = new ArrayList<>();
        out.add(device);
        for (DeviceName a : registry.groupOf(device)) if (!a.equals(device)) out.add(a);
        return out;
    }

    private void authorize(Caller caller, String action, Map<String, String> details, boolean interactive) {
        String busName = caller.busName();
        if (busName == null) throw new AccessDenied("cannot tell who is calling; refusing " + action);
        // the bus refuses such a call already; this keeps a call that reaches here some other way from going unchecked
        if (action == null || action.isBlank()) throw new AccessDenied("no polkit action for this call; refusing it");
        CompletableFuture<AuthResult> check = CompletableFuture.supplyAsync(
                () -> authorizer.check(busName, action, details, interactive), authPool);
        AuthResult result;
        Duration limit = Authorizer.limit(interactive);
        try {
            result = check.get(limit.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            check.cancel(true);
            result = new AuthResult.Unavailable("polkit did not answer within " + limit.toSeconds() + " s");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            result = new AuthResult.Unavailable("interrupted while asking polkit");
        } catch (ExecutionException e) {
            result = new AuthResult.Unavailable("asking polkit failed: " + e.getCause());
        }
        // a refusal changes nothing, and anyone can cause one at will: DEBUG, so that they cannot fill the log
        if (result instanceof AuthResult.Denied d) {
            LOG.debug("{} denied to {}: {}", action, busName, d.reason());
            throw new AccessDenied("not authorized: " + d.reason() + "; nothing was changed");
        }
        if (result instanceof AuthResult.Unavailable u) {
            throw new AccessDenied("authorization unavailable, refusing " + action + ": " + u.reason() + "; nothing was changed");
        }
    }

    private static DBusExecutionException toDBus(BindingException e) {
        String m = e.getMessage();
        if (e instanceof BindingException.InvalidArgument) return new Error.InvalidArgument(m);
        if (e instanceof BindingException.NoSuchDevice) return new Error.NoSuchDevice(m);
        if (e instanceof BindingException.NoVfioDriver) return new Error.NoVfioDriver(m);
        if (e instanceof BindingException.GroupNotViable) return new Error.GroupNotViable(m);
        if (e instanceof BindingException.InUse) return new Error.InUse(m);
        if (e instanceof BindingException.Busy) return new Error.Busy(m);
        if (e instanceof BindingException.Timeout) return new Error.Timeout(m);
        return new Error.Failed(m);
    }

    private static String describe(BindResult r) {
        if (r instanceof BindResult.Moved m) return "moved " + m.devices() + " " + m.steps();
        if (r instanceof BindResult.Planned p) return "dry run " + p.steps();
        return "already on " + (r.driver().isEmpty() ? "no driver" : r.driver());
    }
}
