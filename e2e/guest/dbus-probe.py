#!/usr/bin/python3
# e2e/guest/dbus-probe.py: D-Bus calls to vfiod timed INSIDE one running client (python3-dbus from the host's /usr),
# so that the figures hold the call alone: no process start, no bus connection, no introspection. Under TCG a
# `busctl` or `gdbus` process costs 0.2-0.5 s by itself, more than the calls these figures are about.
#
#   dbus-probe.py reads OUT STOP OBJPATH [INTERVAL [PROPERTY]]
#       Until the file STOP exists: Get(org.vfiod1.Device, PROPERTY) on OBJPATH (default Driver), then Manager.ListDevices, then
#       dbus-daemon's own GetId (the baseline: the guest's and the bus's speed just then, without vfiod), every
#       INTERVAL seconds (default 0.1). Appends one line per round to OUT:
#           <epoch µs at the Get's start> <Get ms> <epoch µs at ListDevices' start> <ListDevices ms> <bus GetId ms, -1 if it failed>
#           <PROPERTY's value> <n paths>
#       (a failed call: its ms, then "ERR:<name>"). Writes "ready <epoch µs>" to OUT.ready after the first round.
#   dbus-probe.py call METHOD BDF [OPTIONS_JSON [GO]]
#       One Manager.METHOD(BDF, options) call (options: {"force": true, "timeout": 8000}: booleans as b, integers
#       as u). Prints "start_us=<epoch µs>", "elapsed_ms=<ms>", then "reply=<value>" or "error=<D-Bus error name>"
#       and "message=<text>". With GO: once connected it writes GO.ready and sends the call only when the file GO
#       exists, so that the caller can start the clock (and other measurements) after python's own start, which
#       takes seconds under TCG and competes for the guest's one CPU.
#   dbus-probe.py pairs N BDF DRIVER BACK OUT [JOURNAL_DIR]
#       vfiod's own share of a move: N times Manager.Rebind(BDF) (the reply must be DRIVER) then Manager.Restore(BDF)
#       (the reply must be BACK), each timed inside this one connected client, after a warm-up pair. Appends one line
#       per pair to OUT: <Rebind µs> <Restore µs> <Peer.Ping to vfiod µs> <the same Rebind with dry-run µs: the
#       plan and the host-use check; a dry run needs no polkit check and writes nothing> <polkit µs: this client's
#       own CheckAuthorization of org.vfiod.rebind, as vfiod asks it> <fsync µs: one journal-sized atomic write in
#       JOURNAL_DIR as vfiod makes it (temporary file, write, fsync, rename, fsync of the folder); -1 without
#       JOURNAL_DIR>. The last two are the parts of a Rebind that no code of vfiod's can make faster. Exit 1 on a
#       failed call or a wrong reply.
#   dbus-probe.py phases LOG METHOD N
#       The medians of the phases vfiod logged ("<METHOD> <device> took <ms> ms: <phase> <ms>, ...; in the operation
#       <ms> ms: <phase> <ms>, ...") for the last N calls of METHOD in its log LOG: one "<phase>\t<median ms>" line
#       each, "total" first, then the caller's thread's phases, "operation" (the engine's thread, which starts beside
#       the polkit check) and its phases.
import json
import os
import sys
import time

import dbus

DEST = "org.vfiod"


def now_us():
    return time.time_ns() // 1000


def timed(fn):
    t = now_us()
    try:
        v = fn()
        return t, (now_us() - t) / 1000.0, v, None
    except dbus.exceptions.DBusException as e:
        return t, (now_us() - t) / 1000.0, None, e


