package org.vfiod.daemon.model;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.freedesktop.dbus.types.Variant;

/** Keeps what the registry told its listeners, in order, as lines such as {@code changed 0000:03:00.0 {Driver=}}. */
public final class RecordingListener implements DeviceListener {
    private final List<String> heard = new ArrayList<>();

    @Override
    public synchronized void added(DeviceState device) {
        heard.add("added " + device.name());
    }

    @Override
    public synchronized void changed(DeviceState device, Map<String, Variant<?>> changed) {
        Map<String, Object> values = new TreeMap<>();
        changed.forEach((k, v) -> values.put(k, v.getValue()));
        heard.add("changed " + device.name() + " " + values);
    }

    @Override
    public synchronized void removed(DeviceState device) {
        heard.add("removed " + device.name());
    }

    public synchronized List<String> heard() {
        return List.copyOf(heard);
    }

    public synchronized void clear() {
        heard.clear();
    }
}
