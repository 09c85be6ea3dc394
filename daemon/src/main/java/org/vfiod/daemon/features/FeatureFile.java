package org.vfiod.daemon.features;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * The text of a Node Feature Discovery feature file (its "local" source: {@code key=value} lines, {@code #} comments)
 * saying which vendor:device pairs this node has on VFIO, how many of each, and on which driver, e.g.
 * <pre>
 * vfiod.org/vfio.count=3
 * vfiod.org/vfio-10de-1db6.count=2
 * vfiod.org/vfio-10de-1db6.driver=vfio-pci
 * vfiod.org/vfio-15b3-101e.count=1
 * vfiod.org/vfio-15b3-101e.driver=mlx5_vfio_pci
 * </pre>
 * A model whose devices sit on several drivers says {@code .driver=mixed} and counts each driver in
 * {@code .driver.<driver>=N}. Every key becomes a node label, so each part follows the label syntax: a name of at
 * most 63 characters of {@code [A-Za-z0-9_.-]}, beginning and ending with a letter or digit; so does every value.
 */
public final class FeatureFile {
    /** vfiod's own label namespace: NFD before v0.13 needs {@code -extra-label-ns=vfiod.org} to publish it. */
    public static final String NAMESPACE = "vfiod.org";
    /**
     * NFD ignores a whole feature file over 64 kB (64,000 bytes before v0.14, 65,536 since): the file stays at or under
     * the older limit, and the models past it are left out, the largest ids last.
     */
    public static final int MAX_BYTES = 64_000;
    static final String MIXED = "mixed";
    /** What a driver whose name is no label value is counted as. */
    static final String OTHER = "other";
    /** The longest driver name that fits a label name "vfio-vvvv-dddd.driver.NAME" of 63 characters. */
    static final int MAX_DRIVER = 63 - "vfio-0000-0000.driver.".length();
    private static final Pattern LABEL_PART = Pattern.compile("[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?");
    private static final String HEADER = "# Written by vfiod: this node's devices on a VFIO driver, by vendor:device.\n"
            + "# Do not edit: vfiod rewrites it as devices move, come and go.\n";

    private FeatureFile() {
    }

    /** The file's text, and how many models did not fit under {@link #MAX_BYTES} (0 when all did). */
    public record Rendered(String text, int modelsLeftOut) {
    }

    public static Rendered render(Collection<VfioDevice> devices) {
        // by model, then by driver: sorted, so the same devices always give the same bytes (and no rewrite)
        Map<String, Map<String, Integer>> models = new TreeMap<>();
        for (VfioDevice d : devices) {
            String model = String.format("vfio-%04x-%04x", d.vendor() & 0xffff, d.device() & 0xffff);
            String driver = isLabelPart(d.driver()) && d.driver().length() <= MAX_DRIVER ? d.driver() : OTHER;
            models.computeIfAbsent(model, m -> new TreeMap<>()).merge(driver, 1, Integer::sum);
        }
        StringBuilder b = new StringBuilder(HEADER);
        b.append(NAMESPACE).append("/vfio.count=").append(devices.size()).append('\n');
        int leftOut = 0;
        List<String> blocks = new ArrayList<>();
        for (Map.Entry<String, Map<String, Integer>> m : models.entrySet()) blocks.add(block(m.getKey(), m.getValue()));
        String notice = "# %d model(s) left out: the file would pass NFD's 64 kB limit\n";
        int room = MAX_BYTES - bytes(b) - bytes(String.format(notice, blocks.size()));
        for (String block : blocks) {
            int size = bytes(block);
            if (leftOut == 0 && size <= room) {
                b.append(block);
                room -= size;
            } else {
                leftOut++;
            }
        }
        if (leftOut > 0) b.append(String.format(notice, leftOut));
        return new Rendered(b.toString(), leftOut);
    }

    private static String block(String model, Map<String, Integer> drivers) {
        String key = NAMESPACE + "/" + model;
        int count = drivers.values().stream().mapToInt(Integer::intValue).sum();
        StringBuilder b = new StringBuilder();
        b.append(key).append(".count=").append(count).append('\n');
        if (drivers.size() == 1) {
            b.append(key).append(".driver=").append(drivers.keySet().iterator().next()).append('\n');
        } else {
            b.append(key).append(".driver=").append(MIXED).append('\n');
            drivers.forEach((driver, n) -> b.append(key).append(".driver.").append(driver).append('=').append(n).append('\n'));
        }
        return b.toString();
    }

    /** Whether the text may be a label's value, or a part of a label's name. */
    static boolean isLabelPart(String text) {
        return LABEL_PART.matcher(text).matches();
    }

    private static int bytes(CharSequence s) {
        return s.toString().getBytes(StandardCharsets.UTF_8).length;
    }
}