def reads(out, stop, path, interval=0.1, prop="Driver"):
    bus = dbus.SystemBus()
    ready = False
    with open(out, "a", buffering=1) as f:
        while not os.path.exists(stop):
            t1, ms1, drv, e1 = timed(lambda: bus.call_blocking(DEST, path, "org.freedesktop.DBus.Properties", "Get",
                                                               "ss", ("org.vfiod1.Device", prop), timeout=60))
            t2, ms2, paths, e2 = timed(lambda: bus.call_blocking(DEST, "/org/vfiod", "org.vfiod1.Manager", "ListDevices",
                                                                 "", (), timeout=60))
            # a round trip to dbus-daemon itself: how fast the guest and the bus are just now, without vfiod
            t3, ms3, _, e3 = timed(lambda: bus.call_blocking("org.freedesktop.DBus", "/org/freedesktop/DBus",
                                                             "org.freedesktop.DBus", "GetId", "", (), timeout=60))
            f.write("%d %.1f %d %.1f %.1f %s %s\n" % (t1, ms1, t2, ms2, ms3 if not e3 else -1,
                                                       "ERR:" + str(e1.get_dbus_name()) if e1 else (str(drv) or '""'),
                                                       "ERR:" + str(e2.get_dbus_name()) if e2 else len(paths)))
            if not ready:
                with open(out + ".ready", "w") as r:
                    r.write("ready %d\n" % now_us())
                ready = True
            time.sleep(interval)


def call(method, bdf, options_json="{}", go=None):
    opts = {}
    for k, v in json.loads(options_json).items():
        opts[k] = dbus.Boolean(v) if isinstance(v, bool) else dbus.UInt32(v) if isinstance(v, int) else dbus.String(v)
    bus = dbus.SystemBus()
    # a no-op first, so that the timed call finds the connection and vfiod's name resolved
    bus.call_blocking(DEST, "/org/vfiod", "org.freedesktop.DBus.Peer", "Ping", "", (), timeout=60)
    if go:
        with open(go + ".ready", "w") as r:
            r.write("ready %d\n" % now_us())
        while not os.path.exists(go):
            time.sleep(0.01)
    t, ms, v, err = timed(lambda: bus.call_blocking(DEST, "/org/vfiod", "org.vfiod1.Manager", method, "sa{sv}",
                                                    (bdf, dbus.Dictionary(opts, signature="sv")), timeout=120))
    print("start_us=%d" % t)
    print("elapsed_ms=%.1f" % ms)
    if err:
        print("error=%s" % err.get_dbus_name())
        print("message=%s" % err.get_dbus_message())
        return 0
    print("reply=" + str(v))
    return 0


JOURNAL_BYTES = 900  # about what vfiod's journal holds for one device with its three steps


