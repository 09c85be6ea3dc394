package org.vfiod.daemon.udev;

import java.util.Map;
import java.util.Optional;

/**
 * One uevent, as an immutable snapshot: libudev objects never leave the udev thread. {@code sysname} is the
 * kernel name (for PCI the address, e.g. {@code 0000:03:00.0}); {@code driver} is the driver after the event.
 */
public record DeviceEvent(Action action, String subsystem, String sysname, Optional<String> driver,
                          Map<String, String> properties) {
    public DeviceEvent {
        properties = Map.copyOf(properties);
    }

    public enum Action {
        ADD, REMOVE, BIND, UNBIND, CHANGE, MOVE, ONLINE, OFFLINE, OTHER;

        public static Action of(String name) {
            if (name == null) return OTHER;
            return switch (name) {
                case "add" -> ADD;
                case "remove" -> REMOVE;
                case "bind" -> BIND;
                case "unbind" -> UNBIND;
                case "change" -> CHANGE;
                case "move" -> MOVE;
                case "online" -> ONLINE;
                case "offline" -> OFFLINE;
                default -> OTHER;
            };
        }
    }
}
