package org.vfiod.daemon;

import java.util.Arrays;
import java.util.List;

/** Entry point: {@code vfiod [run] [options]} starts the daemon; {@code vfiod resolve ...} is the offline lookup. */
public final class Main {
    private Main() {
    }

    public static void main(String[] argv) {
        List<String> args = Arrays.asList(argv);
        if (!args.isEmpty() && args.get(0).equals("resolve")) {
            System.exit(ResolveCommand.run(args.subList(1, args.size()), System.out, System.err));
        }
        System.err.println("usage: vfiod resolve [--modules-dir DIR] [--modprobe-dir DIR ...] MODALIAS...");
        System.exit(64);
    }
}
