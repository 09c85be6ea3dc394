#!/usr/bin/env bash
# e2e/scenario-libvirt.sh: a real `virsh start` of a domain with a managed='no' hostdev, through the packaged
# libvirt hook (packaging/libvirt/vfiod). In the guest (e2e/guest/scenario-libvirt.sh), with the real system bus,
# polkitd and vfiod, and the host's libvirtd (libvirt-daemon-system; its /usr and /etc come over 9p):
#   1. virsh start of a TCG domain whose hostdev is the e1000e at 00:03.0, managed='no': the hook moves it to
#      vfio-pci at "prepare begin", QEMU opens it (vfiod's Users() names the QEMU process), virsh destroy gives it
#      back to e1000e at "release end";
#   2. with eth0 up and addressed, the start fails with vfiod's InUse message and the device stays on e1000e.
# QEMU runs nested under TCG: slow, but the domain only has to start, not boot.
# Exit 0 when all of it worked. Logs: e2e/logs/<kver>/scenario-libvirt.console.log, e2e/logs/<kver>/scenario-libvirt.results/
set -uo pipefail
source "$(dirname "$0")/lib/qemu.sh"
source "$E2E_DIR/lib/vfiod.sh"
e2e_require || exit 1
t0=$(e2e_now)
command -v libvirtd >/dev/null && command -v virsh >/dev/null \
    || { e2e_log "libvirtd or virsh missing (apt-get install libvirt-daemon-system libvirt-clients)"; exit 1; }
vfiod_e2e_jars || exit 1
vfiod_e2e_cds
t_build=$(e2e_since "$t0")

export E2E_TIMEOUT=${E2E_TIMEOUT:-900}
E2E_NAME=scenario-libvirt e2e_boot "$E2E_DIR/guest/scenario-libvirt.sh"; rc=$?

echo "---- scenario-libvirt timings (seconds; guest steps run under TCG, slower than the host)"
printf '%-52s %7s\n' "host: jars, CDS archive up to date" "$t_build"
vfiod_e2e_report scenario-libvirt
printf '%-52s %7s\n' "whole scenario-libvirt (host wall)" "$(e2e_since "$t0")"
if [ "$rc" = 0 ]; then echo "e2e: 1 passed, 0 failed"; else echo "e2e: 0 passed, 1 failed (exit $rc)"; fi
exit "$rc"
