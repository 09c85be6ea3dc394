# Guest side of e2e/scenario-crash.sh (runs in the e2e guest as root, with bash): vfiod is killed with SIGKILL in the
# middle of a Rebind, while the kernel is inside the variant driver's probe (e2e/variant/vfiod_test_vfio_pci.c,
# probe_delay_ms), and a restarted vfiod must put the device back as it was before that Rebind, from the journal the
# killed one left in its runtime directory.
set -u
. /vfiod/e2e/guest/lib.sh
. /vfiod/e2e/guest/vfiod-lib.sh
TREE=/vfiod/.cache/e2e/variant/$(uname -r)/tree   # per kernel (e2e/lib/vfiod.sh: vfiod_e2e_variant)
MOD=vfiod_test_vfio_pci
RES=${E2E_RESULTS:-/results}
RT=$VFIOD_RUN/runtime          # vfiod's --runtime-dir in this guest (its default is /run/vfiod)
DELAY_MS=${CRASH_PROBE_DELAY_MS:-8000}
shopt -s globstar nullglob dotglob

# _us: microseconds now; _fmt US: seconds with 2 decimals in FMT (builtins only)
_fmt() { _vfiod_fmt "$1"; FMT=$VFIOD_FMT; }
_cmd_timing() { printf 'cmd\t%s\t%s\n' "$1" "$2" >> "$E2E_TIMINGS"; }
# _rt_files: the regular files under the runtime dir, in RT_FILES (globstar, no process)
_rt_files() { local f; RT_FILES=(); for f in "$RT"/**; do [ -f "$f" ] && RT_FILES+=("$f"); done; }
# _has_line FILE TEXT [BUT_NOT]: FILE has a line containing TEXT and not BUT_NOT (case-insensitive); the last such
# line in LINE
_has_line() {
    local l found=1 pat=${2,,} not=${3:-}
    not=${not,,}
    LINE=""
    [ -f "$1" ] || return 1
    while IFS= read -r l; do
        [[ ${l,,} == *"$pat"* ]] || continue
        [ -n "$not" ] && [[ ${l,,} == *"$not"* ]] && continue
        LINE=$l; found=0
    done < "$1"
    return $found
}
# _kmsg_us GLOB [AFTER_US]: the kernel timestamp (microseconds of uptime) of the first kmsg.log line matching GLOB
# and later than AFTER_US, in KUS
_kmsg_us() {
    local l t
    KUS=""
    while IFS= read -r l; do
        [[ $l == $1 ]] || continue
        [[ $l =~ ^\[\ *([0-9]+)\.([0-9]{6})\] ]] || continue
        t=$(( 10#${BASH_REMATCH[1]} * 1000000 + 10#${BASH_REMATCH[2]} ))
        [ "$t" -gt "${2:-0}" ] && { KUS=$t; return 0; }
    done < "$RES/kmsg.log"
    return 1
}
# _uptime_us: the kernel's uptime now, in microseconds, in KUS
_uptime_us() { local up _; read -r up _ < /proc/uptime; KUS=$(( 10#${up%.*} * 1000000 + 10#${up#*.} * 10000 )); }
# _ms_of_day HH:MM:SS.mmm: milliseconds since midnight in MS
_ms_of_day() {
    local h=${1:0:2} m=${1:3:2} s=${1:6:2} f=${1:9:3}
    MS=$(( (10#$h * 3600 + 10#$m * 60 + 10#$s) * 1000 + 10#$f ))
}

e2e_step "find the e1000e"
BDF=$(e2e_pci_find 8086 10d3) || e2e_fail "no e1000e (8086:10d3) in the guest"
D=/sys/bus/pci/devices/$BDF
e2e_assert_eq "$BDF" 0000:00:03.0 "the e1000e is at 00:03.0"
e2e_assert_eq "$(e2e_pci_driver "$BDF")" e1000e "coldplug bound e1000e"
e2e_assert_eq "$(<"$D/driver_override")" "(null)" "driver_override before"

e2e_step "the variant driver, with probe_delay_ms=$DELAY_MS"
e2e_assert "the host built the variant tree" test -f "$TREE/extra/$MOD.ko"
vfiod_variant_tree "$TREE" || e2e_fail "overlay of $TREE on /lib/modules/$(uname -r)"
e2e_time "modprobe $MOD" modprobe "$MOD" || e2e_fail "modprobe $MOD"
P=/sys/module/$MOD/parameters/probe_delay_ms
e2e_assert_eq "$(<"$P")" 0 "probe_delay_ms defaults to 0"
e2e_write "$DELAY_MS" "$P" || e2e_fail "write $P"
e2e_assert_eq "$(<"$P")" "$DELAY_MS" "probe_delay_ms is set"
e2e_assert_eq "$(</sys/module/$MOD/parameters/fail_probe)" N "fail_probe is off"
# the kernel log, followed into a file the loops below read with builtins
dmesg -w > "$RES/kmsg.log" 2>&1 &
DMESG_PID=$!

# Does this vfiod know --runtime-dir (the journal)? Without it the scenario still runs, so that it shows what a
# kill in the window does to a vfiod without a journal; its final assertions then fail.
JOURNAL=0
if unzip -p "$VFIOD_JAR" 'org/vfiod/*' 2>/dev/null | grep -qaF -- --runtime-dir; then
    JOURNAL=1
    mkdir -p "$RT"
    VFIOD_ARGS="${VFIOD_ARGS:+$VFIOD_ARGS }--runtime-dir $RT"
    echo "vfiod has --runtime-dir: its runtime dir is $RT"
else
    echo "NOTE: this vfiod has no --runtime-dir option (no journal): it runs without one, and the checks after the restart will fail"
fi
vfiod_start
_rt_files; BASE=("${RT_FILES[@]}")
echo "runtime dir before the Rebind: ${#BASE[@]} file(s) ${BASE[*]}"

e2e_step "Rebind, vfiod killed with SIGKILL while the variant's probe sleeps"
T_CALL=${EPOCHREALTIME/./}
busctl --system --timeout=300 call org.vfiod /org/vfiod org.vfiod1.Manager Rebind 'sa{sv}' "$BDF" 1 timeout u 120000 \
    > "$RES/rebind.out" 2> "$RES/rebind.err" &
CALL_PID=$!
T_LEFT="" T_OVR="" T_JOURNAL="" T_SLEEP="" JFILES=()
end=$(( T_CALL + 60 * 1000000 ))
# Reading driver_override takes the device lock, which the driver core holds through the probe: a read while the
# variant's probe sleeps waits for the whole sleep. So it is read only while the device is still on e1000e (vfiod
# writes the override before it unbinds); once the probe runs, the kernel log says so, and since the variant's id is
# override-only, its probe of 00:03.0 shows that driver_override names it too. The value is read again after the kill.
while :; do
    now=${EPOCHREALTIME/./}
    # (while the probe runs, the driver link already names the variant: the driver core adds it before probe)
    if [ -z "$T_LEFT" ]; then
        if [ -e "/sys/bus/pci/drivers/e1000e/$BDF" ]; then
            read -r ovr < "$D/driver_override"
            [ -z "$T_OVR" ] && [ "$ovr" = "$MOD" ] && T_OVR=${EPOCHREALTIME/./}
        else
            T_LEFT=${EPOCHREALTIME/./}
        fi
    fi
    if [ "$JOURNAL" = 1 ] && [ -z "$T_JOURNAL" ]; then
        _rt_files
        # a record, not the temporary file an atomic write renames over it a moment later
        for f in "${RT_FILES[@]}"; do
            case "${f##*/}" in .*) continue ;; esac
            [[ " ${BASE[*]} " == *" $f "* ]] || JFILES+=("$f")
        done
        [ ${#JFILES[@]} -gt 0 ] && T_JOURNAL=${EPOCHREALTIME/./}
    fi
    [ -z "$T_SLEEP" ] && _has_line "$RES/kmsg.log" "$BDF: $MOD: probe_delay_ms is set: sleeping" && T_SLEEP=${EPOCHREALTIME/./}
    # the window: off e1000e, the override on the variant, a journal on disk, and the kernel inside the probe
    if [ -n "$T_LEFT" ] && [ -n "$T_SLEEP" ] && { [ "$JOURNAL" = 0 ] || [ -n "$T_JOURNAL" ]; }; then
        _has_line "$RES/kmsg.log" "$BDF: $MOD: slept" && e2e_fail "the probe returned before the kill: no window left"
        break
    fi
    kill -0 "$CALL_PID" 2>/dev/null || { cat "$RES/rebind.out" "$RES/rebind.err"; e2e_fail "the Rebind ended before the window was seen"; }
    [ "$now" -lt "$end" ] || e2e_fail "no window within 60 s (off e1000e: ${T_LEFT:+yes} override seen: ${T_OVR:+yes} journal: ${T_JOURNAL:+yes} probe sleeping: ${T_SLEEP:+yes})"
    e2e_pause 0.05
done
T_KILL=${EPOCHREALTIME/./}
kill -KILL "$VFIOD_PID" || e2e_fail "kill -9 $VFIOD_PID"
_fmt $((T_LEFT - T_CALL)); echo "window open: off e1000e ${FMT}s after the call"; _cmd_timing "Rebind call to device off e1000e" "$FMT"
if [ -n "$T_OVR" ]; then
    _fmt $((T_OVR - T_CALL)); echo "driver_override read $MOD ${FMT}s after the call (still on e1000e)"
else
    echo "driver_override was not read as $MOD while on e1000e (the kernel's probe of the override-only variant shows it)"
fi
_fmt $((T_SLEEP - T_CALL)); echo "the probe's sleep seen ${FMT}s after the call"; _cmd_timing "Rebind call to probe sleeping (kmsg)" "$FMT"
[ -n "$T_JOURNAL" ] && { _fmt $((T_JOURNAL - T_CALL)); echo "journal seen ${FMT}s after the call: ${JFILES[*]}"; _cmd_timing "Rebind call to journal file seen" "$FMT"; }
_fmt $((T_KILL - T_CALL)); _cmd_timing "Rebind call to kill -9" "$FMT"
echo "kill -9 $VFIOD_PID at ${FMT}s after the call; driver link: '$(e2e_pci_driver "$BDF")' (the variant's probe is running)"
for f in "${JFILES[@]}"; do echo "---- journal $f (as the killed vfiod left it so far)"; cat "$f"; echo; done

e2e_step "the killed vfiod stays until the probe returns"
e2e_pause 0.3
e2e_pid_dead "$VFIOD_PID" && STUCK=no || STUCK=yes
e2e_assert_eq "$STUCK" yes "300 ms after kill -9, a vfiod thread is still in the kernel (the probe)"
end=$(( T_KILL + 120 * 1000000 ))
until e2e_pid_dead "$VFIOD_PID"; do
    [ "${EPOCHREALTIME/./}" -lt $end ] || e2e_fail "vfiod $VFIOD_PID still there 120 s after kill -9"
    e2e_pause 0.05
done
T_GONE=${EPOCHREALTIME/./}
wait "$VFIOD_PID"; rc=$?
_fmt $((T_GONE - T_KILL)); echo "vfiod $VFIOD_PID gone ${FMT}s after kill -9 (exit $rc)"; _cmd_timing "kill -9 to vfiod gone" "$FMT"
e2e_assert_eq "$rc" 137 "vfiod died of SIGKILL"
_fmt $((T_GONE - T_LEFT)); echo "window (device off e1000e to the killed vfiod gone): ${FMT}s"; _cmd_timing "window: off e1000e to killed vfiod gone" "$FMT"
VFIOD_PID=""
wait "$CALL_PID"; rc=$?
echo "the Rebind call (exit $rc): $(<"$RES/rebind.out") $(<"$RES/rebind.err")"
e2e_assert "the Rebind call got no reply" test "$rc" != 0
_has_line "$RES/kmsg.log" "$BDF: $MOD: slept" && echo "kmsg: $LINE"
AFTER_DRV=$(e2e_pci_driver "$BDF") AFTER_OVR=$(<"$D/driver_override")
echo "what the crash left: driver '${AFTER_DRV}', driver_override '$AFTER_OVR'"
e2e_assert_eq "$AFTER_OVR" "$MOD" "driver_override as the killed vfiod left it"
_rt_files; echo "runtime dir after the crash: ${RT_FILES[*]}"
if [ "$JOURNAL" = 1 ]; then
    for f in "${JFILES[@]}"; do e2e_assert "the journal $f survived the kill" test -f "$f"; done
    for f in "${JFILES[@]}"; do echo "---- journal $f"; cat "$f"; echo; done
fi
e2e_write 0 "$P" || e2e_fail "write $P"
echo "probe_delay_ms back to $(<"$P")"

e2e_step "restart vfiod on the same runtime dir"
VFIOD_LOG=$RES/vfiod-restart.log   # the first vfiod's log stays in vfiod.log
_uptime_us; K_LAUNCH=$KUS
vfiod_launch
_fmt $(( ${EPOCHREALTIME/./} - VFIOD_LAUNCH_US )); _cmd_timing "restart to \"ready\" (reconcile included)" "$FMT"
DRV=$(e2e_pci_driver "$BDF") OVR=$(<"$D/driver_override")
e2e_lost "$BDF" e1000e "$MOD"
e2e_fault "vfiod killed (SIGKILL) inside a Rebind, during the driver's probe; restarted on its journal" "$E2E_LOST"
_rt_files
echo "after the restart: driver '$DRV', driver_override '$OVR', runtime dir: ${RT_FILES[*]}"
grep -i reconcile "$VFIOD_LOG" | sed 's/^/  vfiod| /'
# (the "vfiod ready on" line names its phases, "reconcile" among them: the Reconciler's own lines are wanted)
if _has_line "$VFIOD_LOG" reconcile "vfiod ready on" && [[ ${LINE:0:12} == [0-2][0-9]:[0-5][0-9]:[0-6][0-9].[0-9][0-9][0-9] ]]; then
    printf -v launch '%(%H:%M:%S)T' "${VFIOD_LAUNCH_US:0:-6}"
    _ms_of_day "$launch.${VFIOD_LAUNCH_US: -6:3}"; l=$MS
    _ms_of_day "${LINE:0:12}"; r=$MS
    [ $r -lt $l ] && r=$((r + 86400000))
    printf -v FMT '%d.%03d' $(((r - l) / 1000)) $(((r - l) % 1000))
    echo "last reconcile line ${FMT}s after the restart (vfiod's log clock): $LINE"
    _cmd_timing "restart to the last reconcile line (log clock)" "$FMT"
fi
e2e_assert_eq "$DRV" e1000e "sysfs driver link after the restart"
e2e_assert_eq "$OVR" "(null)" "driver_override after the restart"
e2e_assert "vfiod logged a reconcile line" _has_line "$VFIOD_LOG" reconcile "vfiod ready on"
e2e_assert "this vfiod keeps a journal (--runtime-dir)" test "$JOURNAL" = 1
for f in "${JFILES[@]}"; do e2e_assert "the journal $f is gone" test ! -e "$f"; done
vfiod_prop "$BDF" Driver; e2e_assert_eq "$VFIOD_VALUE" e1000e "Driver property"
vfiod_prop "$BDF" DriverOverride; e2e_assert_eq "$VFIOD_VALUE" "" "DriverOverride property"
vfiod_prop "$BDF" Recovery
case "$VFIOD_VALUE" in
    "put back on e1000e after an interrupted Rebind of $BDF"*) e2e_assert "Recovery property says what the reconcile did" true ;;
    *) e2e_assert "Recovery property says what the reconcile did (got: $VFIOD_VALUE)" false ;;
