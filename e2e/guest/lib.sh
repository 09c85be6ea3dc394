# e2e/guest/lib.sh: helpers for scripts that run INSIDE the e2e guest (bash). Source it:
#     . /vfiod/e2e/guest/lib.sh
# Everything here acts on the guest's own /sys and /dev only.

# Timing uses bash builtins only (no date, no awk, no sleep): every exec in the guest costs 0.1-0.5 s under TCG.
E2E_T_STEP=${EPOCHREALTIME/./}
E2E_STEP_NAME=""
E2E_TIMINGS=${E2E_RESULTS:-/results}/timings
exec {E2E_PAUSE_FD}<> <(:)   # a pipe nobody writes to: `read -t` on it is a sleep without a process

# e2e_pause SECONDS: sleep (fractions allowed)
e2e_pause() { read -r -t "$1" -u "$E2E_PAUSE_FD" _ 2>/dev/null || :; }
# _e2e_secs START_US: sets E2E_SECS to the seconds since START_US (an EPOCHREALTIME without its dot), 2 decimals
_e2e_secs() {
    local d=$(( ${EPOCHREALTIME/./} - $1 ))
    printf -v E2E_SECS '%d.%02d' $((d / 1000000)) $((d % 1000000 / 10000))
}

# e2e_step NAME: end the previous step (prints and records its duration), start NAME
e2e_step() {
    e2e_step_end
    E2E_STEP_NAME=$1
    local up _
    read -r up _ < /proc/uptime
    echo "=== [uptime ${up}s] step: $1"
    E2E_T_STEP=${EPOCHREALTIME/./}
}
# e2e_step_end: end the current step, if any
e2e_step_end() {
    [ -n "$E2E_STEP_NAME" ] || return 0
    _e2e_secs "$E2E_T_STEP"
    echo "=== step done: $E2E_STEP_NAME (${E2E_SECS}s)"
    printf 'step\t%s\t%s\n' "$E2E_STEP_NAME" "$E2E_SECS" >> "$E2E_TIMINGS"
    E2E_STEP_NAME=""
}
# e2e_time NAME COMMAND...: run COMMAND, record its wall time as NAME, keep its exit code
e2e_time() {
    local name=$1 t=${EPOCHREALTIME/./} rc
    shift
    "$@"; rc=$?
    _e2e_secs "$t"
    echo "=== timed: $name: ${E2E_SECS}s (exit $rc)"
    printf 'cmd\t%s\t%s\n' "$name" "$E2E_SECS" >> "$E2E_TIMINGS"
    return $rc
}

e2e_fail() { echo "FAIL: $*" >&2; exit 1; }
e2e_assert() { local msg=$1; shift; "$@" || e2e_fail "$msg"; echo "ok: $msg"; }
e2e_assert_eq() { [ "$1" = "$2" ] || e2e_fail "$3: expected '$2', got '$1'"; echo "ok: $3 ($1)"; }

# e2e_pci_find VENDOR DEVICE: BDF of the first PCI device with these ids (hex, with or without 0x)
e2e_pci_find() {
    local d v=0x${1#0x} p=0x${2#0x}
    for d in /sys/bus/pci/devices/*; do
        [ "$(<"$d/vendor")" = "$v" ] && [ "$(<"$d/device")" = "$p" ] && { echo "${d##*/}"; return 0; }
    done
    return 1
}
# e2e_pci_driver BDF: name of the bound driver, empty if none
e2e_pci_driver() {
    local l
    l=$(readlink "/sys/bus/pci/devices/$1/driver" 2>/dev/null) && echo "${l##*/}"
}
# e2e_pci_group BDF: IOMMU group number
e2e_pci_group() { local l; l=$(readlink "/sys/bus/pci/devices/$1/iommu_group") && echo "${l##*/}"; }

# Rendezvous with the host (lib/qemu.sh: e2e_host_wait / e2e_host_signal) through files on /results.
e2e_signal_host() { : > "${E2E_RESULTS:-/results}/guest.$1"; }
e2e_wait_host() {
    local f=${E2E_RESULTS:-/results}/host.$1 end=$(( ${EPOCHREALTIME/./} + ${2:-120} * 1000000 ))
    while [ ! -e "$f" ]; do
        [ "${EPOCHREALTIME/./}" -lt $end ] || { echo "timeout waiting for the host to say $1" >&2; return 1; }
        e2e_pause 0.05
    done
}

# e2e_write VALUE FILE: one sysfs write as the kernel sees it (builtin echo: no process, and the write's error
# such as "No such device" is printed and returned)
e2e_write() { echo "$1" > "$2"; }

# Faults (e2e/README.md, "Faults"): a scenario that injects a fault appends one line per fault to
# $E2E_RESULTS/faults, "<fault description>\t<devices lost>"; e2e/run-all.sh sums them per kernel.
# e2e_fault DESCRIPTION LOST: record one injected fault and the number of devices it lost (0: none)
e2e_fault() {
    printf '%s\t%s\n' "${1//$'\t'/ }" "$2" >> "${E2E_RESULTS:-/results}/faults"
    echo "fault: $1: $2 device(s) lost"
}
# e2e_lost BDF OLD ASKED: E2E_LOST=1 if the device is lost after a fault (no driver although it had OLD, or on
# neither OLD nor ASKED), else 0
e2e_lost() {
    local now
    now=$(e2e_pci_driver "$1")
    if [ -z "$now" ] && [ -n "$2" ]; then E2E_LOST=1
    elif [ "$now" != "$2" ] && [ "$now" != "$3" ]; then E2E_LOST=1
    else E2E_LOST=0; fi
}

# e2e_await SECS CMD...: polls CMD until it succeeds (every E2E_AWAIT_POLL seconds, default 0.1); 1 after SECS
e2e_await() {
    local end=$(( ${EPOCHREALTIME/./} + $1 * 1000000 ))
    shift
    until "$@"; do
        [ "${EPOCHREALTIME/./}" -lt $end ] || return 1
        e2e_pause "${E2E_AWAIT_POLL:-0.1}"
    done
}
# e2e_driver_is BDF DRIVER: the PCI device is bound to DRIVER now
e2e_driver_is() { [ "$(e2e_pci_driver "$1")" = "$2" ]; }
# e2e_pid_dead PID: every thread of PID has exited (only a zombie left, or nothing)
e2e_pid_dead() {
    local t st
    [ -d "/proc/$1" ] || return 0
    for t in /proc/"$1"/task/*/stat; do
        read -r st < "$t" 2>/dev/null || continue
        st=${st##*) }
        [[ ${st:0:1} == [ZX] ]] || return 1
    done
    return 0
}
