#!/usr/bin/python3
"""A small client of vfiod on GLib's D-Bus (Gio, from python3-gi): what a desktop tool would do.

    vfiod-gio.py list                        every device: address, IOMMU group, state, driver, VFIO driver, name
    vfiod-gio.py watch [--seconds N]         print the signals: devices added and removed, properties changed
    vfiod-gio.py move ADDRESS [--group]      dry-run a Rebind, Rebind, then dry-run a Restore, Restore; printing
                                             the property changes each one caused

A device's ADDRESS is a PCI address (0000:03:00.0) or bus:name (platform:a000000.virtio_mmio), as `list` shows it.
--address ADDRESS (before the command) talks to that bus instead of the system bus (the test suite's private bus,
or the one `scripts/demo` prints). Errors are one line on stderr with vfiod's D-Bus error name and message; the exit
code is 1. Nothing here is vfiod-specific GLib: a Gio.DBusObjectManagerClient keeps every device's properties
current from the signals, and a Gio.DBusProxy calls the Manager.
"""
import argparse
import signal
import sys

from gi.repository import Gio, GLib

BUS_NAME = "org.vfiod"
MANAGER_PATH = "/org/vfiod"
MANAGER_IFACE = "org.vfiod1.Manager"
DEVICE_IFACE = "org.vfiod1.Device"
CALL_TIMEOUT_MS = 60_000


def connect(address):
    if address:
        flags = Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT | Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION
        return Gio.DBusConnection.new_for_address_sync(address, flags, None, None)
    return Gio.bus_get_sync(Gio.BusType.SYSTEM, None)


def object_manager(bus):
    """Every device with its properties, kept current by the ObjectManager and PropertiesChanged signals."""
    return Gio.DBusObjectManagerClient.new_sync(bus, Gio.DBusObjectManagerClientFlags.DO_NOT_AUTO_START,
                                                BUS_NAME, MANAGER_PATH, None, None, None)


def devices(manager):
    out = []
    for obj in manager.get_objects():
        proxy = obj.get_interface(DEVICE_IFACE)
        if proxy is not None:
            out.append(proxy)
    return sorted(out, key=lambda p: (prop(p, "Subsystem") or "", prop(p, "Address")))


def prop(proxy, name):
    v = proxy.get_cached_property(name)
    return None if v is None else v.unpack()


def ident(proxy):
    """A PCI device by its address, a device of another bus as bus:name: what the Manager's methods take"""
    bus = prop(proxy, "Subsystem")
    return prop(proxy, "Address") if bus in (None, "", "pci") else f"{bus}:{prop(proxy, 'Address')}"


def cmd_list(bus):
    manager = object_manager(bus)
    print(f"{'ADDRESS':<13} {'GROUP':>5} {'STATE':<7} {'DRIVER':<14} {'VFIO DRIVER':<14} NAME")
    for d in devices(manager):
        name = " ".join(x for x in (prop(d, "Vendor"), prop(d, "Product")) if x) or \
            "%04x:%04x" % (prop(d, "VendorId"), prop(d, "DeviceId"))
        group = prop(d, "IommuGroup")
        print(f"{ident(d):<13} {'-' if group < 0 else group:>5} {prop(d, 'State'):<7} "
              f"{prop(d, 'Driver') or '-':<14} {prop(d, 'VfioDriver') or '-':<14} {name}")
    return 0


class Watcher:
    """Prints one line per signal, as the object manager sees it."""

    def __init__(self, manager):
        self.lines = 0
        manager.connect("object-added", self.added)
        manager.connect("object-removed", self.removed)
        manager.connect("interface-proxy-properties-changed", self.changed)

    @staticmethod
    def address(obj):
        proxy = obj.get_interface(DEVICE_IFACE)
        return ident(proxy) if proxy is not None else obj.get_object_path()

    def say(self, line):
        self.lines += 1
        print(line, flush=True)

    def added(self, manager, obj):
        self.say(f"added {self.address(obj)}")

    def removed(self, manager, obj):
        self.say(f"removed {self.address(obj)}")

    def changed(self, manager, obj, proxy, changed, invalidated):
        values = changed.unpack()
        shown = " ".join(f"{k}={v!r}" for k, v in sorted(values.items()))
        self.say(f"changed {self.address(obj)} {shown}")


