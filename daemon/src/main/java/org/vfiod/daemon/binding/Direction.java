package org.vfiod.daemon.binding;

/** Where a plan moves its devices: to their vfio driver (Rebind), or back to whatever host driver the kernel picks (Restore). */
public enum Direction {
    TO_VFIO("Rebind"),
    TO_HOST("Restore");

    private final String method;

    Direction(String method) {
        this.method = method;
    }

    /** The D-Bus method that makes such a move, for messages and logs. */
    public String method() {
        return method;
    }
}