def atomic_write(folder):
    """One write as vfiod's AtomicFiles makes it: the floor of a journal update on that filesystem."""
    tmp = os.path.join(folder, ".probe.journal.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, b"x" * JOURNAL_BYTES)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.rename(tmp, os.path.join(folder, ".probe.journal"))
    d = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(d)
    finally:
        os.close(d)


def pairs(n, bdf, driver, back, out, journal_dir=None):
    bus = dbus.SystemBus()
    nodict = dbus.Dictionary({}, signature="sv")

    dry = dbus.Dictionary({"dry-run": dbus.Boolean(True)}, signature="sv")

    def manager(method, opts=nodict):
        return str(bus.call_blocking(DEST, "/org/vfiod", "org.vfiod1.Manager", method, "sa{sv}", (bdf, opts),
                                     timeout=120))

    def ping():
        bus.call_blocking(DEST, "/org/vfiod", "org.freedesktop.DBus.Peer", "Ping", "", (), timeout=60)

    # the check vfiod makes for a Rebind, made by this client about itself: polkitd asks the bus who the subject is
    # and runs its rules, as for vfiod's (vfiod also tells it the device's id and class, which no rule here reads)
    subject = dbus.Struct(("system-bus-name", {"name": dbus.String(bus.get_unique_name(), variant_level=1)}),
                          signature="sa{sv}")
    details = dbus.Dictionary({"method": "Rebind", "address": bdf, "force": "false", "group": "false",
                               "driver": driver}, signature="ss")

    def polkit():
        r = bus.call_blocking("org.freedesktop.PolicyKit1", "/org/freedesktop/PolicyKit1/Authority",
                              "org.freedesktop.PolicyKit1.Authority", "CheckAuthorization", "(sa{sv})sa{ss}us",
                              (subject, "org.vfiod.rebind", details, dbus.UInt32(0), ""), timeout=60)
        if not r[0]:
            sys.exit("pairs: polkit does not authorize this client's org.vfiod.rebind: %s" % (r,))

    ping()
    polkit()
    if journal_dir:
        atomic_write(journal_dir)
    # warm-up: the first calls of this client's kind load python code paths and vfiod's
    if manager("Rebind") != driver or manager("Restore") != back:
        sys.exit("pairs: the warm-up pair did not move %s to %s and back to %s" % (bdf, driver, back))
    with open(out, "a", buffering=1) as f:
        for i in range(n):
            t0 = now_us()
            ping()
            t1 = now_us()
            manager("Rebind", dry)
            t2 = now_us()
            r = manager("Rebind")
            t3 = now_us()
            b = manager("Restore")
            t4 = now_us()
            if r != driver or b != back:
                sys.exit("pairs: round %d: Rebind answered %s (want %s), Restore %s (want %s)" % (i, r, driver, b, back))
            polkit()
            t5 = now_us()
            if journal_dir:
                atomic_write(journal_dir)
            t6 = now_us()
            f.write("%d %d %d %d %d %d\n" % (t3 - t2, t4 - t3, t1 - t0, t2 - t1, t5 - t4, t6 - t5 if journal_dir else -1))
    if journal_dir:
        for name in (".probe.journal", ".probe.journal.tmp"):
            try:
                os.unlink(os.path.join(journal_dir, name))
            except FileNotFoundError:
                pass
    return 0


def phases(log, method, n):
    """Medians of the phases of the last n calls of method in vfiod's log."""
    marker = " %s " % method
    calls = []
    with open(log, errors="replace") as f:
        for line in f:
            i = line.find(marker)
            j = line.find(" took ", i + 1) if i >= 0 else -1
            if j < 0 or " ms: " not in line[j:]:
                continue
            # "<ms> ms: <phase> <ms>, ...; in the operation <ms> ms: <phase> <ms>, ..." (the operation's phases ran
            # on its own thread, partly beside the caller's polkit check)
            outer, _, inner = line[j + 6:].strip().partition("; in the operation ")
            times = {}
            for label, part in (("total", outer), ("operation", inner)):
                head, _, rest = part.partition(" ms: ")
                if not head:
                    continue
                times[label] = float(head)
                for item in rest.split(", "):
                    name, _, ms = item.rpartition(" ")
                    if name:
                        times[name] = times.get(name, 0.0) + float(ms)
            calls.append(times)
    calls = calls[-n:]
    if len(calls) < n:
        sys.exit("phases: %d timed %s calls in %s, want %d" % (len(calls), method, log, n))
    names = []
    for c in calls:
        names += [k for k in c if k not in names]
    for name in names:
        v = sorted(c.get(name, 0.0) for c in calls)
        med = v[len(v) // 2] if len(v) % 2 else (v[len(v) // 2 - 1] + v[len(v) // 2]) / 2
        print("%s\t%.1f\t%.1f" % (name, med, v[0]))
    return 0


if __name__ == "__main__":
    a = sys.argv[1:]
    if len(a) >= 4 and a[0] == "reads":
        reads(a[1], a[2], a[3], float(a[4]) if len(a) > 4 else 0.1, a[5] if len(a) > 5 else "Driver")
    elif len(a) in (6, 7) and a[0] == "pairs":
        sys.exit(pairs(int(a[1]), a[2], a[3], a[4], a[5], a[6] if len(a) > 6 else None))
    elif len(a) == 4 and a[0] == "phases":
        sys.exit(phases(a[1], a[2], int(a[3])))
    elif len(a) >= 3 and a[0] == "call":
        sys.exit(call(a[1], a[2], a[3] if len(a) > 3 else "{}", a[4] if len(a) > 4 else None))
    else:
        sys.exit("usage: dbus-probe.py reads OUT STOP OBJPATH [INTERVAL [PROPERTY]] | call METHOD BDF [OPTIONS_JSON [GO]]"
                 " | pairs N BDF DRIVER BACK OUT [JOURNAL_DIR] | phases LOG METHOD N")
