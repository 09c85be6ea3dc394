package org.vfiod.daemon.operations;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.freedesktop.DBus.Error.AccessDenied;
import org.freedesktop.dbus.exceptions.DBusExecutionException;
import org.freedesktop.dbus.types.Variant;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.vfiod.daemon.auth.AuthResult;
import org.vfiod.daemon.auth.Authorizer;
import org.vfiod.daemon.aliases.AliasIndex;
import org.vfiod.daemon.aliases.AliasSourceException;
import org.vfiod.daemon.binding.BindResult;
import org.vfiod.daemon.binding.BindingException;
import org.vfiod.daemon.binding.RebindEngine;
import org.vfiod.daemon.bus.Actions;
import org.vfiod.daemon.bus.Caller;
import org.vfiod.daemon.bus.Mutations;
import org.vfiod.daemon.model.DeviceRegistry;
import java.util.Optional;
import org.vfiod.daemon.state.Persistence;
import org.vfiod.daemon.state.RuleChange;
import org.vfiod.daemon.state.RuleStore;
import org.vfiod.daemon.sysfs.DeviceName;
import org.vfiod.daemon.sysfs.DriverName;
import org.vfiod1.Error;

/**
 * The mutating calls, in the order that keeps them safe: validate everything the caller sent, ask polkit (on the
 * auth pool, never on the bus threads' critical path) for the action the bus's member table gave the call, then let
 * the engine work, and refresh the model.
 */
public final class Operations implements Mutations {
    private static final Logger LOG = LoggerFactory.getLogger(Operations.class);

    /** How long a reply waits for the moved devices to be read again. */
    static final Duration REFRESH_WAIT = Duration.ofMillis(500);

    private final RebindEngine engine;
    private final Authorizer authorizer;
    private final ExecutorService authPool;
    private final DeviceRegistry registry;
    /** Slow calls in flight; beyond this they are refused, so read-only calls always find a bus thread free. */
    private final Semaphore slowCalls;
    private final Persistence persistence;
    private final AtomicReference<AliasIndex> index;
    private final Supplier<AliasIndex> aliasLoader;

    /**
     * {@code maxSlowCalls}: calls in flight at once, beyond which they are refused with Busy; {@code aliasLoader}
     * reads the alias sources for Reload, throwing {@link AliasSourceException} wrapped in an unchecked exception.
     */
    public Operations(RebindEngine engine, Authorizer authorizer, ExecutorService authPool, DeviceRegistry registry,
                      int maxSlowCalls, Persistence persistence, AtomicReference<AliasIndex> index, Supplier<AliasIndex> aliasLoader) {
        this.engine = engine;
        this.authorizer = authorizer;
        this.authPool = authPool;
        this.registry = registry;
        this.slowCalls = new Semaphore(maxSlowCalls);
        this.persistence = persistence;
        this.index = index;
        this.aliasLoader = aliasLoader;
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
        return withSlot(() -> {
            try {
                return engine.users(device);
            } catch (BindingException e) {
                throw toDBus(e);
            }
        });
    }

    @Override
    public void reload(Caller caller) {
        withSlot(() -> {
            authorize(caller.busName(), caller.action(), true);
            return null;
        });
        AliasIndex fresh;
        try {
            fresh = aliasLoader.get();
        } catch (RuntimeException e) {
            Throwable cause = e.getCause() instanceof AliasSourceException a ? a : e;
            throw new Error.Failed("reload failed, the previous aliases stay in use: " + cause.getMessage());
        }
        index.set(fresh);
        LOG.info("aliases reloaded: {} vfio_ aliases", fresh.size());
    }

    private String run(String method, Caller caller, DeviceName device, Map<String, Variant<?>> options, boolean toVfio) {
        CallOptions parsed = CallOptions.parse(options);
        return withSlot(() -> {
            if (!parsed.bind().dryRun()) {
                authorize(caller.busName(), caller.action(), parsed.interactive());
                if (parsed.persist()) authorize(caller.busName(), Actions.PERSIST, parsed.interactive());
                // force takes a device the host uses, or the boot GPU, or asks a VM to let go: an admin's decision
                if (parsed.bind().force()) authorize(caller.busName(), Actions.FORCE, parsed.interactive());
            }
            List<DeviceName> group = groupOf(device);
            registry.markBusy(group, true);
            try {
                BindResult r = parsed.persist() && !parsed.bind().dryRun()
                        ? persisting(device, parsed, toVfio)
                        : toVfio ? engine.rebind(device, parsed.bind()) : engine.restore(device, parsed.bind());
                LOG.info("{} {} by {}{}: {}", method, device, caller.busName(), parsed.persist() ? " (persist)" : "", describe(r));
                return r.driver();
            } catch (BindingException e) {
                LOG.info("{} {} by {} refused: {}", method, device, caller.busName(), e.getMessage());
                throw toDBus(e);
            } finally {
                registry.markBusy(group, false);
                refreshBeforeReplying(group);
            }
        });
    }

    /**
     * Re-reads the moved devices, so that a caller who reads them after the reply sees the move; but waits at most
     * {@link #REFRESH_WAIT} for it: a device the kernel still holds blocks its reads, and must not hold the reply.
     * The read then finishes in the background (and the device events bring the rest).
     */
    private void refreshBeforeReplying(List<DeviceName> group) {
        try {
            CompletableFuture.runAsync(() -> group.forEach(registry::refresh), authPool)
                    .get(REFRESH_WAIT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            LOG.warn("{} did not answer a read within {} ms; replying without waiting for it", group, REFRESH_WAIT.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | java.util.concurrent.RejectedExecutionException e) {
            LOG.warn("re-reading {} failed: {}", group, e.toString());
        }
    }

    /**
     * A change with {@code persist}: the rule is written (or removed) first and put back if the change fails, so
     * the device and its rule never disagree.
     */
    private BindResult persisting(DeviceName device, CallOptions parsed, boolean toVfio) throws BindingException {
        RuleStore store = persistence.store();
        Optional<RuleChange> change;
        try {
            if (toVfio) {
                Optional<DriverName> driver = parsed.bind().driver().filter(DriverName::isValid).map(DriverName::new);
                // an unknown device gets no rule: the engine refuses it with NoSuchDevice below
                change = engine.isKnownDevice(device) ? Optional.of(store.persist(device, driver, parsed.bind().group())) : Optional.empty();
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

    private interface SlowCall<T> {
        T call();
    }

    private <T> T withSlot(SlowCall<T> call) {
        if (!slowCalls.tryAcquire()) {
            throw new Error.Busy("too many Rebind/Restore calls in flight; try again shortly");
        }
        try {
            return call.call();
        } finally {
            slowCalls.release();
        }
    }

    private void authorize(String caller, String action, boolean interactive) {
        if (caller == null) throw new AccessDenied("cannot tell who is calling; refusing " + action);
        // the bus refuses such a call already; this keeps a call that reaches here some other way from going unchecked
        if (action == null || action.isBlank()) throw new AccessDenied("no polkit action for this call; refusing it");
        CompletableFuture<AuthResult> check = CompletableFuture.supplyAsync(
                () -> authorizer.check(caller, action, interactive), authPool);
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
        if (result instanceof AuthResult.Denied d) {
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
