package org.vfiod.daemon.bus;

import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.vfiod.daemon.aliases.AliasIndex;
import org.vfiod.daemon.auth.Authorizer;
import org.vfiod.daemon.binding.RebindEngine;
import org.vfiod.daemon.model.DeviceRegistry;
import org.vfiod.daemon.state.Persistence;
import org.vfiod.daemon.sysfs.PciDevice;
import org.vfiod.daemon.sysfs.Sysfs;
import org.vfiod.daemon.udev.HardwareNames;

/** The objects vfiod puts on the bus, built together because they refer to each other. */
public final class BusService {
    private final BusLink link;
    private final DeviceRegistry registry;
    private final ManagerObject manager;
    private final Dispatcher dispatcher;

    /**
     * {@code slowPool} runs the calls that may wait (polkit, the kernel); {@code name} hears the signals the bus
     * sends us (NameLost), on the reader thread.
     */
    public BusService(BusLink link, Sysfs sysfs, AtomicReference<AliasIndex> index, Supplier<AliasIndex> reload,
                      RebindEngine engine, Authorizer authorizer, ExecutorService authPool, ExecutorService slowPool,
                      String kernelRelease, int maxSlowCalls, HardwareNames names, Persistence persistence,
                      BusName name) {
        this.link = link;
        ObjectPublisher publisher = new ConnectionPublisher(link);
        this.registry = new DeviceRegistry(sysfs, index::get, engine::onVfioDriver, names,
                persistence == null ? d -> false : persistence::covers);
        registry.listen(new DeviceSignals(publisher));
        Operations operations = new Operations(engine, authorizer, authPool, registry, maxSlowCalls, persistence);
        this.manager = new ManagerObject(publisher, registry, operations, index, reload, sysfs, kernelRelease);
        this.dispatcher = new Dispatcher(link, manager, registry, new DeviceObject(operations), slowPool, name);
    }

    /**
     * Builds every device object from {@code devices} (as just read) and starts answering calls; the caller requests the name afterwards, so no one sees
     * a half-built service.
     */
    public void export(List<PciDevice> devices, Runnable busLost) {
        registry.populate(devices);
        link.start(dispatcher, busLost);
    }

    public DeviceRegistry registry() {
        return registry;
    }

    /** Re-reads the alias sources' result: AliasCount and every VfioDriver. */
    public void aliasesChanged() {
        manager.aliasesChanged();
    }

    public int deviceCount() {
        return registry.all().size();
    }
}
