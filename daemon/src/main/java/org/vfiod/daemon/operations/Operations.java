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
import org.vfiod.daemon.access.Grants;
import org.vfiod.daemon.access.Users;
import org.vfiod.daemon.auth.AuthResult;
import org.vfiod.daemon.auth.Authorizer;
import org.vfiod.daemon.auth.CallerCredentials;
import org.vfiod.daemon.auth.Credentials;
import org.vfiod.daemon.aliases.AliasIndex;
import org.vfiod.daemon.aliases.AliasSourceException;
import org.vfiod.daemon.binding.BindResult;
import org.vfiod.daemon.binding.BindingException;
import org.vfiod.daemon.binding.GoAhead;
import org.vfiod.daemon.binding.Phases;
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
 * device; only then take a shared slot, let the engine change anything, and refresh the model. While polkit is
 * asked, the engine already plans the move and checks who uses the devices, on its own thread and outside the
 * group's gate, and waits for the verdict before it goes further ({@link GoAhead}); a refused caller hears only
 * AccessDenied, and its move ends before the call returns. A dry run asks nobody and changes nothing anyone sees.
 * Every change is logged with its caller's uid, pid and command, and with where its time went ({@link Phases}).
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
    private final Grants grants;
    private final Users users;
    private final boolean besidePolkit;

    /**
     * {@code maxSlowCalls}: authorized changes in flight at once, beyond which they are refused with Busy (see
     * {@link CallLimits}); {@code aliasLoader} reads the alias sources for Reload, throwing
     * {@link AliasSourceException} wrapped in an unchecked exception; {@code procRoot}: where a caller's command is
     * read ({@code <pid>/comm}), for the log.
     */
    public Operations(RebindEngine engine, Authorizer authorizer, Credentials credentials, ExecutorService authPool,
                      DeviceRegistry registry, int maxSlowCalls, Persistence persistence, AtomicReference<AliasIndex> index,
                      Supplier<AliasIndex> aliasLoader, Path procRoot, Grants grants, Users users) {
        this(engine, authorizer, credentials, authPool, registry, maxSlowCalls, persistence, index, aliasLoader, procRoot, grants,
                users, Runtime.getRuntime().availableProcessors() > 1);
    }

    /**
     * {@code besidePolkit}: whether a move is planned and its users checked while polkit is asked. With one CPU
     * that only interleaves the same work (polkitd's and the bus's run on it too): measured in a one-CPU guest, it
     * made neither faster; so by default only with more than one.
     */
    Operations(RebindEngine engine, Authorizer authorizer, Credentials credentials, ExecutorService authPool,
               DeviceRegistry registry, int maxSlowCalls, Persistence persistence, AtomicReference<AliasIndex> index,
               Supplier<AliasIndex> aliasLoader, Path procRoot, Grants grants, Users users, boolean besidePolkit) {
        this.besidePolkit = besidePolkit;
        this.grants = grants;
        this.users = users;
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
        return run("Rebind", caller, device, options, true).result().driver();
    }

    @Override
    public String restore(Caller caller, DeviceName device, Map<String, Variant<?>> options) {
        return run("Restore", caller, device, options, false).result().driver();
    }

    @Override
    public Map<String, Variant<?>> assign(Caller caller, DeviceName device, Map<String, Variant<?>> options) {
        return Answer.of(run("Assign", caller, device, options, true), grants);
    }

    @Override
    public Map<String, Variant<?>> release(Caller caller, DeviceName device, Map<String, Variant<?>> options) {
        return Answer.of(run("Release", caller, device, options, false), grants);
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

    private Outcome run(String method, Caller caller, DeviceName device, Map<String, Variant<?>> options, boolean toVfio) {
        Phases phases = Phases.start();
        CallOptions parsed = CallOptions.parse(options);
        if (!toVfio && parsed.owner().isPresent()) {
            throw new Error.InvalidArgument("option 'owner' is for Rebind and Assign: " + method
                    + " takes back every uid's access to the device's VFIO nodes; nothing was changed");
        }
        Optional<Owner> owner = owner(parsed);
        CallerCredentials who = identify(caller);
        try (CallLimits.Permit own = limits.admit(who)) {
            if (parsed.bind().dryRun()) return dryRun(method, who, device, parsed, toVfio, owner);
            phases.lap("credentials");
            // the plan and the host-use check run beside the polkit check (given more than one CPU), and the move
            // waits for its verdict before it enters the group's gate or changes anything; not with persist (a rule
            // is written first) nor force (the plan would log a force nobody has allowed yet)
            boolean beside = besidePolkit && !parsed.persist() && !parsed.bind().force();
            CompletableFuture<Void> verdict = new CompletableFuture<>();
            Phases operation = Phases.start();
            RebindEngine.Pending pending = null;
            BindingException notStarted = null;
            if (beside) {
                try {
                    pending = toVfio ? engine.startRebind(device, parsed.bind(), operation, goAhead(verdict))
                            : engine.startRestore(device, parsed.bind(), operation, goAhead(verdict));
                } catch (BindingException e) {
                    notStarted = e;
                }
            }
            boolean authorized = false;
            try {
                // polkit rules scope by Rebind and Restore: Assign and Release are the same changes
                Map<String, String> details = details(toVfio ? "Rebind" : "Restore", device, parsed, toVfio);
                owner.ifPresent(o -> {
                    details.put("owner", Long.toString(o.uid()));
                    details.put("owner_name", o.name());
                });
                authorize(caller, caller.action(), details, parsed.interactive());
                if (parsed.persist()) authorize(caller, Actions.PERSIST, details, parsed.interactive());
                // force takes a device the host uses, or the boot GPU, or asks a VM to let go: an admin's decision
                if (parsed.bind().force()) authorize(caller, Actions.FORCE, details, parsed.interactive());
                // giving yourself the device is what rebind already allows; giving it to someone else is an admin's call
                if (owner.isPresent() && owner.get().uid() != who.uid()) authorize(caller, Actions.GRANT, details, parsed.interactive());
                phases.lap("polkit");
                authorized = true;
                if (!beside) operation = Phases.start();
                Outcome done = change(method, caller, who, device, parsed, toVfio, owner, phases,
                        new Started(operation, pending, notStarted, verdict));
                // where the time went, to take a slow move apart where it ran; the reply is sent after this
                LOG.info("{} {} took {}; in the operation {}", method, device, phases.describe(), operation.describe());
                return done;
            } finally {
                // a move never authorized stops before any change; its caller's allowance is given back once it has
                if (!verdict.isDone()) verdict.completeExceptionally(new java.util.concurrent.CancellationException("not authorized"));
                if (!authorized && pending != null) pending.awaitEnd();
            }
        }
    }

    /**
     * The move as {@link #run} started it: beside the polkit check ({@code pending}, or {@code notStarted} with why
     * it could not start), or not yet (both null: {@link #change} runs it); {@code verdict} lets it go on.
     */
    private record Started(Phases phases, RebindEngine.Pending pending, BindingException notStarted, CompletableFuture<Void> verdict) {
        BindResult result() throws BindingException {
            if (notStarted != null) throw notStarted;
            verdict.complete(null);
            return pending.result();
        }

        boolean beside() {
            return pending != null || notStarted != null;
        }
    }

    /** What a move started beside the polkit check waits for: the verdict, given only once every check passed. */
    private static GoAhead goAhead(CompletableFuture<Void> verdict) {
        return () -> {
            try {
                verdict.get();
            } catch (ExecutionException | java.util.concurrent.CancellationException e) {
                throw new BindingException.Failed("the caller was not authorized; nothing was changed");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new BindingException.Failed("interrupted while waiting for the caller's authorization; nothing was changed");
            }
        };
    }

    /** The uid to give the nodes to, with its name; one no user has is refused before anything is asked or done. */
    private Optional<Owner> owner(CallOptions parsed) {
        if (parsed.owner().isEmpty()) return Optional.empty();
        long uid = parsed.owner().getAsLong();
        Optional<String> name;
        try {
            name = users.nameOf(uid);
        } catch (IOException e) {
            throw new Error.Failed("cannot look up uid " + uid + ": " + e.getMessage() + "; nothing was changed");
        }
        if (name.isEmpty()) throw new Error.InvalidArgument("option 'owner': no user has uid " + uid + "; nothing was changed");
        return Optional.of(new Owner(uid, name.get()));
    }

    /** Who gets the device's nodes. */
    record Owner(long uid, String name) {
    }

    /**
     * What a call did: the engine's result, and what it did with access to the nodes ({@code accessSteps}); the
     * full answer is made from it and from sysfs as it is after the call.
     */
    record Outcome(DeviceName device, BindResult result, List<String> accessSteps, boolean toVfio) {
        Outcome {
            accessSteps = List.copyOf(accessSteps);
        }
    }

    /**
     * A dry run: anyone may ask, so it shows nobody else anything (no busy state, no signal) and logs at DEBUG only,
     * so that one user's dry runs cannot fill the log.
     */
    private Outcome dryRun(String method, CallerCredentials who, DeviceName device, CallOptions parsed, boolean toVfio,
                           Optional<Owner> owner) {
        try (CallLimits.Permit slot = limits.examination(who)) {
            BindResult r = toVfio ? engine.rebind(device, parsed.bind()) : engine.restore(device, parsed.bind());
            LOG.debug("{} {} (dry run) by uid {}: {}", method, device, who.uid(), describe(r));
            List<String> access = new ArrayList<>();
            try {
                List<org.vfiod.daemon.sysfs.Device> group = grants.groupOf(device);
                if (owner.isPresent()) {
                    access.addAll(Grants.planned(grants.plannedNodes(group), owner.get().uid(), owner.get().name()));
                } else if (!toVfio) {
                    List<Long> had = grants.users(group);
                    if (!had.isEmpty()) access.add("take back the access of uid " + had.stream().map(String::valueOf)
                            .collect(java.util.stream.Collectors.joining(", ")) + " to " + grants.nodes(group).stream()
                            .map(Path::toString).collect(java.util.stream.Collectors.joining(" and ")));
                }
            } catch (IOException e) {
                access.add("(the VFIO nodes cannot be read: " + e.getMessage() + ")");
            }
            return new Outcome(device, r, access, toVfio);
        } catch (BindingException e) {
            LOG.debug("{} {} (dry run) by uid {} refused: {}", method, device, who.uid(), e.getMessage());
            throw toDBus(e);
        }
    }

    private Outcome change(String method, Caller caller, CallerCredentials who, DeviceName device, CallOptions parsed,
                           boolean toVfio, Optional<Owner> owner, Phases phases, Started started) {
        List<DeviceName> group = groupOf(device);
        registry.markBusy(group, true);
        phases.lap("busy signal");
        BindingException.Timeout timedOut = null;
        boolean untouched = false;
        try {
            // the access goes before the device leaves VFIO, and comes back if it does not leave
            Grants.Revoked revoked = toVfio ? null : revoke(device, parsed.bind().group());
            BindResult r;
            try {
                if (parsed.persist()) r = persisting(device, parsed, toVfio);
                else if (started.beside()) r = started.result();
                else r = toVfio ? engine.rebind(device, parsed.bind(), started.phases()) : engine.restore(device, parsed.bind(), started.phases());
            } catch (BindingException e) {
                if (revoked != null && !(e instanceof BindingException.Timeout)) giveBack(revoked, e);
                throw e;
            }
            phases.lap("move");
            List<String> access = new ArrayList<>();
            if (revoked != null) access.addAll(revoked.steps());
            if (owner.isPresent()) access.addAll(grant(device, owner.get(), r));
            phases.lap("access");
            LOG.info("{} {} by {}{}: {}{}", method, device, describe(who, caller), parsed.persist() ? " (persist)" : "", describe(r),
                    access.isEmpty() ? "" : "; " + String.join("; ", access));
            return new Outcome(device, r, access, toVfio);
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
                phases.lap("refresh and signals");
            }
        }
    }

    /** Takes every uid's access to the nodes of what a Restore moves; a failure changes nothing. */
    private Grants.Revoked revoke(DeviceName device, boolean group) throws BindingException {
        try {
            return grants.revokeAll(device, group);
        } catch (IOException e) {
            throw new BindingException.Failed("cannot take back the access to the VFIO nodes of " + device + ": " + e.getMessage()
                    + "; nothing was changed");
        }
    }

    private void giveBack(Grants.Revoked revoked, BindingException cause) throws BindingException {
        try {
            grants.undo(revoked);
        } catch (IOException undo) {
            throw new BindingException.Failed(cause.getMessage() + "; and the access to the VFIO nodes could not be given back: "
                    + undo.getMessage());
        }
    }

    /** Gives the owner the nodes of the device's group, now on VFIO. */
    private List<String> grant(DeviceName device, Owner owner, BindResult r) throws BindingException {
        try {
            return grants.grant(device, owner.uid(), owner.name());
        } catch (IOException e) {
            throw new BindingException.Failed(device + " is on " + (r.driver().isEmpty() ? "no driver" : r.driver())
                    + ", but uid " + owner.uid() + " could not be given its VFIO nodes: " + e.getMessage());
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
     * 49-vfiod-scoped.rules.example): the device (its bus and kernel name), what it is, a Rebind's vfio driver when
     * known, and the options.
     */
    private Map<String, String> details(String method, DeviceName device, CallOptions parsed, boolean toVfio) {
        Map<String, String> d = new LinkedHashMap<>();
        d.put("method", method);
        // the bus, so that a rule can tell a platform device from a PCI one of the same-looking name
        d.put("subsystem", device.bus());
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
                change = Optional.of(store.persist(device, driver, parsed.bind().group(), parsed.owner()));
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
