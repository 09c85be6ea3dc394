package org.vfiod.daemon.udev;

import java.util.Optional;

/** Vendor and product names for a modalias, from the udev hwdb (ID_VENDOR_FROM_DATABASE, ID_MODEL_FROM_DATABASE). */
public interface HardwareNames extends AutoCloseable {
    record Names(Optional<String> vendor, Optional<String> model) {
    }

    Names lookup(String modalias);

    @Override
    void close();

    HardwareNames NONE = new HardwareNames() {
        @Override
        public Names lookup(String modalias) {
            return new Names(Optional.empty(), Optional.empty());
        }

        @Override
        public void close() {
        }
    };
}
