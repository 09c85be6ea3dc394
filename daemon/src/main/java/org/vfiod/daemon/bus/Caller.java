package org.vfiod.daemon.bus;

/**
 * Who sent a mutating call, and the polkit action its member needs. {@code busName} is the unique name the bus
 * stamped on the message, so the caller cannot pretend to be someone else.
 */
public record Caller(String busName, String action) {
}
