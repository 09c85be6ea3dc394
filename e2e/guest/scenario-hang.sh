# Guest side of e2e/scenario-hang.sh (runs in the e2e guest as root, with bash): a host driver that hangs
# (e2e/edu/vfiod_test_edu.c on QEMU's edu at 00:05.0), a modprobe that hangs (e2e/edu/vfiod_test_slow_init.c), vfiod
# killed while the kernel holds a device, and devices hot-removed in the middle of a step. vfiod runs as in the other
# vfiod scenarios (guest/vfiod-lib.sh: the real /sys, a private system bus, the real polkitd) with a journal in
# $VFIOD_RUN/runtime. The calls that hang are timed inside one python3-dbus client (guest/dbus-probe.py), and a
# second client reads Get(Driver) and ListDevices every 0.1 s beside them.
# Order: e (modprobe hanging; vfio_pci must not be loaded yet), a (remove() waits), b (remove() sleeps), c (kill -9),
# d (device_del mid-step, twice). Each fault appends "<fault>\t<devices lost>" to /results/faults: a device is lost
# when it is on neither the driver it had nor the one asked for (a device hot-removed on purpose is not counted).
set -u
. /vfiod/e2e/guest/lib.sh
. /vfiod/e2e/guest/vfiod-lib.sh
RES=${E2E_RESULTS:-/results}
PROBE=/vfiod/e2e/guest/dbus-probe.py
PY=/usr/bin/python3
KVER=$(uname -r)
TREE=/vfiod/.cache/e2e/edu/$KVER/tree
MOD=vfiod_test_edu
P=/sys/module/$MOD/parameters
RT=$VFIOD_RUN/runtime
FAULTS=$RES/faults
HOT=0000:01:00.0            # the first device behind the root port at 00:06.0
TIMEOUT_MS=5000             # the hanging calls' timeout
REPLY_LIMIT_MS=7000         # ... and the reply must come within it + 2 s
SLOW_INIT_MS=${HANG_SLOW_INIT_MS:-20000}
REMOVE_DELAY_MS=${HANG_REMOVE_DELAY_MS:-12000}
PROBE_DELAY_MS=${HANG_PROBE_DELAY_MS:-8000}
MODPROBE_CONF=/etc/modprobe.d/vfiod-e2e-hang.conf
SUMMARY=()
NOTES=()
shopt -s nullglob

