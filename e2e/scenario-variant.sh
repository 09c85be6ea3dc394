#!/usr/bin/env bash
# e2e/scenario-variant.sh: vfiod and a real VFIO variant driver (scenario 2 of the e2e plan).
# On the host: builds e2e/variant/vfiod_test_vfio_pci.c against linux-headers-<kver> into .cache/e2e/variant/build/,
# runs depmod for the guest kernel's tree plus that module into .cache/e2e/variant/tree/ (see e2e/lib/vfiod.sh:
# the shared .cache/kernel/root tree stays as Debian ships it), and boots the guest (e2e/guest/scenario-variant.sh),
# which lays that tree over its /lib/modules/<kver> and checks that:
#   - Resolve(<modalias of the e1000e>) answers module vfiod_test_vfio_pci with 5 wildcards (vfio_pci's has 7);
#   - Rebind loads the module with modprobe and binds it (driver link, /dev/vfio/<group>, vfio-open works);
#   - after a Restore, with fail_probe=1, Rebind fails with org.vfiod1.Error.Failed naming the step
#     ("bind 0000:00:03.0 to vfiod_test_vfio_pci failed ... rolled back"), and the device is back on e1000e with
#     driver_override cleared.
# Exit code 0 when all of it worked. Logs: e2e/logs/<kver>/scenario-variant.console.log, e2e/logs/<kver>/scenario-variant.results/
set -uo pipefail
source "$(dirname "$0")/lib/qemu.sh"
source "$E2E_DIR/lib/vfiod.sh"
e2e_require || exit 1
t0=$(e2e_now)
vfiod_e2e_jars || exit 1
vfiod_e2e_vfio_open || exit 1
vfiod_e2e_cds   # optional: a class data archive: vfiod starts about a third faster in the guest
vfiod_e2e_variant || exit 1
t_build=$(e2e_since "$t0")

export E2E_TIMEOUT=${E2E_TIMEOUT:-600}
E2E_NAME=scenario-variant e2e_boot "$E2E_DIR/guest/scenario-variant.sh"; rc=$?

echo "---- scenario-variant timings (seconds; guest steps run under TCG, slower than the host)"
printf '%-52s %7s\n' "host: jars, vfio-open, CDS, variant module + depmod" "$t_build"
vfiod_e2e_report scenario-variant
printf '%-52s %7s\n' "whole scenario-variant (host wall)" "$(e2e_since "$t0")"
if [ "$rc" = 0 ]; then echo "e2e: 1 passed, 0 failed"; else echo "e2e: 0 passed, 1 failed (exit $rc)"; fi
exit "$rc"