def cmd_watch(bus, seconds):
    manager = object_manager(bus)
    Watcher(manager)
    loop = GLib.MainLoop()
    if seconds:
        GLib.timeout_add_seconds(seconds, loop.quit)
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGINT, loop.quit)
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGTERM, loop.quit)
    print(f"watching {len(devices(manager))} devices", flush=True)
    loop.run()
    return 0


def call(manager_proxy, member, address, options):
    args = GLib.Variant("(sa{sv})", (address, {k: GLib.Variant("b", v) for k, v in options.items()}))
    return manager_proxy.call_sync(member, args, Gio.DBusCallFlags.NONE, CALL_TIMEOUT_MS, None).unpack()[0]


def wait_for_state(manager, address, state, seconds=10):
    """Runs the main loop (so the Watcher prints the signals) until the device's State is `state`."""
    context = GLib.MainContext.default()
    deadline = GLib.get_monotonic_time() + seconds * 1_000_000
    while GLib.get_monotonic_time() < deadline:
        while context.iteration(False):
            pass
        d = [p for p in devices(manager) if address in (ident(p), f"{prop(p, 'Subsystem')}:{prop(p, 'Address')}")]
        if d and prop(d[0], "State") == state:
            return True
        GLib.usleep(20_000)
    return False


def cmd_move(bus, address, group):
    manager = object_manager(bus)
    Watcher(manager)
    vfiod = Gio.DBusProxy.new_sync(bus, Gio.DBusProxyFlags.DO_NOT_LOAD_PROPERTIES, None, BUS_NAME, MANAGER_PATH,
                                   MANAGER_IFACE, None)
    for member, state in (("Rebind", "vfio"), ("Restore", "host")):
        driver = call(vfiod, member, address, {"dry-run": True, "group": group})
        # a dry run checks everything a real call would (group, host use, drivers) and writes nothing
        print(f"{member} {address} (dry run): ok, vfiod answers {driver!r}", flush=True)
        driver = call(vfiod, member, address, {"group": group})
        print(f"{member} {address}: on {driver or 'no driver'}", flush=True)
        if not wait_for_state(manager, address, state):
            print(f"vfiod-gio: {address} did not become {state}", file=sys.stderr)
            return 1
    return 0


def main(argv):
    parser = argparse.ArgumentParser(prog="vfiod-gio.py", description="A vfiod client on Gio.")
    parser.add_argument("--address", help="a D-Bus address instead of the system bus")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list")
    w = sub.add_parser("watch")
    w.add_argument("--seconds", type=int, default=0, help="stop after this long (default: Ctrl-C)")
    m = sub.add_parser("move")
    m.add_argument("device", metavar="ADDRESS", help="a PCI address such as 0000:03:00.0")
    m.add_argument("--group", action="store_true", help="with the other endpoints of its IOMMU group")
    args = parser.parse_args(argv)
    try:
        bus = connect(args.address)
        if args.command == "list":
            return cmd_list(bus)
        if args.command == "watch":
            return cmd_watch(bus, args.seconds)
        return cmd_move(bus, args.device, args.group)
    except GLib.Error as e:
        name = Gio.DBusError.get_remote_error(e)
        # GLib puts "GDBus.Error:NAME: " before vfiod's message (Gio.DBusError.strip_remote_error strips it, but on
        # PyGObject's copy of the error, not on e)
        prefix = f"GDBus.Error:{name}: "
        message = e.message[len(prefix):] if name and e.message.startswith(prefix) else e.message
        print(f"vfiod-gio: {name + ': ' if name else ''}{message}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
