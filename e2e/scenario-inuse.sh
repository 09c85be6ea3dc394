#!/usr/bin/env bash
# e2e/scenario-inuse.sh: vfiod's host-use check on a real kernel (org.vfiod1.Error.InUse, Device.Users(), force, and
# a write the kernel holds past the caller's timeout). One boot, with an emulated NVMe at 00:04.0 beside the e1000e
# at 00:03.0; its disk is a 64 MiB raw image made here, in a temp dir removed at the end.
# On the host: the jars, vfio-open (with --hold) and the CDS archive, as for scenario-dbus.sh. The guest
# (e2e/guest/scenario-inuse.sh) starts the bus, polkitd and vfiod, and then:
#   1. e1000e's interface up with 192.0.2.10/24: Rebind answers InUse naming it, Users() lists it; after
#      `ip link set down` Rebind moves it to vfio-pci and Restore back;
#   2. ext4 on the NVMe mounted at /mnt/inuse: Rebind answers InUse naming the mount; after umount Rebind to
#      vfio-pci, Restore to nvme, the namespace block device and its file system come back;
#   3. vfio-open --hold on the e1000e (on vfio-pci): Restore answers InUse at once, naming /dev/vfio/<group> and the
#      pid; after the holder exits Restore works;
#   4. Restore with force and timeout 8000 while vfio-open holds the device (no request eventfd, so the kernel's
#      unbind blocks: "No device request channel registered"): the caller gets Timeout within 10 s, Get(Driver) and
#      ListDevices are answered in < 200 ms meanwhile (timed inside one python3-dbus client), and once the holder
#      is killed the device is on a driver with a driver_override to match.
# Exit code 0 when all of it worked. Logs: e2e/logs/<kver>/scenario-inuse.console.log, e2e/logs/<kver>/scenario-inuse.results/
# (vfiod.log, kmsg.log, reads.txt: every timed read, inuse-summary.txt: the figures).
set -uo pipefail
source "$(dirname "$0")/lib/qemu.sh"
source "$E2E_DIR/lib/vfiod.sh"
e2e_require || exit 1
t0=$(e2e_now)
vfiod_e2e_jars || exit 1
vfiod_e2e_vfio_open || exit 1
vfiod_e2e_cds   # optional: a class data archive: vfiod starts about a third faster in the guest
# the NVMe's disk: blank, so the guest's mkfs makes its file system on it
img_dir=$(mktemp -d /tmp/vfiod-e2e-inuse.XXXXXX)
trap 'e2e_kill; rm -rf "$img_dir"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
truncate -s 64M "$img_dir/nvme.img" || exit 1
t_build=$(e2e_since "$t0")

export E2E_TIMEOUT=${E2E_TIMEOUT:-600}
E2E_NAME=scenario-inuse e2e_boot "$E2E_DIR/guest/scenario-inuse.sh" \
    -drive "if=none,id=inuse-nvm,file=$img_dir/nvme.img,format=raw" \
    -device nvme,serial=vfiod-e2e-inuse,drive=inuse-nvm,addr=04.0
rc=$?

echo "---- scenario-inuse timings (seconds unless ms; guest steps run under TCG, slower than the host)"
printf '%-60s %7s\n' "host: jars, vfio-open, CDS archive, disk image" "$t_build"
vfiod_e2e_report scenario-inuse
[ -f "$E2E_LOGS/scenario-inuse.results/inuse-summary.txt" ] && sed 's/^/summary: /' "$E2E_LOGS/scenario-inuse.results/inuse-summary.txt"
printf '%-60s %7s\n' "whole scenario-inuse (host wall)" "$(e2e_since "$t0")"
if [ "$rc" = 0 ]; then echo "e2e: 1 passed, 0 failed"; else echo "e2e: 0 passed, 1 failed (exit $rc)"; fi
exit "$rc"
