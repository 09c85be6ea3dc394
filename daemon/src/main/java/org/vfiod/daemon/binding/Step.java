package org.vfiod.daemon.binding;

import java.util.Optional;
import org.vfiod.daemon.sysfs.DeviceName;
import org.vfiod.daemon.sysfs.DriverName;
import org.vfiod.daemon.sysfs.Sysfs;

/** One kernel write of a plan. Its text is what a caller, the log and the journal call it. */
public sealed interface Step {
    String text();

    record ReleaseFramebuffer(Sysfs.Framebuffer framebuffer) implements Step {
        @Override
        public String text() {
            return "release framebuffer " + framebuffer.name();
        }
    }

    record SetOverride(DeviceName device, Optional<DriverName> driver) implements Step {
        @Override
        public String text() {
            return driver.map(d -> "set driver_override of " + device + " to " + d).orElse("clear driver_override of " + device);
        }
    }

    record Unbind(DeviceName device, DriverName from) implements Step {
        @Override
        public String text() {
            return "unbind " + device + " from " + from;
        }
    }

    record Probe(DeviceName device) implements Step {
        @Override
        public String text() {
            return "probe " + device;
        }
    }
}
