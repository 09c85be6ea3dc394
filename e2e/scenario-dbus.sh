#!/usr/bin/env bash
# e2e/scenario-dbus.sh: vfiod over D-Bus against a real kernel (scenarios 1, 6 and 3 of the e2e plan, in one boot).
# Builds on the host (jars, e2e/src/vfio-open.c), boots the guest (e2e/guest/scenario-dbus.sh), which starts
# dbus-daemon (a private system bus), polkitd and vfiod on the guest's real /sys and module tree, and then:
#   1. busctl Rebind moves the e1000e at 00:03.0 to vfio-pci (driver link, driver_override, /dev/vfio/<group>);
#      vfio-open opens container, group and device and reads vendor 0x8086 / device 0x10d3 from config space;
#      busctl Restore puts it back on e1000e;
#   6. an unbind by hand (echo > .../e1000e/unbind) turns the Driver property into "" (and a bind by hand back);
#   3. times Rebind over D-Bus beside a shell script doing the same writes and `driverctl --nosave set-override`,
#      and prints the ratios (VFIOD_PERF_RUNS=5 rounds); then vfiod's own share: VFIOD_OWN_RUNS=10 Rebind/Restore
#      pairs from one connected client beside the same writes in one shell (the table lands in
#      e2e/logs/<kver>/scenario-dbus.results/perf.txt, the figures for run-all's table in perf.tsv).
# Exit code 0 when all of it worked. Logs: e2e/logs/<kver>/scenario-dbus.console.log, e2e/logs/<kver>/scenario-dbus.results/
set -uo pipefail
source "$(dirname "$0")/lib/qemu.sh"
source "$E2E_DIR/lib/vfiod.sh"
e2e_require || exit 1
t0=$(e2e_now)
command -v driverctl >/dev/null || { e2e_log "driverctl missing: running e2e/setup.sh"; "$E2E_DIR/setup.sh" >&2 || exit 1; }
vfiod_e2e_jars || exit 1
vfiod_e2e_vfio_open || exit 1
vfiod_e2e_cds   # optional: a class data archive: vfiod starts about a third faster in the guest
t_build=$(e2e_since "$t0")

export E2E_TIMEOUT=${E2E_TIMEOUT:-600}
script=$E2E_DIR/guest/scenario-dbus.sh
# the guest gets no environment from here: pass the numbers of rounds in front of its script
if [ -n "${VFIOD_PERF_RUNS:-}${VFIOD_OWN_RUNS:-}" ]; then
    script=$(mktemp /tmp/vfiod-e2e-dbus.XXXXXX.sh)
    { [ -n "${VFIOD_PERF_RUNS:-}" ] && echo "VFIOD_PERF_RUNS=$VFIOD_PERF_RUNS"
      [ -n "${VFIOD_OWN_RUNS:-}" ] && echo "VFIOD_OWN_RUNS=$VFIOD_OWN_RUNS"
      cat "$E2E_DIR/guest/scenario-dbus.sh"; } > "$script"
fi
E2E_NAME=scenario-dbus e2e_boot "$script"; rc=$?
[ "$script" = "$E2E_DIR/guest/scenario-dbus.sh" ] || rm -f "$script"

echo "---- scenario-dbus timings (seconds; guest steps run under TCG, slower than the host)"
printf '%-52s %7s\n' "host: jars, vfio-open, CDS archive up to date" "$t_build"
vfiod_e2e_report scenario-dbus
printf '%-52s %7s\n' "whole scenario-dbus (host wall)" "$(e2e_since "$t0")"
if [ "$rc" = 0 ]; then echo "e2e: 1 passed, 0 failed"; else echo "e2e: 0 passed, 1 failed (exit $rc)"; fi
exit "$rc"
