package org.vfiod.daemon.dbus;

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
import org.freedesktop.DBus.Error.AccessDenied;
import org.freedesktop.dbus.exceptions.DBusExecutionException;
import org.freedesktop.dbus.types.Variant;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.vfiod.daemon.auth.Actions;
import org.vfiod.daemon.auth.AuthResult;
import org.vfiod.daemon.auth.Authorizer;
import org.vfiod.daemon.binding.BindResult;
import org.vfiod.daemon.binding.BindingException;
import org.vfiod.daemon.binding.RebindEngine;
import java.util.Optional;
import org.vfiod.daemon.files.AtomicFiles;
import org.vfiod.daemon.state.Persistence;
import org.vfiod.daemon.state.RuleStore;
import org.vfiod.daemon.sysfs.CallerText;
import org.vfiod.daemon.sysfs.DriverName;
import org.vfiod.daemon.sysfs.PciAddress;
import org.vfiod1.Error;

/**
 * The mutating calls, in the order that keeps them safe: validate everything the caller sent, ask polkit (on the
 * auth pool, never on the bus threads' critical path), then let the engine work, and refresh the objects.
 */
final class Operations {
    private static final Logger LOG = LoggerFactory.getLogger(Operations.class);
    /** An interactive check waits for a person typing a password; a non-interactive one only for polkitd. */
    private static final Duration INTERACTIVE_AUTH_LIMIT = Duration.ofMinutes(5);
    private static final Duration AUTH_LIMIT = Duration.ofSeconds(25);

    private final RebindEngine engine;
    private final Authorizer authorizer;
    private final ExecutorService authPool;
    private final DeviceRegistry registry;
    /** Slow calls in flight; beyond this they are refused, so read-only calls always find a bus thread free. */
    private final Semaphore slowCalls;

    private final Persistence persistence;

    Operations(RebindEngine engine, Authorizer authorizer, ExecutorService authPool, DeviceRegistry registry, int maxSlowCalls,
               Persistence persistence) {
        this.persistence = persistence;
        this.engine = engine;
        this.authorizer = authorizer;
        this.authPool = authPool;
        this.registry = registry;
        this.slowCalls = new Semaphore(maxSlowCalls);
    }

    String rebind(String caller, String addressText, Map<String, Variant<?>> options) {
        return run("Rebind", caller, addressText, options, true);
    }

    String restore(String caller, String addressText, Map<String, Variant<?>> options) {
        return run("Restore", caller, addressText, options, false);
    }

    void authorizeReload(String caller) {
        withSlot(() -> {
            authorize(caller, Actions.RELOAD, true);
            return null;
        });
    }

    /** {@code caller} is the unique bus name the call came from, as the bus daemon stamped it on the message. */
    private String run(String method, String caller, String addressText, Map<String, Variant<?>> options, boolean toVfio) {
        PciAddress address = address(addressText);
        CallOptions parsed = CallOptions.parse(options);
        return withSlot(() -> {
            if (!parsed.bind().dryRun()) {
                authorize(caller, Actions.REBIND, parsed.interactive());
                if (parsed.persist()) authorize(caller, Actions.PERSIST, parsed.interactive());
            }
            List<PciAddress> group = groupOf(address);
            registry.setBusy(group, true);
            try {
                BindResult r = parsed.persist() && !parsed.bind().dryRun()
                        ? persisting(address, parsed, toVfio)
                        : toVfio ? engine.rebind(address, parsed.bind()) : engine.restore(address, parsed.bind());
                LOG.info("{} {} by {}{}: {}", method, address, caller, parsed.persist() ? " (persist)" : "", describe(r));
                return r.driver();
            } catch (BindingException e) {
                LOG.info("{} {} by {} refused: {}", method, address, caller, e.getMessage());
                throw toDBus(e);
            } finally {
                // clearing busy re-reads each device, which also picks up what the operation changed
                registry.setBusy(group, false);
            }
        });
    }

    /**
     * A change with {@code persist}: the rule is written (or removed) first and put back if the change fails, so
     * the device and its rule never disagree.
     */
    private BindResult persisting(PciAddress address, CallOptions parsed, boolean toVfio) throws BindingException {
        if (persistence == null) throw new BindingException.Failed("persistence is not configured; nothing was changed");
        RuleStore store = persistence.store();
        java.nio.file.Path file = RuleStore.addressFile(store.folder(), address);
        Optional<String> before;
        try {
            before = java.nio.file.Files.exists(file) ? Optional.of(java.nio.file.Files.readString(file)) : Optional.empty();
            if (toVfio) {
                Optional<DriverName> driver = parsed.bind().driver().filter(DriverName::isValid).map(DriverName::new);
                if (engine.isKnownDevice(address)) store.persist(address, driver, parsed.bind().group());
            } else {
                store.forget(address);
            }
        } catch (java.io.IOException e) {
            throw new BindingException.Failed("cannot write the rule " + file + ": " + e.getMessage() + "; nothing was changed");
        }
        try {
            BindResult r = toVfio ? engine.rebind(address, parsed.bind()) : engine.restore(address, parsed.bind());
            persistence.rulesChanged();
            return r;
        } catch (BindingException e) {
            try {
                if (before.isPresent()) AtomicFiles.write(file, before.get());
                else AtomicFiles.delete(file);
                store.reload();
            } catch (java.io.IOException undo) {
                throw new BindingException.Failed(e.getMessage() + "; and the rule " + file + " could not be put back: " + undo.getMessage());
            }
            throw e;
        }
    }

    private List<PciAddress> groupOf(PciAddress address) {
        List<PciAddress> out = new ArrayList<>();
        out.add(address);
        for (PciAddress a : registry.groupOf(address)) if (!a.equals(address)) out.add(a);
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
        CompletableFuture<AuthResult> check = CompletableFuture.supplyAsync(
                () -> authorizer.check(caller, action, interactive), authPool);
        AuthResult result;
        Duration limit = interactive ? INTERACTIVE_AUTH_LIMIT : AUTH_LIMIT;
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

    static PciAddress address(String text) {
        return PciAddress.parse(text).orElseThrow(() -> new Error.InvalidArgument("'" + CallerText.printable(text)
                + "' is not a PCI address (expected DDDD:BB:DD.F in hex, e.g. 0000:01:00.0)"));
    }

    static DBusExecutionException toDBus(BindingException e) {
        String m = e.getMessage();
        if (e instanceof BindingException.InvalidArgument) return new Error.InvalidArgument(m);
        if (e instanceof BindingException.NoSuchDevice) return new Error.NoSuchDevice(m);
        if (e instanceof BindingException.NoVfioDriver) return new Error.NoVfioDriver(m);
        if (e instanceof BindingException.GroupNotViable) return new Error.GroupNotViable(m);
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