esac

# the same, in the kernel's clock (kmsg.log): e1000e let go, the variant's probe, e1000e bound again
_kmsg_us "*\] e1000e $BDF *removed PHC*" && K_OFF=$KUS
_kmsg_us "*$BDF: $MOD: probe_delay_ms is set: sleeping*" && K_SLEEP=$KUS
_kmsg_us "*$BDF: $MOD: slept*" && K_SLEPT=$KUS
_kmsg_us "*\] e1000e $BDF *Network Connection*" "${K_SLEPT:-0}" && K_BACK=$KUS
for t in "K_OFF e1000e removed (unbind)" "K_SLEEP variant probe starts sleeping" "K_SLEPT variant probe done sleeping" "K_BACK e1000e bound again"; do
    v=${t%% *}; [ -n "${!v:-}" ] && { _fmt "${!v}"; echo "kernel clock ${FMT}s: ${t#* }"; }
done
if [ -n "${K_OFF:-}" ] && [ -n "${K_BACK:-}" ]; then
    _fmt $((K_BACK - K_OFF)); _cmd_timing "kernel clock: e1000e removed to e1000e back" "$FMT"
    _fmt $((K_BACK - K_LAUNCH)); _cmd_timing "kernel clock: restart to e1000e back (reconcile)" "$FMT"
