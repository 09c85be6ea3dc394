package org.vfiod.daemon.binding;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.vfiod.daemon.sysfs.DeviceName;
import org.vfiod.daemon.sysfs.DriverName;
import org.vfiod.daemon.sysfs.KernelBus;
import org.vfiod.daemon.sysfs.Sysfs;

/**
 * A move as the journal keeps it: its plan with every device's prior state, the steps done so far, and whether it
 * completed. One line per fact, every value validated when read back, so a torn or tampered file is refused
 * instead of acted on:
 * <pre>
 * vfiod-journal 1
 * direction TO_VFIO
 * group IOMMU group 12
 * requested pci 0000:01:00.0
 * framebuffer console vtcon1
 * framebuffer platform efi-framebuffer.0 efi-framebuffer
 * device pci 0000:01:00.0 driver amdgpu override - target driver vfio-pci vfio false
 * done set driver_override of 0000:01:00.0 to vfio-pci
 * complete
 * </pre>
 * Every device is named by its bus and its kernel name ({@code device platform a000000.virtio_mmio ...}); an object
 * that follows its container names the container, of the same bus ({@code target follows dprc.2}).
 */
public record JournalRecord(Plan plan, List<String> done, boolean complete) {
    static final String MAGIC = "vfiod-journal 1";

    public JournalRecord {
        done = List.copyOf(done);
    }

    JournalRecord withDone(Step step) {
        List<String> d = new ArrayList<>(done);
        d.add(step.text());
        return new JournalRecord(plan, d, complete);
    }

    JournalRecord completed() {
        return new JournalRecord(plan, done, true);
    }

    String encode() {
        StringBuilder b = new StringBuilder(MAGIC).append('\n');
        b.append("direction ").append(plan.direction().name()).append('\n');
        b.append("group ").append(plan.groupKey()).append('\n');
        b.append("requested ").append(word(plan.requested())).append('\n');
        for (Sysfs.Framebuffer fb : plan.framebuffers()) {
            if (fb instanceof Sysfs.Framebuffer.Console c) b.append("framebuffer console ").append(c.name()).append('\n');
            else if (fb instanceof Sysfs.Framebuffer.Platform p) b.append("framebuffer platform ").append(p.name()).append(' ').append(p.driver()).append('\n');
        }
        for (PlannedDevice d : plan.devices()) {
            b.append("device ").append(word(d.name()))
                    .append(" driver ").append(d.prior().driver().orElse("-"))
                    .append(" override ").append(d.prior().override().orElse("-"))
                    .append(" target ").append(target(d.target()))
                    .append(" vfio ").append(d.priorIsVfio()).append('\n');
        }
        for (String s : done) b.append("done ").append(s).append('\n');
        if (complete) b.append("complete\n");
        return b.toString();
    }

    private static String target(Target t) {
        if (t instanceof Target.Driver d) return "driver " + d.name();
        if (t instanceof Target.Module m) return "module " + m.module();
        if (t instanceof Target.Follows f) return "follows " + f.container().name();
        return "host -";
    }

    /** Why a journal could not be read back. */
    static final class Unreadable extends Exception {
        private static final long serialVersionUID = 1L;

        Unreadable(String why) {
            super(why, null, false, false);
        }
    }

    static JournalRecord decode(String text) throws Unreadable {
        String[] lines = text.split("\n", -1);
        if (lines.length < 1 || !lines[0].equals(MAGIC)) throw new Unreadable("not a vfiod journal (first line is not '" + MAGIC + "')");
        if (!text.endsWith("\n")) throw new Unreadable("it ends in the middle of a line");
        Direction direction = null;
        String group = null;
        DeviceName requested = null;
        List<Sysfs.Framebuffer> fbs = new ArrayList<>();
        List<PlannedDevice> devices = new ArrayList<>();
        List<String> done = new ArrayList<>();
        boolean complete = false;
        for (int i = 1; i < lines.length - 1; i++) {
            String line = lines[i];
            String[] w = line.split(" ");
            try {
                switch (w[0]) {
                    case "direction" -> direction = Direction.valueOf(only(w, 2)[1]);
                    case "group" -> group = line.substring("group ".length());
                    case "requested" -> requested = device(only(w, 3));
                    case "framebuffer" -> {
                        if (w.length == 3 && w[1].equals("console") && w[2].matches("vtcon[0-9]{1,3}")) fbs.add(new Sysfs.Framebuffer.Console(w[2]));
                        else if (w.length == 4 && w[1].equals("platform") && DriverName.isValid(w[2]) && DriverName.isValid(w[3])) fbs.add(new Sysfs.Framebuffer.Platform(w[2], w[3]));
                        else throw new Unreadable("line " + (i + 1) + ": a framebuffer vfiod does not know");
                    }
                    case "device" -> {
                        only(w, 12);
                        if (!w[3].equals("driver") || !w[5].equals("override") || !w[7].equals("target") || !w[10].equals("vfio")) {
                            throw new Unreadable("line " + (i + 1) + ": malformed device");
                        }
                        DeviceName name = device(w);
                        Target target = switch (w[8]) {
                            case "driver" -> new Target.Driver(new DriverName(w[9]));
                            case "module" -> new Target.Module(new DriverName(w[9]));
                            case "host" -> new Target.Host();
                            case "follows" -> new Target.Follows(device(new String[] {w[0], name.bus(), w[9]}));
                            default -> throw new Unreadable("line " + (i + 1) + ": unknown target " + w[8]);
                        };
                        devices.add(new PlannedDevice(name, new Prior(name(w[4]), name(w[6])), target, Boolean.parseBoolean(w[11])));
                    }
                    case "done" -> done.add(line.substring("done ".length()));
                    case "complete" -> complete = true;
                    default -> throw new Unreadable("line " + (i + 1) + ": unknown entry '" + w[0] + "'");
                }
            } catch (IllegalArgumentException e) {
                throw new Unreadable("line " + (i + 1) + ": " + e.getMessage());
            }
        }
        if (direction == null || group == null || requested == null || devices.isEmpty()) {
            throw new Unreadable("direction, group, requested device or devices missing");
        }
        return new JournalRecord(new Plan(direction, group, requested, devices, fbs), done, complete);
    }

    private static String[] only(String[] w, int n) throws Unreadable {
        if (w.length != n) throw new Unreadable("'" + w[0] + "' has " + (w.length - 1) + " values, not " + (n - 1));
        return w;
    }

    /** A device as two words, its bus and its kernel name ({@code pci 0000:01:00.0}). */
    private static String word(DeviceName device) {
        return device.bus() + " " + device.name();
    }

    /** The device words {@code w[1]} and {@code w[2]} name, read back through their bus's own parser. */
    private static DeviceName device(String[] w) throws Unreadable {
        KernelBus bus = KernelBus.named(w[1]).orElseThrow(() -> new Unreadable("bus '" + w[1] + "' is not one vfiod knows"));
        return bus.parse(w[2]).orElseThrow(() -> new Unreadable("'" + w[2] + "' is not a " + bus.title() + " device name"));
    }

    private static Optional<String> name(String w) {
        if (w.equals("-")) return Optional.empty();
        return Optional.of(new DriverName(w).value());
    }
}
