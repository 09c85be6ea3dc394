#!/usr/bin/env bash
# e2e/scenario-platform.sh: issue 18's real kernel for a bus other than PCI. Boots the arm64 guest (E2E_ARCH=arm64,
# prepared by e2e/arm64/setup.sh: Debian 12's arm64 kernel, vfio-platform and vfio's no-IOMMU mode built out of tree)
# on QEMU's virt machine under TCG with a virtio-rng-device on a virtio-mmio transport, and moves that platform
# device to vfio-platform and back, by hand and through vfiod (e2e/guest/scenario-platform.sh). Runs on its own:
#     e2e/scenario-platform.sh          or   e2e/run-all.sh --arch arm64 [scenario-platform]
# Logs: e2e/logs/<arm64 kver>/scenario-platform.console.log and .results/.
set -uo pipefail
export E2E_ARCH=arm64
source "$(dirname "$0")/lib/qemu.sh"
source "$(dirname "$0")/lib/vfiod.sh"
e2e_require || exit 1
mkdir -p "$E2E_CACHE"
vfiod_e2e_jars || exit 1     # the jar is the same on arm64: JNA carries its linux-aarch64 library
t0=$(e2e_now)
# vfio's no-IOMMU mode (the virt machine has no IOMMU for platform devices) and vfio-platform without a reset
# function for "virtio,mmio": kmod's modprobe applies both from the command line
E2E_APPEND="vfio.enable_unsafe_noiommu_mode=1 vfio_platform.reset_required=0 ${E2E_APPEND:-}"
E2E_TIMEOUT=${E2E_TIMEOUT:-600}
e2e_boot "$E2E_DIR/guest/scenario-platform.sh" -device virtio-rng-device; rc=$?
echo "---- scenario-platform timings (seconds)"
printf '%-50s %6s\n' "QEMU start to /init (host clock)" "$E2E_BOOT_TO_INIT"
printf '%-50s %6s\n' "kernel boot to /init (guest)" "${E2E_GUEST_INIT_UPTIME:-?}"
[ -f "$E2E_LOGS/scenario-platform.results/timings" ] && while IFS=$'\t' read -r kind n d; do
    if [ "$kind" = step ]; then printf '%-50s %6s\n' "step: $n" "$d"; else printf '%-50s %6s\n' "  $n" "$d"; fi
done < "$E2E_LOGS/scenario-platform.results/timings"
printf '%-50s %6s\n' "whole scenario (host wall)" "$(e2e_since "$t0")"
[ -s "$E2E_LOGS/scenario-platform.results/skipped" ] && sed 's/^/skipped: /' "$E2E_LOGS/scenario-platform.results/skipped"
exit "$rc"