fi
[ -n "${K_SLEEP:-}" ] && [ -n "${K_SLEPT:-}" ] && { _fmt $((K_SLEPT - K_SLEEP)); _cmd_timing "kernel clock: the variant's probe (the window)" "$FMT"; }

e2e_step "a normal Rebind and Restore leave no journal behind"
e2e_time "busctl Rebind" vfiod_manager Rebind 'sa{sv}' "$BDF" 0 || e2e_fail "Rebind failed: $VFIOD_ERR"
e2e_assert_eq "$(e2e_pci_driver "$BDF")" "$MOD" "sysfs driver link after the Rebind"
e2e_time "busctl Restore" vfiod_manager Restore 'sa{sv}' "$BDF" 0 || e2e_fail "Restore failed: $VFIOD_ERR"
e2e_assert_eq "$(e2e_pci_driver "$BDF")" e1000e "sysfs driver link after the Restore"
_rt_files
NEW=(); for f in "${RT_FILES[@]}"; do [[ " ${BASE[*]} " == *" $f "* ]] || NEW+=("$f"); done
e2e_assert_eq "${NEW[*]}" "" "files in the runtime dir besides those before the first Rebind"

e2e_step "stop vfiod"
vfiod_stop || e2e_fail "vfiod did not stop cleanly"
kill "$DMESG_PID" 2>/dev/null
grep -F "$BDF" "$RES/kmsg.log" | grep -v 'BAR\|reg 0x\|enabling device' | tail -20 | sed 's/^/  kmsg| /'

e2e_step_end
echo "SCENARIO-CRASH: OK"
