#!/usr/bin/env bash
# e2e/scenario-hotplug.sh: scenario 5, hot-plug with a model rule. In the guest (e2e/guest/scenario-hotplug.sh) the rule
# `match id 8086:10d3`, systemd-udevd, the real system bus, polkitd and vfiod run; this script hot-adds an e1000e
# behind a PCIe root port at 00:04.0 through the QEMU monitor, and the guest checks that it lands on vfio-pci through
# the udev add event with a DeviceAdded signal; then it hot-removes it, and the guest checks its object is gone
# (DeviceRemoved, not in ListDevices). Exit 0 when all of it worked.
# Logs: e2e/logs/<kver>/scenario-hotplug.console.log, e2e/logs/<kver>/scenario-hotplug.results/ (vfiod.log, dbus-monitor.log, ...)
set -uo pipefail
source "$(dirname "$0")/lib/qemu.sh"
source "$E2E_DIR/lib/vfiod.sh"
vfiod_e2e_prepare || exit 1
t0=$(e2e_now)
host_fail=""
E2E_NAME=scenario-hotplug e2e_start "$E2E_DIR/guest/scenario-hotplug.sh" \
    -device pcie-root-port,id=v2-rp1,chassis=1,addr=04.0 || exit 1
if e2e_host_wait want-plug "$E2E_TIMEOUT"; then
    out=$(e2e_monitor "device_add e1000e,id=v2-hot1,bus=v2-rp1,romfile="); [ -z "$out" ] || { echo "device_add: $out"; host_fail+=" device_add"; }
    if e2e_host_wait want-unplug 240; then
        out=$(e2e_monitor "device_del v2-hot1"); [ -z "$out" ] || { echo "device_del: $out"; host_fail+=" device_del"; }
    fi
fi
e2e_wait; rc=$?
[ -z "$host_fail" ] || { echo "host steps failed:$host_fail"; [ "$rc" = 0 ] && rc=1; }
vfiod_e2e_summary scenario-hotplug "$t0" "$rc"
