package org.vfiod.daemon.dbus;

import org.vfiod.daemon.sysfs.PciDevice;

/** Human names of a device's vendor and product; "" when unknown. */
public interface DeviceNames {
    String vendor(PciDevice device);

    String product(PciDevice device);

    DeviceNames NONE = new DeviceNames() {
        @Override
        public String vendor(PciDevice device) {
            return "";
        }

        @Override
        public String product(PciDevice device) {
            return "";
        }
    };
}
