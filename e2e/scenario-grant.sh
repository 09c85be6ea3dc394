#!/usr/bin/env bash
# e2e/scenario-grant.sh: handing a device to an unprivileged VM user on a real kernel (the owner option, issue 13).
# On the host: the jars, vfio-open and the CDS archive, as for scenario-dbus.sh. The guest
# (e2e/guest/scenario-grant.sh) makes two users, starts the bus, polkitd and vfiod, and then: Assign of the e1000e
# with owner = the first user (ACL entries on /dev/vfio/<group> and, where the kernel has one, the cdev); as that
# user (setpriv, real uid) vfio-open opens container, group and device and reads config space, and the nodes it
# opened are the answer's; the second user cannot; a restarted vfiod still shows the access; after Release (and a
# Rebind without owner) the first user cannot either.
# Exit code 0 when all of it worked. Logs: e2e/logs/scenario-grant.console.log, e2e/logs/scenario-grant.results/
set -uo pipefail
source "$(dirname "$0")/lib/qemu.sh"
source "$E2E_DIR/lib/vfiod.sh"
e2e_require || exit 1
t0=$(e2e_now)
command -v getfacl >/dev/null || { e2e_log "getfacl missing: running e2e/setup.sh"; "$E2E_DIR/setup.sh" >&2 || exit 1; }
vfiod_e2e_jars || exit 1
vfiod_e2e_vfio_open || exit 1
vfiod_e2e_cds   # optional: a class data archive: vfiod starts about a third faster in the guest
t_build=$(e2e_since "$t0")

export E2E_TIMEOUT=${E2E_TIMEOUT:-600}
E2E_NAME=scenario-grant e2e_boot "$E2E_DIR/guest/scenario-grant.sh"; rc=$?

echo "---- scenario-grant timings (seconds; guest steps run under TCG, slower than the host)"
printf '%-52s %7s\n' "host: jars, vfio-open, CDS archive up to date" "$t_build"
vfiod_e2e_report scenario-grant
printf '%-52s %7s\n' "whole scenario-grant (host wall)" "$(e2e_since "$t0")"
if [ "$rc" = 0 ]; then echo "e2e: 1 passed, 0 failed"; else echo "e2e: 0 passed, 1 failed (exit $rc)"; fi
exit "$rc"
