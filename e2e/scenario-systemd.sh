#!/usr/bin/env bash
# e2e/scenario-systemd.sh: the unit as shipped. The guest boots with systemd as PID 1 and the vfiod .deb installed
# by dpkg (e2e.systemd=1: e2e/guest/systemd-init.sh), on a machine with the e1000e at 00:03.0, a second e1000e at
# 00:05.0, QEMU's edu device and an e1000 behind a PCIe-to-PCI bridge (one IOMMU group) and an NVMe at 00:04.0 (a
# blank 64 MiB image made here). Two boots:
#   1. e2e/guest/scenario-systemd.sh: vfiod starts by D-Bus activation under its unit and sandbox; the host-use check
#      inside that sandbox (NIC up with an address, a mounted NVMe, a node another uid holds open); the access grant
#      (skipped until it is merged); systemctl stop during a move; systemctl kill -s KILL during a move and the
#      journal's reconcile after the restart; the watchdog restarting a vfiod whose device-event loop is wedged in
#      the kernel; the bus daemon restarted. Last, Rebind of 00:03.0 with persist: the rule file and the generated
#      61-vfiod.rules go to the results. (SD_GUEST=PATH runs another guest script instead, for debugging.)
#   2. e2e/guest/scenario-systemd-boot.sh, with those two files put in /etc before systemd starts and a stand-in
#      libvirtd.service enabled (e2e/guest/scenario-systemd-preboot.sh), booting multi-user.target: 00:03.0 is on
#      vfio-pci before the stand-in libvirtd starts (it records the driver it saw), e1000e never probed it, and
#      systemd ordered vfiod.service before libvirtd.service.
# Each injected fault adds a line "<fault>\t<devices lost>" to the results' faults file.
# Exit 0 when all of it worked. Logs: e2e/logs/scenario-systemd{,-boot}.console.log and .results/ (journal.txt: the
# guest's whole journal; vfiod-journal.txt: vfiod's unit; dpkg-install.log).
set -uo pipefail
source "$(dirname "$0")/lib/qemu.sh"
source "$E2E_DIR/lib/vfiod.sh"
source "$E2E_DIR/lib/systemd.sh"
e2e_require || exit 1
t0=$(e2e_now)
vfiod_e2e_jars || exit 1
vfiod_e2e_vfio_open || exit 1
vfiod_e2e_variant || exit 1
vfiod_e2e_edu || exit 1   # vfiod_test_edu, for the watchdog's wedge (boot 1 insmods it from the build folder)
sd_e2e_deb || exit 1
sd_e2e_dpkgdb || exit 1
img_dir=$(mktemp -d /tmp/vfiod-e2e-systemd.XXXXXX)
trap 'e2e_kill; rm -rf "$img_dir"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
truncate -s 64M "$img_dir/nvme.img" || exit 1
t_build=$(e2e_since "$t0")
rm -rf "$E2E_LOGS/scenario-systemd-boot.results"   # a second boot's results only from this run
e2e_log "scenario-systemd: installing $SD_E2E_DEB in the guests"

# every boot of a JVM-heavy systemd guest under TCG takes minutes: vfiod starts 6 times in boot 1
export E2E_TIMEOUT=${E2E_TIMEOUT:-1500}
# 00:05.0: a second e1000e (boot 2's control); behind a PCIe-to-PCI bridge at 00:06.0 an edu and an e1000, one IOMMU
# group (the watchdog step's wedge: the edu's driver holds its device lock, an event about the e1000 makes vfiod read it)
machine=(-device e1000e,addr=05.0,romfile=
         -device pcie-pci-bridge,id=sd-br,bus=pcie.0,addr=06.0 -device edu,bus=sd-br,addr=1 -device e1000,bus=sd-br,addr=2,romfile=
         -drive "if=none,id=sd-nvm,file=$img_dir/nvme.img,format=raw" -device nvme,serial=vfiod-e2e-sd,drive=sd-nvm,addr=04.0)

sd_e2e_append e2e.preboot=e2e/guest/scenario-systemd-preboot.sh
E2E_NAME=scenario-systemd E2E_APPEND="${E2E_APPEND:-} $SD_E2E_APPEND" e2e_boot "${SD_GUEST:-$E2E_DIR/guest/scenario-systemd.sh}" "${machine[@]}"
rc=$?
persisted=$E2E_LOGS/scenario-systemd.results/persisted
if [ "$rc" = 0 ] && [ "${SD_BOOT:-1}" = 1 ]; then
    sd_e2e_append e2e.preboot=e2e/guest/scenario-systemd-preboot.sh e2e.boot=multi-user
    E2E_NAME=scenario-systemd-boot E2E_APPEND="${E2E_APPEND:-} $SD_E2E_APPEND" \
        e2e_start "$E2E_DIR/guest/scenario-systemd-boot.sh" "${machine[@]}" || exit 1
    # what boot 1 left on "disk": the pre-boot file waits for it before systemd (and udevd) start
    cp -r "$persisted" "$E2E_RESULTS/persisted" && e2e_host_signal persisted
    e2e_wait; rc=$?
elif [ "$rc" != 0 ]; then
    e2e_log "scenario-systemd: boot 1 failed; no second boot"
fi

echo "---- scenario-systemd timings (seconds; guest steps run under TCG, slower than the host)"
printf '%-60s %7s\n' "host: jars, vfio-open, variant module, .deb, dpkg database" "$t_build"
for n in scenario-systemd scenario-systemd-boot; do
    [ -d "$E2E_LOGS/$n.results" ] || continue
    echo "[$n]"
    vfiod_e2e_report "$n"
    [ -f "$E2E_LOGS/$n.results/faults" ] && sed 's/^/fault: /' "$E2E_LOGS/$n.results/faults"
done
printf '%-60s %7s\n' "whole scenario-systemd (host wall)" "$(e2e_since "$t0")"
if [ "$rc" = 0 ]; then echo "e2e: 1 passed, 0 failed"; else echo "e2e: 0 passed, 1 failed (exit $rc)"; fi
exit "$rc"
