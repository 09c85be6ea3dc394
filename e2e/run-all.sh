#!/usr/bin/env bash
# e2e/run-all.sh: runs the end-to-end scenarios one after the other (each boots its own QEMU guest) and sums up.
#   e2e/run-all.sh              all of them, in the order below
#   e2e/run-all.sh NAME...      only these (e.g. scenario-dbus), in the order given
# Prints each scenario's time and result; the last line is "e2e: N passed, M failed"; exits 1 if any failed.
# Each scenario's own output also goes to e2e/logs/<name>.run-all.log.
#
# To add a scenario: append its script (relative to e2e/) to this list.
scenarios=(
    smoke.sh
    scenario-dbus.sh
    scenario-variant.sh
    scenario-group.sh
    scenario-boot.sh
    scenario-hotplug.sh
    scenario-crash.sh
    scenario-inuse.sh
    scenario-systemd.sh
)

set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$here/logs"
if [ $# -gt 0 ]; then
    scenarios=()
    for n; do n=${n%.sh}; scenarios+=("${n#e2e/}.sh"); done
fi
pass=0 fail=0 summary=()
for s in "${scenarios[@]}"; do
    name=${s%.sh}
    [ -x "$here/$s" ] || { summary+=("$(printf '%-22s %-5s %8s' "$name" FAIL "-") (no such script: e2e/$s)"); fail=$((fail + 1)); continue; }
    echo "=== e2e/run-all: $name"
    t=$SECONDS
    "$here/$s" 2>&1 | tee "$here/logs/$name.run-all.log"
    rc=${PIPESTATUS[0]}
    d=$((SECONDS - t))
    if [ "$rc" = 0 ]; then
        pass=$((pass + 1)); summary+=("$(printf '%-22s %-5s %7ss' "$name" PASS "$d")")
    else
        fail=$((fail + 1)); summary+=("$(printf '%-22s %-5s %7ss' "$name" FAIL "$d") (exit $rc; e2e/logs/$name.run-all.log)")
    fi
    echo "=== e2e/run-all: $name: $([ "$rc" = 0 ] && echo passed || echo "FAILED (exit $rc)") in ${d}s"
done
echo "---- e2e/run-all summary"
printf '%s\n' "${summary[@]}"
echo "e2e: $pass passed, $fail failed"
[ "$fail" = 0 ]
