#!/usr/bin/env bash
# e2e/smoke.sh: the first end-to-end scenario; it proves the harness. Boots Debian's kernel under QEMU (TCG, emulated
# VT-d), and in the guest (e2e/guest/smoke.sh): reads the e1000e's modalias/driver/IOMMU group, runs java -version
# and dbus-daemon --version from the host's /usr, modprobes vfio-pci, moves the e1000e to vfio-pci with the three
# sysfs writes, checks the driver link and /dev/vfio/<group>, lets the host check the VM through the QEMU monitor,
# gives the device back to e1000e, and has the host hot-add and hot-remove a second e1000e through the monitor.
# Exit code 0 when all of it worked. Logs: e2e/logs/<kver>/smoke.console.log, e2e/logs/<kver>/smoke.results/
set -uo pipefail
source "$(dirname "$0")/lib/qemu.sh"
e2e_require || exit 1
t0=$(e2e_now)
host_fail=""

# a PCIe root port at 00:04.0 to hot-plug into (QEMU's q35 root bus itself takes no hot-plug)
e2e_start "$E2E_DIR/guest/smoke.sh" -device pcie-root-port,id=e2e-rp1,chassis=1,addr=04.0 || exit 1
if e2e_host_wait rebound "${E2E_TIMEOUT:-300}"; then
    status=$(e2e_monitor info status)
    echo "monitor: info status: $status"
    [[ $status == *running* ]] || host_fail+=" status"
    pci=$(e2e_monitor info pci)
    # the guest holds the e1000e with vfio-pci now; QEMU still shows it at 00:03.0
    if grep -A1 'Bus  0, device   3, function 0:' <<< "$pci" | grep -q '8086:10d3'; then
        echo "monitor: info pci shows the e1000e (8086:10d3) at 00:03.0"
    else
        host_fail+=" info-pci"; echo "$pci"
    fi
    e2e_host_signal checked
    if e2e_host_wait want-plug 120; then
        out=$(e2e_monitor "device_add e1000e,id=e2e-hot1,bus=e2e-rp1"); [ -z "$out" ] || { echo "device_add: $out"; host_fail+=" device_add"; }
        if e2e_host_wait want-unplug 120; then
            out=$(e2e_monitor "device_del e2e-hot1"); [ -z "$out" ] || { echo "device_del: $out"; host_fail+=" device_del"; }
        fi
    fi
else
    host_fail+=" rendezvous"
fi
e2e_wait; rc=$?

echo "---- smoke timings (guest steps in seconds; the guest is slower than the host)"
printf '%-44s %6s\n' "QEMU start to /init (host clock)" "$E2E_BOOT_TO_INIT"
printf '%-44s %6s\n' "kernel boot to /init (guest)" "${E2E_GUEST_INIT_UPTIME:-?}"
[ -f "$E2E_LOGS/smoke.results/timings" ] && while IFS=$'\t' read -r kind n d; do
    if [ "$kind" = step ]; then printf '%-44s %6s\n' "step: $n" "$d"; else printf '%-44s %6s\n' "  $n" "$d"; fi
done < "$E2E_LOGS/smoke.results/timings"
printf '%-44s %6s\n' "whole smoke run (host wall)" "$(e2e_since "$t0")"
[ -z "$host_fail" ] || { echo "host checks failed:$host_fail"; [ "$rc" = 0 ] && rc=1; }
if [ "$rc" = 0 ]; then echo "e2e: 1 passed, 0 failed"; else echo "e2e: 0 passed, 1 failed (exit $rc)"; fi
exit "$rc"
