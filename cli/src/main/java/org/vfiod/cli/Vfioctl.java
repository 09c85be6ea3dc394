package org.vfiod.cli;

/** vfioctl: the admin's command line for vfiod. Commands arrive with the D-Bus client. */
public final class Vfioctl {
    private Vfioctl() {
    }

    public static void main(String[] args) {
        System.err.println("vfioctl: no commands yet; see vfiod resolve");
        System.exit(64);
    }
}
