package org.vfiod.daemon.operations;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.freedesktop.dbus.types.UInt32;
import org.freedesktop.dbus.types.Variant;
import org.vfiod.daemon.access.Grants;
import org.vfiod.daemon.binding.BindResult;
import org.vfiod.daemon.sysfs.Device;
import org.vfiod.daemon.sysfs.DeviceName;

/**
 * The full answer of Assign and Release (the contract lists its keys): what the call did, and the device's group as
 * sysfs shows it after the call, so that a VM manager needs no second look to start QEMU. Every key is always there.
 */
final class Answer {
    private Answer() {
    }

    static Map<String, Variant<?>> of(Operations.Outcome outcome, Grants grants) {
        BindResult r = outcome.result();
        boolean dryRun = r instanceof BindResult.Planned;
        List<Device> group;
        try {
            group = grants.groupOf(outcome.device());
        } catch (IOException e) {
            // the move is done; what cannot be read now is left out, not made up
            group = List.of();
        }
        List<String> moved = new ArrayList<>();
        Map<String, String> drivers = new LinkedHashMap<>();
        List<String> users = List.of();
        List<String> moves = r instanceof BindResult.Moved m ? m.steps() : r instanceof BindResult.Planned p ? p.steps() : List.of();
        // in the order they are taken: a Restore takes the access back before the device leaves VFIO
        List<String> steps = new ArrayList<>(outcome.toVfio() ? moves : outcome.accessSteps());
        steps.addAll(outcome.toVfio() ? outcome.accessSteps() : moves);
        if (r instanceof BindResult.Moved m) {
            m.devices().forEach(d -> moved.add(d.name()));
            users = m.users();
        } else if (r instanceof BindResult.Planned p) {
            p.targets().keySet().forEach(d -> moved.add(d.name()));
            users = p.users();
        }
        for (Device d : group) {
            String now = d.driver().orElse("");
            if (r instanceof BindResult.Planned p && p.targets().containsKey(d.name())) now = p.targets().get(d.name());
            drivers.put(d.name().name(), now);
        }
        // a dry run of a Rebind names the group node the device will have; the cdevs are numbered at the bind
        String groupNode = (dryRun && outcome.toVfio() ? grants.plannedGroupNode(group) : grants.groupNode(group))
                .map(Path::toString).orElse("");
        Map<String, String> deviceNodes = new LinkedHashMap<>();
        for (Map.Entry<DeviceName, Path> e : grants.deviceNodes(group).entrySet()) {
            deviceNodes.put(e.getKey().name(), e.getValue().toString());
        }
        List<String> nodes = new ArrayList<>();
        if (!groupNode.isEmpty()) nodes.add(groupNode);
        nodes.addAll(deviceNodes.values());
        Map<String, Variant<?>> out = new LinkedHashMap<>();
        out.put("driver", new Variant<>(r.driver()));
        out.put("devices", new Variant<>(moved, "as"));
        out.put("drivers", new Variant<>(drivers, "a{ss}"));
        out.put("group", new Variant<>(group.isEmpty() ? -1 : group.get(0).iommuGroup().orElse(-1)));
        out.put("group-node", new Variant<>(groupNode));
        out.put("device-nodes", new Variant<>(deviceNodes, "a{ss}"));
        out.put("nodes", new Variant<>(nodes, "as"));
        out.put("access", new Variant<>(grants.users(group).stream().map(UInt32::new).toList(), "au"));
        out.put("steps", new Variant<>(steps, "as"));
        out.put("users", new Variant<>(users, "as"));
        out.put("dry-run", new Variant<>(dryRun));
        return out;
    }
}
