#!/usr/bin/env bash
# e2e/run-all.sh: runs the end-to-end scenarios one after the other (each boots its own QEMU guest) on every guest
# kernel, and sums up.
#   e2e/run-all.sh                      all of them, in the order below, on every kernel e2e/setup.sh prepared
#   e2e/run-all.sh NAME...              only these (e.g. scenario-dbus), in the order given
#   e2e/run-all.sh --kernel 6.12 [NAME...]   on this kernel only (a series, 6.1 or 6.12, or a full version; the
#                                       flag may repeat); E2E_KERNELS="6.1 6.12" does the same
#   e2e/run-all.sh --arch arm64 [NAME...]    the arm64 guest's scenarios (arm64_scenarios below) on Debian's arm64
#                                       kernel (e2e/arm64/setup.sh prepares it; E2E_ARCH=arm64 does the same)
# Ends with one table per kernel: each scenario PASS/FAIL and its seconds; the faults the scenarios injected and the
# devices they lost (the lines guests append to $E2E_RESULTS/faults, see e2e/README.md); the Rebind figures of
# scenario-dbus. The last line is "e2e: N passed, M failed" over all kernels x scenarios; exits 1 if any failed.
# Logs per kernel: e2e/logs/<kver>/<name>.run-all.log (a scenario's output), and the scenario's own
# e2e/logs/<kver>/<name>.console.log and <name>.results/.
#
# To add a scenario: append its script (relative to e2e/) to this list.
# (The whole script is one { } block: bash reads it all before it starts, so editing this file during a run of an
# hour does not break that run.)
{
scenarios=(
    smoke.sh
    scenario-dbus.sh
    scenario-variant.sh
    scenario-group.sh
    scenario-boot.sh
    scenario-hotplug.sh
    scenario-crash.sh
    scenario-inuse.sh
    scenario-grant.sh
    scenario-libvirt.sh
    scenario-hang.sh
    scenario-systemd.sh
)
# the arm64 guest's (issue 18: a platform device on vfio-platform; the x86 guests have no platform device to move)
arm64_scenarios=(
    scenario-platform.sh
)

set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# the architecture first: lib/qemu.sh picks its kernels and caches by it when it is sourced
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
    case "${args[$i]}" in
        --arch) export E2E_ARCH=${args[$((i + 1))]:?--arch needs amd64 or arm64} ;;
        --arch=*) export E2E_ARCH=${args[$i]#--arch=} ;;
    esac
done
case "${E2E_ARCH:=amd64}" in
    amd64) setup=$here/setup.sh ;;
    arm64) setup=$here/arm64/setup.sh; scenarios=("${arm64_scenarios[@]}") ;;
    *) echo "e2e/run-all: no such architecture: $E2E_ARCH (amd64, arm64)"; echo "e2e: 0 passed, 1 failed"; exit 1 ;;
esac
export E2E_ARCH
# shellcheck source=lib/qemu.sh
source "$here/lib/qemu.sh"

want=()
while [ $# -gt 0 ]; do
    case "$1" in
        --arch) shift 2 ;;
        --arch=*) shift ;;
        --kernel|-k) want+=("${2:?--kernel needs a kernel: 6.1, 6.12 or a version}"); shift 2 ;;
        --kernel=*) want+=("${1#--kernel=}"); shift ;;
        --) shift; break ;;
        *) break ;;
    esac