_cmd_timing() { printf 'cmd\t%s\t%s\n' "$1" "$2" >> "$E2E_TIMINGS"; }
_ms() { printf -v MS '%d.%01d' $(($1 / 1000)) $(($1 % 1000 / 100)); }   # µs -> ms with one decimal, in MS
# _file_has FILE TEXT: FILE holds a line containing TEXT (builtins); the last such line in LINE
_file_has() {
    local l found=1
    LINE=""
    [ -f "$1" ] || return 1
    while IFS= read -r l; do [[ $l == *"$2"* ]] && { LINE=$l; found=0; }; done < "$1"
    return $found
}
# _count FILE TEXT: how many lines of FILE contain TEXT, in COUNT (the last in LINE); _more FILE TEXT N: more than N
# (a line an earlier part of the scenario left in the same log does not count)
_count() {
    local l
    COUNT=0
    [ -f "$1" ] || return 0
    while IFS= read -r l; do [[ $l == *"$2"* ]] && { COUNT=$((COUNT + 1)); LINE=$l; }; done < "$1"
}
_more() { _count "$1" "$2"; [ "$COUNT" -gt "$3" ]; }
_gone() { [ ! -e "/sys/bus/pci/devices/$1" ]; }
# _rt_journals: the journal records under the runtime dir (not an atomic write's temporary file), in JOURNALS
_rt_journals() { local f; JOURNALS=(); for f in "$RT"/* "$RT"/*/*; do [ -f "$f" ] && [[ ${f##*/} != .* ]] && JOURNALS+=("$f"); done; }
# The kernel log, followed by `dmesg -w` into kmsg.log, read incrementally from one descriptor into KLINES (polling
# the whole file with builtins costs the guest's one CPU more than the reads being measured)
KLINES=() KPART=""
_kpull() {
    local l
    while IFS= read -r -u "$KFD" l; do KLINES+=("$KPART$l"); KPART=""; done
    KPART+=$l
}
# _kcount TEXT: how many kernel log lines contain TEXT, in COUNT (the last in LINE); _kmore TEXT N: more than N
_kcount() {
    local l
    _kpull
    COUNT=0
    for l in "${KLINES[@]}"; do [[ $l == *"$1"* ]] && { COUNT=$((COUNT + 1)); LINE=$l; }; done
}
_kmore() { _kcount "$1"; [ "$COUNT" -gt "$2" ]; }
_no_journal() { _rt_journals; [ ${#JOURNALS[@]} = 0 ]; }
# _object_gone BDF: vfiod has no object for BDF any more (Get answers UnknownObject or the like)
_object_gone() { vfiod_device_path "$1"; ! busctl --system --timeout=30 get-property org.vfiod "$VFIOD_PATH" org.vfiod1.Device Driver >/dev/null 2>&1; }
# _object_driver BDF DRIVER: vfiod's Driver property of BDF is DRIVER
_object_driver() { vfiod_prop "$1" Driver 2>/dev/null && [ "$VFIOD_VALUE" = "$2" ]; }

# Clients that connect first and send their call when told: client_prepare NAME METHOD BDF JSON (python's own start,
# seconds of the guest's one CPU, happens before any measured window), client_go NAME (T_CALL), client_wait NAME SECS
# (CALL_MS, CALL_ERR, CALL_MSG, CALL_REPLY; T_CALL becomes the client's own start time of the call)
declare -A CLIENT_PID
client_prepare() {
    local go=$VFIOD_RUN/$1.go
    rm -f "$go" "$go.ready"
    $PY "$PROBE" call "$2" "$3" "$4" "$go" > "$RES/$1.out" 2>&1 &
    CLIENT_PID[$1]=$!
    e2e_await 60 test -e "$go.ready" || { cat "$RES/$1.out"; e2e_fail "the client $1 did not connect"; }
}
client_go() { T_CALL=${EPOCHREALTIME/./}; : > "$VFIOD_RUN/$1.go"; }
client_wait() {
    local end=$(( T_CALL + $2 * 1000000 )) l pid=${CLIENT_PID[$1]}
    while kill -0 "$pid" 2>/dev/null; do
        [ "${EPOCHREALTIME/./}" -lt $end ] || e2e_fail "no reply within $2 s"
        e2e_pause 0.1
    done
    wait "$pid"
    CALL_MS="" CALL_ERR="" CALL_MSG="" CALL_REPLY=""
    while IFS= read -r l; do
        case "$l" in
            start_us=*) T_CALL=${l#start_us=} ;;
            elapsed_ms=*) CALL_MS=${l#elapsed_ms=} ;;
            error=*) CALL_ERR=${l#error=} ;;
            message=*) CALL_MSG=${l#message=} ;;
            reply=*) CALL_REPLY=${l#reply=} ;;
        esac
    done < "$RES/$1.out"
    [ -n "$CALL_MS" ] || { cat "$RES/$1.out"; e2e_fail "the client $1 printed no time"; }
}
# reads_values FROM_US TO_US: the distinct property values the read probe saw in rounds that started in between (R_VALUES)
reads_values() {
    local t1 g t2 ls p d c
    R_VALUES=""
    while read -r t1 g t2 ls p d c; do
        [ "$t1" -ge "$1" ] && [ "$t1" -le "$2" ] || continue
        [[ " $R_VALUES " == *" $d "* ]] || R_VALUES+="${R_VALUES:+ }$d"
    done < "$READS"
}

# call_start METHOD BDF JSON: one client prepared and sent at once; call_wait SECS: its answer
call_start() { client_prepare call "$1" "$2" "$3"; client_go call; }
call_wait() { client_wait call "$1"; }
# call_now METHOD BDF JSON LIMIT_S: call_start + call_wait
call_now() { call_start "$1" "$2" "$3"; call_wait "$4"; }

# The read probe: Get(org.vfiod1.Device, Driver) of one object, ListDevices and the bus's own GetId every 0.1 s, one
# line per round in $RES/reads-NAME.txt. reads_start NAME OBJPATH; reads_stop; reads_judge FROM_US TO_US: the rounds
# that started in between must each take < 200 ms (200 ms-1 s with the bus's GetId >= 100 ms too counts as the guest
# starved by the host's load: reported, not failed).
reads_start() {
    READS=$RES/reads-$1.txt READS_STOP=$VFIOD_RUN/reads.stop
    rm -f "$READS" "$READS.ready" "$READS_STOP"
    $PY "$PROBE" reads "$READS" "$READS_STOP" "$2" 0.1 "${3:-Driver}" 2> "$RES/reads-$1.err" &
    READS_PID=$!
    e2e_await 60 test -e "$READS.ready" || { cat "$RES/reads-$1.err"; e2e_fail "the read probe did not start"; }
}
reads_stop() { : > "$READS_STOP"; wait "$READS_PID"; }
reads_judge() {
    local t1 g t2 ls p d c gi li pi
    R_N=0 R_GMAX=0 R_LMAX=0 R_PMAX=0 R_SLOW=0 R_STARVED=0 R_ERRS=0 R_BLOCKED=0
    while read -r t1 g t2 ls p d c; do
        [ "$t1" -ge "$1" ] && [ "$t1" -le "$2" ] || continue
        R_N=$((R_N + 1))
        gi=${g%.*} li=${ls%.*} pi=${p%.*}
        [ "$gi" -gt "$R_GMAX" ] && R_GMAX=$gi
        [ "$li" -gt "$R_LMAX" ] && R_LMAX=$li
        [ "$pi" -gt "$R_PMAX" ] && R_PMAX=$pi
        { [ "$gi" -ge 1000 ] || [ "$li" -ge 1000 ]; } && R_BLOCKED=$((R_BLOCKED + 1))
        if [ "$gi" -ge 200 ] || [ "$li" -ge 200 ]; then
            if [ "$gi" -lt 1000 ] && [ "$li" -lt 1000 ] && [ "$pi" -ge 100 ]; then R_STARVED=$((R_STARVED + 1)); else R_SLOW=$((R_SLOW + 1)); fi
            echo "  read >= 200 ms: Get $g ms, ListDevices $ls ms, bus GetId $p ms"
        fi
        [[ $d == ERR:* || $c == ERR:* ]] && R_ERRS=$((R_ERRS + 1))
    done < "$READS"
    echo "reads${3:+ ($3)}: $R_N rounds; max Get $R_GMAX ms, max ListDevices $R_LMAX ms (bus GetId max $R_PMAX ms); $R_ERRS error(s); $R_SLOW slow, $R_STARVED starved"
    [ "${3:-}" = "" ] || return 0
    e2e_assert "reads were answered meanwhile ($R_N rounds)" test "$R_N" -ge 3
    e2e_assert "no read failed meanwhile" test "$R_ERRS" = 0
    # A read that waited for the held device would take until the kernel lets go: seconds. Single reads of 200 ms-1 s
    # with the bus quick beside them came at load 10-15 on this 2-core host, with vfiod idle (the guest's one TCG CPU
    # not running its reader thread in time): up to 1 in 20 rounds is reported, more fails.
    e2e_assert "no read took 1 s or more (max Get $R_GMAX ms, ListDevices $R_LMAX ms)" test "$R_BLOCKED" = 0
    e2e_assert "reads of 200 ms or more with the bus quick: $R_SLOW of $R_N rounds (at most 1 in 20)" test $((R_SLOW * 20)) -le "$R_N"
    [ "$R_SLOW" = 0 ] || NOTES+=("$R_SLOW of $R_N read round(s) took 200-1000 ms with the bus's GetId quick beside them")
    [ "$R_STARVED" = 0 ] || NOTES+=("$R_STARVED read round(s) took 200-1000 ms while dbus-daemon's own GetId was >= 100 ms too: the host was loaded")
}

# lost BDF=DRIVER|DRIVER... ...: how many of the devices are on none of their allowed drivers (in LOST; each named)
lost() {
    local spec bdf allowed drv
    LOST=0
    for spec; do
        bdf=${spec%%=*} allowed=${spec#*=}
        drv=$(e2e_pci_driver "$bdf")
        if [[ "|$allowed|" != *"|$drv|"* ]]; then
            LOST=$((LOST + 1)); echo "LOST: $bdf is on '${drv:-no driver}' (allowed: $allowed)"
        fi
    done
}
# fault TEXT: one line for the harness's faults table
fault() { printf '%s\t%s\n' "$1" "$LOST" >> "$FAULTS"; echo "fault recorded: $1: $LOST device(s) lost"; }
# consistent BDF DRIVER: driver_override matches how the device got there (vfio-pci: "vfio-pci"; a host driver: none)
consistent() {
    local ovr
    ovr=$(<"/sys/bus/pci/devices/$1/driver_override")
    case "$2" in
        vfio-pci) e2e_assert_eq "$ovr" vfio-pci "$1: driver_override matches vfio-pci" ;;
        *) e2e_assert_eq "$ovr" "(null)" "$1: driver_override matches $2" ;;
    esac
}

# ---------------------------------------------------------------------------------------------------------------------
e2e_step "find the devices, the edu modules"
NIC=$(e2e_pci_find 8086 10d3) || e2e_fail "no e1000e (8086:10d3)"
EDU=$(e2e_pci_find 1234 11e8) || e2e_fail "no edu (1234:11e8): did the host pass -device edu?"
e2e_assert_eq "$EDU" 0000:00:05.0 "the edu is at 00:05.0"
e2e_assert_eq "$(e2e_pci_driver "$NIC")" e1000e "coldplug bound e1000e"
e2e_assert_eq "$(e2e_pci_driver "$EDU")" "" "nothing drives the edu yet"
echo "e1000e $NIC (group $(e2e_pci_group "$NIC")), edu $EDU (group $(e2e_pci_group "$EDU"))"
[ "$(e2e_pci_group "$NIC")" != "$(e2e_pci_group "$EDU")" ] || e2e_fail "the e1000e and the edu share an IOMMU group"
e2e_assert "the host built the edu tree for $KVER" test -f "$TREE/extra/$MOD.ko"
vfiod_variant_tree "$TREE" || e2e_fail "overlay of $TREE on /lib/modules/$KVER"
: > "$RES/kmsg.log"
exec {KFD}< "$RES/kmsg.log"
dmesg -w >> "$RES/kmsg.log" 2>&1 &
DMESG_PID=$!
e2e_time "modprobe $MOD" modprobe "$MOD" || e2e_fail "modprobe $MOD"
e2e_await 10 e2e_driver_is "$EDU" "$MOD" || e2e_fail "$MOD did not bind $EDU"
e2e_await 10 _kmore "$EDU: $MOD: bound" 0 && echo "kmsg: $LINE"
e2e_assert_eq "$(<"$P/remove_wait")" N "remove_wait defaults to off"
e2e_assert "vfio_pci is not loaded yet (part e needs its load)" test ! -d /sys/module/vfio_pci

mkdir -p "$RT"
VFIOD_ARGS="${VFIOD_ARGS:+$VFIOD_ARGS }--runtime-dir $RT"
# vfiod's GC pauses and safepoints with wall-clock times, to tell them from the guest's starvation when a read is slow
VFIOD_JAVA_OPTS="${VFIOD_JAVA_OPTS:--XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xshare:auto} -Xlog:gc,safepoint:file=$RES/vfiod-gc.log:time,uptime"
vfiod_start
vfiod_await_prop "$EDU" Driver "$MOD" 30 || e2e_fail "vfiod's Driver of $EDU: '$VFIOD_VALUE'"
vfiod_device_path "$EDU"; EDU_PATH=$VFIOD_PATH
# polkitd's first check takes 2-3 s under TCG (its rules engine starting), and the caller's timeout counts from when
# vfiod starts the move, after polkit's answer (an agent's prompt may take a human any time): one authorized call
# that changes nothing first, so that the figures below are the hang's, not polkitd's start
e2e_time "busctl Restore of the edu on its host driver (warm-up: polkitd, the call path)" vfiod_manager Restore 'sa{sv}' "$EDU" 0 \
    || e2e_fail "warm-up Restore: $VFIOD_ERR"
e2e_assert_eq "$VFIOD_REPLY" "s \"$MOD\"" "the warm-up Restore changed nothing"
# the first scan of who uses a device (all of /proc) loads and compiles its classes: 2-3 s of the guest's one CPU, which
# every Rebind below makes before it loads a module or writes; once warm it is a fraction of that
e2e_time "busctl Users() of the edu (warm-up: the host-use scan)" vfiod_busctl call org.vfiod "$EDU_PATH" org.vfiod1.Device Users \
    || e2e_fail "Users() of $EDU"

# ---- e. modprobe hanging -----------------------------------------------------------------------------------------
# The hang is in the kernel: modprobe vfio_pci first loads vfiod_test_slow_init (softdep), whose init sleeps inside
# finit_module(), modprobe uninterruptible meanwhile, as a driver whose init waits for its firmware or hardware. (An
# `install` line that runs sleep would be a process any signal ends, never a hang in the kernel.)
e2e_step "e. Rebind (timeout $TIMEOUT_MS) while modprobe vfio_pci hangs in a module init ($SLOW_INIT_MS ms)"
printf 'softdep vfio_pci pre: vfiod_test_slow_init\noptions vfiod_test_slow_init init_delay_ms=%s\n' "$SLOW_INIT_MS" > "$MODPROBE_CONF"
client_prepare second Rebind "$EDU" "{\"timeout\": $TIMEOUT_MS}"
client_prepare first Rebind "$EDU" "{\"timeout\": $TIMEOUT_MS}"
reads_start e "$EDU_PATH" State
client_go first
e2e_await 30 _kmore "vfiod_test_slow_init: init_delay_ms is set" 0 || e2e_fail "vfiod's modprobe did not reach the slow init"
E_HANG0=${EPOCHREALTIME/./}
echo "kmsg: $LINE"
client_wait first 60
E_MS=$CALL_MS E_ERR=$CALL_ERR E_T0=$T_CALL
echo "Rebind while modprobe hangs: ${CALL_ERR:-reply $CALL_REPLY} after $CALL_MS ms: $CALL_MSG"
_cmd_timing "e. Rebind while modprobe hangs: reply, ms" "$CALL_MS"
E_REPLY=$(( E_T0 + ${E_MS%.*} * 1000 ))
client_go second; client_wait second 30
E_SECOND_MS=$CALL_MS E_SECOND_ERR=$CALL_ERR
echo "a second Rebind while modprobe hangs: ${CALL_ERR:-reply $CALL_REPLY} after $CALL_MS ms: $CALL_MSG"
_cmd_timing "e. a second Rebind while modprobe hangs: reply, ms" "$CALL_MS"
e2e_pause 0.5
LOADING=yes; [ -d /sys/module/vfiod_test_slow_init ] && _kmore "vfiod_test_slow_init: init slept" 0 && LOADING=no
T_READS_END=${EPOCHREALTIME/./}
e2e_await $((SLOW_INIT_MS / 1000 + 60)) _kmore "vfiod_test_slow_init: init slept" 0 || e2e_fail "the slow init did not end"
e2e_await 60 test -d /sys/module/vfio_pci || e2e_fail "vfio_pci was not loaded after the slow init"
e2e_await 60 _file_has "$VFIOD_LOG" "the hung load of module" || _file_has "$VFIOD_LOG" "an operation whose caller got Timeout ended" \
    || { tail -20 "$VFIOD_LOG"; e2e_fail "vfiod did not log the end of the hung load"; }
echo "vfiod: $LINE"
e2e_pause 1
reads_stop
# State as the read probe saw it: from 0.3 s into the call to the reply, and from the reply to the init's end
reads_values $((E_T0 + 300000)) "$E_REPLY"; E_STATE_DURING=$R_VALUES
reads_values $((E_REPLY + 1)) "$T_READS_END"; E_STATE_AFTER=$R_VALUES
echo "State during the call: $E_STATE_DURING; after the Timeout, modprobe still in the kernel: $E_STATE_AFTER"
DRV=$(e2e_pci_driver "$EDU")
echo "after the module load: $EDU on '${DRV:-no driver}' (vfiod: $([ "$DRV" = vfio-pci ] && echo "completed the Rebind" || echo "changed nothing"))"
lost "$EDU=$MOD|vfio-pci" "$NIC=e1000e"
fault "modprobe of the vfio driver hangs in a module init (${SLOW_INIT_MS} ms) under a Rebind with timeout $TIMEOUT_MS"
e2e_assert_eq "$LOST" 0 "e. no device lost"
consistent "$EDU" "$DRV"
e2e_assert_eq "$E_ERR" org.vfiod1.Error.Timeout "e. the Rebind's error"
e2e_assert "e. the reply came within $REPLY_LIMIT_MS ms ($E_MS ms)" test "${E_MS%.*}" -lt $REPLY_LIMIT_MS
e2e_assert "e. the reply came while modprobe was still in the kernel" test "$LOADING" = yes
e2e_assert_eq "$E_STATE_DURING" busy "e. State during the call"
e2e_assert_eq "$E_STATE_AFTER" busy "e. State after the Timeout, while modprobe is still in the kernel"
e2e_assert_eq "$E_SECOND_ERR" org.vfiod1.Error.Busy "e. a second Rebind while modprobe hangs"
e2e_assert "e. ... answered at once ($E_SECOND_MS ms)" test "${E_SECOND_MS%.*}" -lt 1000
# judged from when the kernel is in the hang: before it, vfiod plans the move (its host-use scan of /proc), and on
# this guest's one TCG CPU the JVM's safepoints then take up to a few hundred ms to reach (vfiod-gc.log)
reads_judge "$E_T0" "$T_READS_END" "the whole call, reported"
reads_judge "$E_HANG0" "$T_READS_END"
rm -f "$MODPROBE_CONF"
if [ "$DRV" = vfio-pci ]; then
    e2e_time "busctl Restore" vfiod_manager Restore 'sa{sv}' "$EDU" 0 || e2e_fail "Restore: $VFIOD_ERR"
fi
e2e_await 10 e2e_driver_is "$EDU" "$MOD" || e2e_fail "$EDU not back on $MOD"
SUMMARY+=("e. modprobe hanging ${SLOW_INIT_MS} ms: $E_ERR after $E_MS ms (State during: $E_STATE_DURING, after the reply: $E_STATE_AFTER); second Rebind $E_SECOND_ERR after $E_SECOND_MS ms; then on ${DRV:-no driver}; reads max Get $R_GMAX ms / ListDevices $R_LMAX ms over $R_N rounds")

# ---- a. and b. remove() hangs ---------------------------------------------------------------------------------------
# hang_case NAME HOW: Rebind of the edu (timeout 5000) while its remove() waits for a release (HOW=wait) or sleeps
# (HOW=sleep); the reply, the reads, State, a second Rebind, and the edu on a driver once the hang ends
hang_case() {
    local name=$1 how=$2 drv t_end
    if [ "$how" = wait ]; then
        e2e_write 1 "$P/remove_wait" || e2e_fail "remove_wait"
    else
        e2e_write "$REMOVE_DELAY_MS" "$P/remove_delay_ms" || e2e_fail "remove_delay_ms"
    fi
    client_prepare second Rebind "$EDU" "{\"timeout\": $TIMEOUT_MS}"
    client_prepare first Rebind "$EDU" "{\"timeout\": $TIMEOUT_MS}"
    reads_start "$name" "$EDU_PATH" State
    local pat="$EDU: $MOD: remove_wait is set: waiting" ended="$EDU: $MOD: released after" n_pat n_ended n_hung
    [ "$how" = sleep ] && pat="$EDU: $MOD: remove_delay_ms is set: sleeping" ended="$EDU: $MOD: remove slept"
    _kcount "$pat"; n_pat=$COUNT
    _kcount "$ended"; n_ended=$COUNT
    _count "$VFIOD_LOG" "the hung write on"; n_hung=$COUNT
    client_go first
    e2e_await 30 _kmore "$pat" "$n_pat" || e2e_fail "$name: the unbind did not reach $MOD's remove()"
    local hang0=${EPOCHREALTIME/./}
    echo "kmsg: $LINE"
    client_wait first 60
    local ms=$CALL_MS err=$CALL_ERR msg=$CALL_MSG t0=$T_CALL
    local reply=$(( T_CALL + ${CALL_MS%.*} * 1000 ))
    echo "$name: Rebind while remove() hangs: ${err:-reply $CALL_REPLY} after $ms ms: $msg"
    _cmd_timing "$name. Rebind while remove() hangs: reply, ms" "$ms"
    # while the kernel still holds the edu: State, and a second Rebind (its group is shut: Busy, at once)
    client_go second; client_wait second 30
    local second_ms=$CALL_MS second_err=$CALL_ERR
    echo "$name: a second Rebind during the hang: ${CALL_ERR:-reply $CALL_REPLY} after $CALL_MS ms: $CALL_MSG"
    _cmd_timing "$name. a second Rebind during the hang: reply, ms" "$CALL_MS"
    e2e_pause 0.5
    local still=yes
    _kmore "$ended" "$n_ended" && still=no
    t_end=${EPOCHREALTIME/./}
    if [ "$how" = wait ]; then
        e2e_write 0 "$P/remove_wait"
        e2e_write 1 "$P/release" || e2e_fail "release"
        e2e_await 10 _kmore "$ended" "$n_ended" && echo "kmsg: $LINE"
    else
        e2e_await $((REMOVE_DELAY_MS / 1000 + 30)) _kmore "$ended" "$n_ended" || e2e_fail "$name: remove() did not end"
        echo "kmsg: $LINE"
        e2e_write 0 "$P/remove_delay_ms"
    fi
    e2e_await 60 _more "$VFIOD_LOG" "the hung write on" "$n_hung" || { tail -20 "$VFIOD_LOG"; e2e_fail "$name: vfiod logged no end of the hung write"; }
    echo "vfiod: $LINE"
    e2e_await 30 e2e_driver_is "$EDU" "$MOD" || e2e_await 1 e2e_driver_is "$EDU" vfio-pci
    e2e_pause 1
    reads_stop
    reads_values $((t0 + 300000)) "$reply"; local state_during=$R_VALUES
    reads_values $((reply + 1)) "$t_end"; local state_after=$R_VALUES
    echo "$name: State during the call: $state_during; after the Timeout, the kernel still in remove(): $state_after"
    drv=$(e2e_pci_driver "$EDU")
    echo "$name: after the hang: $EDU on '${drv:-no driver}' ($([ "$drv" = vfio-pci ] && echo "vfiod completed the Rebind" || echo "vfiod rolled it back"))"
    lost "$EDU=$MOD|vfio-pci" "$NIC=e1000e"
    local what="remove() waits until released"
    [ "$how" = sleep ] && what="remove() sleeps $REMOVE_DELAY_MS ms"
    fault "$what under a Rebind with timeout $TIMEOUT_MS"
    e2e_assert_eq "$LOST" 0 "$name. no device lost"
    e2e_assert "$name. the edu is on a driver ($drv)" test -n "$drv"
    consistent "$EDU" "$drv"
    vfiod_await_prop "$EDU" Driver "$drv" 10 || e2e_fail "$name: vfiod's Driver says '$VFIOD_VALUE', sysfs '$drv'"
    e2e_assert_eq "$err" org.vfiod1.Error.Timeout "$name. the Rebind's error"
    e2e_assert "$name. the reply came within $REPLY_LIMIT_MS ms ($ms ms)" test "${ms%.*}" -lt $REPLY_LIMIT_MS
    e2e_assert_eq "$second_err" org.vfiod1.Error.Busy "$name. a second Rebind during the hang"
    e2e_assert "$name. ... answered at once ($second_ms ms)" test "${second_ms%.*}" -lt 1000
    e2e_assert "$name. the kernel was still in remove() after both calls" test "$still" = yes
    e2e_assert_eq "$state_during" busy "$name. State during the call"
    e2e_assert_eq "$state_after" busy "$name. State after the Timeout, while the kernel holds the edu"
    reads_judge "$t0" "$t_end" "the whole call, reported"
    reads_judge "$hang0" "$t_end"
    vfiod_await_prop "$EDU" State "$([ "$drv" = vfio-pci ] && echo vfio || echo host)" 10 || e2e_fail "$name: State after the hang: '$VFIOD_VALUE'"
    echo "ok: State after the hang: $VFIOD_VALUE"
    if [ "$drv" = vfio-pci ]; then
        e2e_time "busctl Restore" vfiod_manager Restore 'sa{sv}' "$EDU" 0 || e2e_fail "Restore: $VFIOD_ERR"
        e2e_await 10 e2e_driver_is "$EDU" "$MOD" || e2e_fail "$EDU not back on $MOD"
    fi
    SUMMARY+=("$name. $what: $err after $ms ms (State during: $state_during, after: $state_after); second Rebind $second_err after $second_ms ms; then on $drv; reads max Get $R_GMAX ms / ListDevices $R_LMAX ms over $R_N rounds")
}

e2e_step "a. Rebind (timeout $TIMEOUT_MS) while remove() waits until released"
hang_case a wait
e2e_step "b. Rebind (timeout $TIMEOUT_MS) while remove() sleeps $REMOVE_DELAY_MS ms"
hang_case b sleep

# ---- c. kill -9 while remove() waits --------------------------------------------------------------------------------
e2e_step "c. vfiod killed with SIGKILL while remove() waits, then restarted"
_rt_journals; BASE=("${JOURNALS[@]}")
e2e_write 1 "$P/remove_wait" || e2e_fail "remove_wait"
_kcount "$EDU: $MOD: remove_wait is set: waiting"; N_WAIT=$COUNT
busctl --system --timeout=300 call org.vfiod /org/vfiod org.vfiod1.Manager Rebind 'sa{sv}' "$EDU" 1 timeout u 120000 \
    > "$RES/c-rebind.out" 2>&1 &
C_CALL=$!
e2e_await 60 _kmore "$EDU: $MOD: remove_wait is set: waiting" "$N_WAIT" || e2e_fail "c: the unbind did not reach remove()"
_rt_journals; JNEW=()
for f in "${JOURNALS[@]}"; do [[ " ${BASE[*]} " == *" $f "* ]] || JNEW+=("$f"); done
e2e_assert "c. a journal record is on disk (${JNEW[*]})" test ${#JNEW[@]} -gt 0
T_KILL=${EPOCHREALTIME/./}
kill -KILL "$VFIOD_PID" || e2e_fail "kill -9 $VFIOD_PID"
e2e_pause 0.5
e2e_pid_dead "$VFIOD_PID" && STUCK=no || STUCK=yes
e2e_assert_eq "$STUCK" yes "c. 500 ms after kill -9 a vfiod thread is still in the kernel (remove())"
e2e_write 0 "$P/remove_wait"
e2e_write 1 "$P/release" || e2e_fail "release"
e2e_await 60 e2e_pid_dead "$VFIOD_PID" || e2e_fail "c: vfiod still there 60 s after the release"
wait "$VFIOD_PID"; echo "c: the killed vfiod exited with $? after the release"
_e2e_secs "$T_KILL"; _cmd_timing "c. kill -9 to the killed vfiod gone (release included)" "$E2E_SECS"
VFIOD_PID=""
wait "$C_CALL"; echo "c: the Rebind call: $(<"$RES/c-rebind.out")"
C_DRV=$(e2e_pci_driver "$EDU") C_OVR=$(<"/sys/bus/pci/devices/$EDU/driver_override")
echo "c: what the crash left: driver '${C_DRV:-no driver}', driver_override '$C_OVR'; journal: ${JNEW[*]}"
for f in "${JNEW[@]}"; do echo "---- $f"; cat "$f"; echo; done
VFIOD_LOG=$RES/vfiod-restart.log
e2e_time "c. vfiod restart to ready (reconcile included)" vfiod_launch
grep -i reconcile "$VFIOD_LOG" | sed 's/^/  vfiod| /'
DRV=$(e2e_pci_driver "$EDU")
echo "c: after the restart: $EDU on '${DRV:-no driver}' ($([ "$DRV" = vfio-pci ] && echo "kept the completed Rebind" || echo "put back"))"
lost "$EDU=$MOD|vfio-pci" "$NIC=e1000e"
fault "vfiod killed with SIGKILL while remove() waits (Rebind), released, vfiod restarted"
e2e_assert_eq "$LOST" 0 "c. no device lost"
e2e_assert "c. the edu is on a driver ($DRV)" test -n "$DRV"
consistent "$EDU" "$DRV"
for f in "${JNEW[@]}"; do e2e_assert "c. the journal $f is gone" test ! -e "$f"; done
vfiod_await_prop "$EDU" Driver "$DRV" 10 || e2e_fail "c: vfiod's Driver says '$VFIOD_VALUE', sysfs '$DRV'"
vfiod_prop "$EDU" Recovery; echo "c: Recovery property: $VFIOD_VALUE"
e2e_assert "c. the Recovery property says what the restart did" test -n "$VFIOD_VALUE"
if [ "$DRV" = vfio-pci ]; then
    e2e_time "busctl Restore" vfiod_manager Restore 'sa{sv}' "$EDU" 0 || e2e_fail "Restore: $VFIOD_ERR"
fi
SUMMARY+=("c. kill -9 while remove() waits: the crash left '${C_DRV:-no driver}'/$C_OVR; after the restart on $DRV")

# ---- d. device_del in the middle of a step ----------------------------------------------------------------------------
# hot_plug N: the host adds edu hang-hotN behind the root port; it binds vfiod_test_edu by itself, and vfiod sees it
hot_plug() {
    e2e_signal_host "want-plug-$1"
    e2e_wait_host "plugged-$1" 120 || e2e_fail "the host did not plug edu $1"
    e2e_await 60 test -e "/sys/bus/pci/devices/$HOT" || e2e_fail "$HOT did not appear"
    e2e_await 30 e2e_driver_is "$HOT" "$MOD" || e2e_fail "$MOD did not bind the hot-added $HOT"
    e2e_await 60 _object_driver "$HOT" "$MOD" || e2e_fail "vfiod has no object for $HOT on $MOD"
    echo "hot-added edu $1: $HOT on $MOD (group $(e2e_pci_group "$HOT")), vfiod's object there"
}
# hot_unplug_check NAME: the device left sysfs and vfiod's object went; vfiod answers; the others did not move
hot_unplug_check() {
    e2e_await 90 _gone "$HOT" || e2e_fail "$1: $HOT did not leave sysfs within 90 s of the device_del"
    _e2e_secs "$T_DEL"; echo "$1: $HOT left sysfs ${E2E_SECS}s after the device_del"; _cmd_timing "$1. device_del to the device gone" "$E2E_SECS"
    e2e_await 60 _object_gone "$HOT" || e2e_fail "$1: vfiod still has an object for $HOT"
    vfiod_manager ListDevices || e2e_fail "$1: ListDevices: $VFIOD_ERR"
    [[ $VFIOD_REPLY == *pci_0000_3a01_3a00_2e0* ]] && e2e_fail "$1: ListDevices still lists $HOT"
    echo "ok: $1: vfiod answers ListDevices without $HOT: $VFIOD_REPLY"
    # once the hung write returned, vfiod has nothing left to put back of a device that is gone: no journal stays
    # for the next start to apply to whatever device takes the address next
    e2e_await 30 _no_journal || e2e_fail "$1: journal records left in $RT: ${JOURNALS[*]}"
    echo "ok: $1: no journal left in $RT"
    vfiod_prop "$EDU" Driver || e2e_fail "$1: Get(Driver) of $EDU"
    e2e_assert_eq "$VFIOD_VALUE" "$MOD" "$1. vfiod's Driver of the other edu"
    lost "$EDU=$MOD" "$NIC=e1000e"
}

e2e_step "d1. device_del of a hot-added edu while its remove() waits (Rebind)"
hot_plug 1
e2e_write 1 "$P/remove_wait" || e2e_fail "remove_wait"
call_start Rebind "$HOT" "{\"timeout\": $TIMEOUT_MS}"
e2e_await 30 _kmore "$HOT: $MOD: remove_wait is set: waiting" 0 || e2e_fail "d1: the unbind did not reach remove()"
T_DEL=${EPOCHREALTIME/./}
e2e_signal_host want-unplug-1
e2e_wait_host unplugged-1 60 || e2e_fail "the host did not device_del"
call_wait 60
D1_MS=$CALL_MS D1_ERR=$CALL_ERR
echo "d1: Rebind of $HOT: ${CALL_ERR:-reply $CALL_REPLY} after $CALL_MS ms: $CALL_MSG"
# pciehp removes the device 5 s after the button press, and waits for the device lock the hung unbind holds
e2e_pause 6
echo "d1: before the release, $HOT is $([ -e "/sys/bus/pci/devices/$HOT" ] && echo "still there (its removal waits for the device lock)" || echo gone)"
e2e_write 0 "$P/remove_wait"
e2e_write 1 "$P/release" || e2e_fail "release"
hot_unplug_check d1
fault "device_del of the device while its remove() waits (Rebind)"
e2e_assert_eq "$LOST" 0 "d1. no device lost"
e2e_assert "d1. the Rebind was answered within $REPLY_LIMIT_MS ms ($D1_MS ms: ${D1_ERR:-a reply})" test "${D1_MS%.*}" -lt $REPLY_LIMIT_MS
_file_has "$VFIOD_LOG" "the hung write on" && echo "vfiod: $LINE"
SUMMARY+=("d1. device_del while remove() waits: Rebind ${D1_ERR:-replied} after $D1_MS ms; $HOT gone, object gone, nothing else moved")

e2e_step "d2. device_del of a hot-added edu while its probe() sleeps $PROBE_DELAY_MS ms (Restore)"
hot_plug 2
e2e_time "busctl Rebind $HOT" vfiod_manager Rebind 'sa{sv}' "$HOT" 0 || e2e_fail "Rebind of $HOT: $VFIOD_ERR"
e2e_assert_eq "$(e2e_pci_driver "$HOT")" vfio-pci "$HOT on vfio-pci"
e2e_write "$PROBE_DELAY_MS" "$P/probe_delay_ms" || e2e_fail "probe_delay_ms"
call_start Restore "$HOT" '{"timeout": 3000}'
e2e_await 30 _kmore "$HOT: $MOD: probe_delay_ms is set: sleeping" 0 || e2e_fail "d2: the Restore did not reach $MOD's probe()"
T_DEL=${EPOCHREALTIME/./}
e2e_signal_host want-unplug-2
e2e_wait_host unplugged-2 60 || e2e_fail "the host did not device_del"
call_wait 60
D2_MS=$CALL_MS D2_ERR=$CALL_ERR
echo "d2: Restore of $HOT: ${CALL_ERR:-reply $CALL_REPLY} after $CALL_MS ms: $CALL_MSG"
e2e_write 0 "$P/probe_delay_ms"
hot_unplug_check d2
fault "device_del of the device while its probe() sleeps (Restore)"
e2e_assert_eq "$LOST" 0 "d2. no device lost"
e2e_assert "d2. the Restore was answered within 5000 ms ($D2_MS ms: ${D2_ERR:-a reply})" test "${D2_MS%.*}" -lt 5000
SUMMARY+=("d2. device_del while probe() sleeps: Restore ${D2_ERR:-replied} after $D2_MS ms; $HOT gone, object gone, nothing else moved")
grep -F "$HOT" "$VFIOD_LOG" | tail -12 | sed 's/^/  vfiod| /'

e2e_step "stop vfiod"
vfiod_stop || e2e_fail "vfiod did not stop cleanly"
kill "$DMESG_PID" 2>/dev/null
e2e_step_end
printf '%s\n' "${SUMMARY[@]}" | tee "$RES/hang-summary.txt"
for l in "${NOTES[@]}"; do echo "NOTE: $l"; done
echo "SCENARIO-HANG: OK"
