#!/usr/bin/env bash
# e2e/scenario-boot.sh: scenario 4, the boot path of a persisted device. Two boots of the same machine (the e1000e at
# 00:03.0 and an unpersisted control e1000e at 00:05.0):
#   1. a normal boot (e2e/guest/scenario-boot-persist.sh): Rebind 0000:00:03.0 with persist through the real system
#      bus, polkitd and vfiod; the rule file and the generated 61-vfiod.rules come back in its results;
#   2. a boot with e2e.coldplug=0 (/init loads no PCI driver; e2e/guest/scenario-boot.sh): this script hands the two
#      files over, the guest puts them in /etc, starts systemd-udevd and runs the coldplug (udevadm trigger --action=add
#      --subsystem-match=pci; settle) as a real boot does. 00:03.0 must end on vfio-pci with no e1000e probe of it in
#      the kernel log, while e1000e probes the control; then vfiod starts and agrees.
# Exit 0 when all of it worked. Logs: e2e/logs/<kver>/scenario-boot-persist.* (boot 1) and e2e/logs/<kver>/scenario-boot.* (boot 2).
set -uo pipefail
source "$(dirname "$0")/lib/qemu.sh"
source "$E2E_DIR/lib/vfiod.sh"
vfiod_e2e_prepare || exit 1
t0=$(e2e_now)
machine=(-device e1000e,addr=05.0,romfile=)   # the control; lib/qemu.sh adds the e1000e at 00:03.0

E2E_NAME=scenario-boot-persist e2e_boot "$E2E_DIR/guest/scenario-boot-persist.sh" "${machine[@]}"
rc=$?
persisted=$E2E_LOGS/scenario-boot-persist.results/persisted
if [ "$rc" = 0 ]; then
    E2E_NAME=scenario-boot E2E_APPEND="${E2E_APPEND:-} e2e.coldplug=0" e2e_start "$E2E_DIR/guest/scenario-boot.sh" "${machine[@]}" \
        || exit 1
    # what the first boot left on "disk" (the files are in the guest's /results before it looks; then the signal)
    cp -r "$persisted" "$E2E_RESULTS/persisted" && e2e_host_signal persisted
    e2e_wait; rc=$?
else
    e2e_log "scenario-boot: the first boot (persist) failed; no second boot"
fi
vfiod_e2e_summary scenario-boot "$t0" "$rc" scenario-boot-persist scenario-boot