done
[ ${#want[@]} -gt 0 ] || read -r -a want <<< "${E2E_KERNELS:-}"
if [ $# -gt 0 ]; then
    scenarios=()
    for n; do n=${n%.sh}; scenarios+=("${n#e2e/}.sh"); done
fi

# the kernels: those asked for, or every prepared one (setup.sh first if none is, or one asked for is missing)
kernels=()
resolve_all() {
    local k v
    kernels=()
    if [ ${#want[@]} -eq 0 ]; then mapfile -t kernels < <(e2e_kernels); return; fi
    for k in "${want[@]}"; do v=$(e2e_kver_resolve "$k") || return 1; kernels+=("$v"); done
}
if ! resolve_all || [ ${#kernels[@]} -eq 0 ]; then
    echo "=== e2e/run-all: preparing the kernels (e2e/${setup#$here/})"
    "$setup" >&2 || { echo "e2e/run-all: e2e/${setup#$here/} failed"; echo "e2e: 0 passed, 1 failed"; exit 1; }
    resolve_all || { echo "e2e/run-all: no such kernel prepared: ${want[*]} (prepared: $(e2e_kernels | tr '\n' ' '))"; echo "e2e: 0 passed, 1 failed"; exit 1; }
fi

pass=0 fail=0
declare -A table=() faults=() perf=()
t_all=$(date +%s)
for k in "${kernels[@]}"; do
    logs=$here/logs/$k
    mkdir -p "$logs"
    mark=$(mktemp /tmp/vfiod-e2e-runall.XXXXXX)   # results newer than this are this run's
    rows="" fault_rows="" nfaults=0 nlost=0
    for s in "${scenarios[@]}"; do
        name=${s%.sh}
        if [ ! -x "$here/$s" ]; then
            rows+="$(printf '%-22s %-5s %6s' "$name" FAIL "-") (no such script: e2e/$s)"$'\n'; fail=$((fail + 1)); continue
        fi
        echo "=== e2e/run-all: $name on $k"
        t=$SECONDS
        E2E_KVER=$k E2E_LOGS=$logs "$here/$s" 2>&1 | tee "$logs/$name.run-all.log"
        rc=${PIPESTATUS[0]}
        d=$((SECONDS - t))
        if [ "$rc" = 0 ]; then
            pass=$((pass + 1)); rows+="$(printf '%-22s %-5s %5ss' "$name" PASS "$d")"$'\n'
        else
            fail=$((fail + 1)); rows+="$(printf '%-22s %-5s %5ss' "$name" FAIL "$d") (exit $rc; e2e/logs/$k/$name.run-all.log)"$'\n'
        fi
        echo "=== e2e/run-all: $name on $k: $([ "$rc" = 0 ] && echo passed || echo "FAILED (exit $rc)") in ${d}s"
    done
    # the faults protocol: every results folder this run left (a scenario may boot more than once)
    while IFS= read -r f; do
        r=${f%/faults}; r=${r##*/}; r=${r%.results}
        while IFS=$'\t' read -r what lost; do
            [ -n "$what" ] || continue
            [[ $lost =~ ^[0-9]+$ ]] || lost=1   # a line without a count is counted as a loss: it must be looked at
            nfaults=$((nfaults + 1)); nlost=$((nlost + lost))
            fault_rows+="  $(printf '%-16s' "$r") $what: $lost lost"$'\n'
        done < "$f"
    done < <(find "$logs" -mindepth 2 -maxdepth 2 -path '*.results/faults' -newer "$mark" | sort)
    faults[$k]="faults injected: $nfaults, devices lost: $nlost"$'\n'"$fault_rows"
    # the Rebind figures (scenario-dbus's guest wrote perf.tsv, this run)
    p=$logs/scenario-dbus.results/perf.tsv
    if [ -f "$p" ] && [ "$p" -nt "$mark" ]; then
        perf[$k]=$(awk -F'\t' '{ v[$1] = $2 }
            function r(a, b) { return (b > 0) ? sprintf("%.2f", a / b) : "?" }
            END {
                printf "Rebind e1000e -> vfio-pci, one process per move (medians of %s, ms): vfiod over D-Bus (busctl) %s, shell (3 writes) %s, driverctl %s; vfiod/shell %s, vfiod/driverctl %s; a no-op busctl call %s\n",
                    v["runs"], v["rebind_busctl_ms"], v["rebind_shell_ms"], v["rebind_driverctl_ms"],
                    r(v["rebind_busctl_ms"], v["rebind_shell_ms"]), r(v["rebind_busctl_ms"], v["rebind_driverctl_ms"]), v["noop_busctl_ms"]
                if ("own_ratio" in v) {
                    printf "vfiod'"'"'s own share, connected client, no process start (medians of %s, ms): Rebind %s vs the same writes in one shell %s: ratio %s (goal <= 1.10: %s); Restore %s vs %s: %s; Peer.Ping to vfiod %s, a dry-run Rebind (no polkit check, no write) %s\n",
                        v["own_runs"], v["own_rebind_ms"], v["kernel_rebind_ms"], v["own_ratio"], (v["own_ratio"] + 0 <= 1.10) ? "met" : "NOT met",
                        v["own_restore_ms"], v["kernel_restore_ms"], v["own_restore_ratio"], v["own_ping_ms"], v["own_dry_ms"]
                    if ("own_floor_ratio" in v) {
                    printf "  the floor: Peer.Ping %s + polkit CheckAuthorization from the client %s + one journal write and fsync %s ms: the best ratio here %s; the least Rebind over the least shell move: %s\n",
                        v["own_ping_ms"], v["own_polkit_ms"], v["own_fsync_ms"], v["own_floor_ratio"], v["own_least_ratio"]
                    printf "  vfiod'"'"'s phases of a Rebind (medians, ms):"
                    n = split("total|credentials|polkit|busy signal|move|access|refresh and signals|operation|to the operation thread|plan|host-use check|waiting for polkit|group gate|module load|journal|write driver_override|write unbind|write drivers_probe|wait for the driver", order, "|")
                    sep = " "
                    for (i = 1; i <= n; i++) if (("own_phase_rebind " order[i]) in v) { printf "%s%s %s", sep, order[i], v["own_phase_rebind " order[i]]; sep = ", " }
                    printf "\n"
                    }
                } else
                    print "vfiod'"'"'s own share: not measured (no python3-dbus in the guest)"
            }' "$p")
    else
        perf[$k]="Rebind figures: scenario-dbus did not run (or wrote no perf.tsv)"
    fi
    table[$k]=$rows
    rm -f "$mark"
done

echo "---- e2e/run-all summary ($(( $(date +%s) - t_all ))s)"
for k in "${kernels[@]}"; do
    echo "kernel $k"
    printf '%-22s %-5s %6s\n' scenario result time
    printf '%s' "${table[$k]}"
    printf '%s' "${faults[$k]}"
    printf '%s\n' "${perf[$k]}"
    echo
done
echo "e2e: $pass passed, $fail failed"
[ "$fail" = 0 ]
exit
}
