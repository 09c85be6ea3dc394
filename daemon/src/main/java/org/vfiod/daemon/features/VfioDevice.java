package org.vfiod.daemon.features;

/** One device on a vfio driver, as the feature file counts it: its vendor and device ids, and the driver it is on. */
public record VfioDevice(int vendor, int device, String driver) {
}
