#!/usr/bin/env bash
# e2e/scenario-crash.sh: vfiod killed in the middle of a Rebind, and the restarted vfiod puts the device back (its
# crash-safe journal, on a real kernel).
# On the host: the jars, the CDS archive and the variant driver's module tree, as for scenario-variant.sh. The guest
# (e2e/guest/scenario-crash.sh) lays that tree over its /lib/modules/<kver>, loads vfiod_test_vfio_pci with
# probe_delay_ms=8000, starts vfiod with --runtime-dir /run/vfiod-e2e/runtime and calls Rebind on 0000:00:03.0 in
# the background. Once the device is off e1000e, driver_override reads vfiod_test_vfio_pci, a journal file is in the
# runtime dir and the kernel log says the probe sleeps, it sends vfiod SIGKILL, waits until its last thread has come
# back out of the kernel (the probe's sleep), and starts vfiod again on the same runtime dir. Then it checks that:
#   - the device is on e1000e again, with driver_override "(null)" (the state before the Rebind);
#   - the journal files are gone, and vfiod's log has a "reconcile" line;
#   - a normal Rebind and Restore still work, and leave nothing in the runtime dir.
# Exit code 0 when all of it worked. Logs: e2e/logs/<kver>/scenario-crash.console.log, e2e/logs/<kver>/scenario-crash.results/
# (vfiod.log: the killed vfiod; vfiod-restart.log: the one after it; kmsg.log: the kernel log).
set -uo pipefail
source "$(dirname "$0")/lib/qemu.sh"
source "$E2E_DIR/lib/vfiod.sh"
e2e_require || exit 1
t0=$(e2e_now)
vfiod_e2e_jars || exit 1
vfiod_e2e_cds   # optional: a class data archive: vfiod starts about a third faster in the guest
vfiod_e2e_variant || exit 1
t_build=$(e2e_since "$t0")

export E2E_TIMEOUT=${E2E_TIMEOUT:-600}
E2E_NAME=scenario-crash e2e_boot "$E2E_DIR/guest/scenario-crash.sh"; rc=$?

echo "---- scenario-crash timings (seconds; guest steps run under TCG, slower than the host)"
printf '%-52s %7s\n' "host: jars, CDS, variant module + depmod" "$t_build"
vfiod_e2e_report scenario-crash
printf '%-52s %7s\n' "whole scenario-crash (host wall)" "$(e2e_since "$t0")"
if [ "$rc" = 0 ]; then echo "e2e: 1 passed, 0 failed"; else echo "e2e: 0 passed, 1 failed (exit $rc)"; fi
exit "$rc"
