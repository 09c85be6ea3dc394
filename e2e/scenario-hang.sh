#!/usr/bin/env bash
# e2e/scenario-hang.sh: a host driver that hangs, and the faults that are real only in a guest (issue 14). One boot
# with QEMU's edu device at 00:05.0 (1234:11e8) beside the e1000e at 00:03.0, and a PCIe root port at 00:06.0 for
# the edu devices this script hot-adds and hot-removes through the QEMU monitor when the guest asks.
# On the host: the jars, the CDS archive, and the test modules of e2e/edu/ built against the guest kernel's headers
# with their module tree (lib/vfiod.sh: vfiod_e2e_edu). The guest (e2e/guest/scenario-hang.sh) lays that tree over
# its /lib/modules/<kver>, binds the edu to vfiod_test_edu, starts the bus, polkitd and vfiod, and then:
#   e. modprobe hanging: vfio_pci's load waits for vfiod_test_slow_init's init (modprobe.d softdep): Rebind with
#      timeout 5000 answers Timeout within 7 s, reads stay answered, and afterwards the edu is on a driver;
#   a. remove() waits until released: Rebind with timeout 5000 answers Timeout within 7 s, reads < 200 ms, State
#      "busy", a second Rebind Busy at once; after the release the edu is on a driver;
#   b. the same with remove() sleeping 12 s;
#   c. vfiod killed with SIGKILL while remove() waits; after the release a restarted vfiod reconciles the journal;
#   d. device_del of a hot-added edu while its remove() waits (Rebind) and while its probe() sleeps (Restore):
#      vfiod answers, keeps answering, no other device moves, the removed device's object goes.
# Each fault appends "<fault>\t<devices lost>" to the results' faults file. Exit code 0 when all of it worked.
# Logs: e2e/logs/scenario-hang.console.log, e2e/logs/scenario-hang.results/ (vfiod.log, vfiod-restart.log, kmsg.log,
# reads-*.txt, faults, hang-summary.txt).
set -uo pipefail
source "$(dirname "$0")/lib/qemu.sh"
source "$E2E_DIR/lib/vfiod.sh"
e2e_require || exit 1
t0=$(e2e_now)
vfiod_e2e_jars || exit 1
vfiod_e2e_cds   # optional: a class data archive: vfiod starts about a third faster in the guest
vfiod_e2e_edu || exit 1
t_build=$(e2e_since "$t0")

export E2E_TIMEOUT=${E2E_TIMEOUT:-900}
host_fail=""
E2E_NAME=scenario-hang e2e_start "$E2E_DIR/guest/scenario-hang.sh" \
    -device edu,addr=05.0 \
    -device pcie-root-port,id=hang-rp1,chassis=1,addr=06.0 || exit 1
# the guest asks for each hot-plug and hot-unplug (d.); QEMU refuses a device_add while the slot's last device is
# still on its way out, so that is tried again for a while
for n in 1 2; do
    e2e_host_wait "want-plug-$n" "$E2E_TIMEOUT" || break
    for try in $(seq 1 20); do
        out=$(e2e_monitor "device_add edu,id=hang-hot$n,bus=hang-rp1")
        [ -z "$out" ] && break
        e2e_log "device_add hang-hot$n (try $try): $out"; sleep 1
    done
    [ -z "$out" ] || host_fail+=" device_add-$n"
    e2e_host_signal "plugged-$n"
    e2e_host_wait "want-unplug-$n" 300 || break
    out=$(e2e_monitor "device_del hang-hot$n"); [ -z "$out" ] || { echo "device_del hang-hot$n: $out"; host_fail+=" device_del-$n"; }
    e2e_host_signal "unplugged-$n"
done
e2e_wait; rc=$?
[ -z "$host_fail" ] || { echo "host steps failed:$host_fail"; [ "$rc" = 0 ] && rc=1; }

echo "---- scenario-hang timings (seconds unless ms; guest steps run under TCG, slower than the host)"
printf '%-60s %7s\n' "host: jars, CDS, edu modules + depmod" "$t_build"
vfiod_e2e_report scenario-hang
res=$E2E_LOGS/scenario-hang.results
[ -f "$res/hang-summary.txt" ] && sed 's/^/summary: /' "$res/hang-summary.txt"
[ -f "$res/faults" ] && { echo "---- faults (fault, devices lost)"; sed 's/^/fault: /' "$res/faults"; }
printf '%-60s %7s\n' "whole scenario-hang (host wall)" "$(e2e_since "$t0")"
if [ "$rc" = 0 ]; then echo "e2e: 1 passed, 0 failed"; else echo "e2e: 0 passed, 1 failed (exit $rc)"; fi
exit "$rc"
