package org.vfiod.daemon.bus;

import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.function.Supplier;
import org.vfiod.daemon.aliases.AliasIndex;
import org.vfiod.daemon.model.DeviceRegistry;
import org.vfiod.daemon.sysfs.Device;
import org.vfiod.daemon.sysfs.Sysfs;

/** The objects vfiod puts on the bus, over the device model, and the dispatch that routes calls to them. */
public final class BusService {
    private final BusLink link;
    private final DeviceRegistry registry;
    private final ManagerObject manager;
    private final Dispatcher dispatcher;

    /**
     * {@code mutations} does what Rebind, Restore and Reload ask, on {@code slowPool} (their calls may wait for
     * polkit or the kernel); {@code index} is the alias index in use; {@code name} hears the signals the bus sends
     * us (NameLost), on the reader thread.
     */
    public BusService(BusLink link, DeviceRegistry registry, Mutations mutations, Supplier<AliasIndex> index, Sysfs sysfs,
                      String kernelRelease, ExecutorService slowPool, BusName name) {
        this.link = link;
        this.registry = registry;
        ObjectPublisher publisher = new ConnectionPublisher(link);
        registry.listen(new DeviceSignals(publisher));
        this.manager = new ManagerObject(publisher, registry, mutations, index, sysfs, kernelRelease);
        this.dispatcher = new Dispatcher(link, manager, registry, new DeviceObject(mutations), slowPool, name);
    }

    /**
     * Builds every device from {@code devices} (as just read) and starts answering calls; the caller requests the
     * name afterwards, so no one sees a half-built service.
     */
    public void export(List<Device> devices, Runnable busLost) {
        registry.populate(devices);
        link.start(dispatcher, busLost);
    }

    /** Re-reads the alias sources' result: AliasCount and every VfioDriver. */
    public void aliasesChanged() {
        manager.aliasesChanged();
    }

    public int deviceCount() {
        return registry.all().size();
    }
}
