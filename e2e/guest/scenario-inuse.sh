# Guest side of e2e/scenario-inuse.sh (runs in the e2e guest as root, with bash): vfiod's host-use check on a real
# kernel. vfiod must refuse (org.vfiod1.Error.InUse, nothing written) to move a device the host uses, name the user,
# and move it once the use is gone:
#   1. the e1000e's interface up with 192.0.2.10/24: Rebind refused; `ip link set down`: Rebind and Restore work;
#   2. an emulated NVMe (the host adds it at 00:04.0) with ext4 mounted at /mnt/inuse: Rebind refused; after umount
#      Rebind to vfio-pci, and Restore back to nvme (the namespace block device comes back);
#   3. a process holding the e1000e through VFIO (vfio-open --hold): Restore refused at once;
#   4. the hang path: Restore with force and timeout 8000 while vfio-open holds the device and ignores the kernel's
#      request (it registers no request eventfd): the reply (Timeout) within 8 s + 2 s, reads answered meanwhile
#      (< 200 ms each, timed in one python3-dbus client beside dbus-daemon's own GetId as a baseline), a second Restore
#      of the held device answered within its timeout + 2 s, the NVMe (another group) still moving both ways, and
#      after the holder is killed the device on a driver with a consistent driver_override.
set -u
. /vfiod/e2e/guest/lib.sh
. /vfiod/e2e/guest/vfiod-lib.sh
RES=${E2E_RESULTS:-/results}
VO=/vfiod/.cache/e2e/bin/vfio-open
PROBE=/vfiod/e2e/guest/dbus-probe.py
PY=/usr/bin/python3
MNT=/mnt/inuse
ADDR=192.0.2.10/24
HANG_TIMEOUT_MS=8000
NOTES=()   # findings printed at the end (a failed daemon check is also an e2e_fail)

_cmd_timing() { printf 'cmd\t%s\t%s\n' "$1" "$2" >> "$E2E_TIMINGS"; }
_ms() { printf -v MS '%d.%01d' $(($1 / 1000)) $(($1 % 1000 / 100)); }   # µs -> ms with one decimal, in MS
# _file_has FILE TEXT: FILE holds a line containing TEXT (builtins); the line in LINE
_file_has() {
    local l
    LINE=""
    [ -f "$1" ] || return 1
    while IFS= read -r l; do [[ $l == *"$2"* ]] && { LINE=$l; return 0; }; done < "$1"
    return 1
}
# e2e_await (guest/lib.sh) polls every 50 ms here: the hang's checks time the reply and the reads closely
E2E_AWAIT_POLL=0.05

# A refused call, with the D-Bus error's name: python3-dbus (the call timed inside the client, no process start), or
# gdbus (its wall time, process start included) when the host has no python3-dbus.
# refusal METHOD BDF JSON GVARIANT: CALL_ERR (error name, "" if it succeeded), CALL_MSG, CALL_REPLY, CALL_MS (the call
# itself, ms), CALL_WALL_MS (the whole client process, ms), CALL_HOW
HAVE_PYDBUS=0
$PY -c 'import dbus' 2>/dev/null && HAVE_PYDBUS=1
refusal() {
    local t=${EPOCHREALTIME/./} out l
    CALL_ERR="" CALL_MSG="" CALL_REPLY="" CALL_MS=""
    if [ "$HAVE_PYDBUS" = 1 ]; then
        CALL_HOW="python3-dbus, timed in the client"
        out=$($PY "$PROBE" call "$1" "$2" "$3" 2>&1)
        while IFS= read -r l; do
            case "$l" in
                elapsed_ms=*) CALL_MS=${l#elapsed_ms=} ;;
                error=*) CALL_ERR=${l#error=} ;;
                message=*) CALL_MSG=${l#message=} ;;
                reply=*) CALL_REPLY=${l#reply=} ;;
            esac
        done <<< "$out"
        [ -n "$CALL_MS" ] || echo "dbus-probe.py said: $out"
    else
        CALL_HOW="gdbus, process start included"
        out=$(gdbus call --system --timeout 120 --dest org.vfiod --object-path /org/vfiod \
            --method "org.vfiod1.Manager.$1" "$2" "$4" 2>&1)
        if [[ $out == *GDBus.Error:* ]]; then
            out=${out#*GDBus.Error:}; CALL_ERR=${out%%: *}; CALL_MSG=${out#*: }
        else
            CALL_REPLY=$out
        fi
    fi
    local d=$(( ${EPOCHREALTIME/./} - t ))
    _ms $d; CALL_WALL_MS=$MS
    [ -n "$CALL_MS" ] || CALL_MS=$CALL_WALL_MS
    echo "$1 $2 $3 -> ${CALL_ERR:-reply $CALL_REPLY}${CALL_MSG:+: $CALL_MSG} (call ${CALL_MS} ms, client process ${CALL_WALL_MS} ms; $CALL_HOW)"
}
# users BDF: Device.Users() as busctl prints it, in USERS
users() {
    vfiod_device_path "$1"
    USERS=$(vfiod_busctl call org.vfiod "$VFIOD_PATH" org.vfiod1.Device Users 2>&1)
    echo "Users() of $1: $USERS"
}

e2e_step "find the devices"
BDF=$(e2e_pci_find 8086 10d3) || e2e_fail "no e1000e (8086:10d3) in the guest"
NV=$(e2e_pci_find 1b36 0010) || e2e_fail "no NVMe (1b36:0010) in the guest: did the host pass -device nvme?"
echo "e1000e $BDF (group $(e2e_pci_group "$BDF")), NVMe $NV (group $(e2e_pci_group "$NV"))"
e2e_assert_eq "$(e2e_pci_driver "$BDF")" e1000e "coldplug bound e1000e"
[ "$(e2e_pci_driver "$NV")" = nvme ] || e2e_time "modprobe nvme" modprobe nvme
e2e_await 30 e2e_driver_is "$NV" nvme || e2e_fail "nvme did not bind $NV"
e2e_assert_eq "$(e2e_pci_driver "$NV")" nvme "the NVMe is on nvme"
[ "$(e2e_pci_group "$BDF")" != "$(e2e_pci_group "$NV")" ] || e2e_fail "the e1000e and the NVMe share an IOMMU group"
_ns() { local n; NS=""; for n in /sys/bus/pci/devices/"$NV"/nvme/nvme*/nvme*n1; do [ -e "$n" ] && NS=${n##*/}; done; [ -n "$NS" ] && [ -b "/dev/$NS" ]; }
e2e_await 30 _ns || e2e_fail "no namespace block device under $NV"
echo "NVMe namespace: /dev/$NS ($(</sys/block/$NS/size) sectors)"
IFS_=(/sys/bus/pci/devices/"$BDF"/net/*); IF=${IFS_[0]##*/}
[ -n "$IF" ] && [ "$IF" != "*" ] || e2e_fail "no network interface under $BDF"
echo "e1000e interface: $IF"
echo "D-Bus client for refused calls and reads: $([ $HAVE_PYDBUS = 1 ] && echo "python3-dbus ($PY)" || echo "no python3-dbus: gdbus/busctl processes")"

# vfiod's GC pauses, with wall-clock times, to tell them from vfiod's own work when a read is slow
VFIOD_JAVA_OPTS="${VFIOD_JAVA_OPTS:--XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xshare:auto} -Xlog:gc,safepoint:file=$RES/vfiod-gc.log:time,uptime"
vfiod_start
dmesg -w > "$RES/kmsg.log" 2>&1 &
DMESG_PID=$!

# ---- 1. the NIC in service
e2e_step "1. $IF up with $ADDR: Rebind refused"
e2e_time "ip link up + addr add" bash -c "ip link set '$IF' up && ip addr add $ADDR dev '$IF'" || e2e_fail "ip on $IF"
ip -br addr show dev "$IF"
refusal Rebind "$BDF" '{}' '{}'
_cmd_timing "Rebind refused (NIC in service), the call, ms" "$CALL_MS"
e2e_assert_eq "$CALL_ERR" org.vfiod1.Error.InUse "Rebind of the NIC in service: the error"
e2e_assert "the message names $IF and $ADDR (got: $CALL_MSG)" test -n "$CALL_MSG" -a -z "${CALL_MSG##*"$IF is up with $ADDR"*}"
e2e_assert_eq "$(e2e_pci_driver "$BDF")" e1000e "still on e1000e"
e2e_assert_eq "$(<"/sys/bus/pci/devices/$BDF/driver_override")" "(null)" "driver_override untouched"
users "$BDF"
e2e_assert "Users() lists $IF with $ADDR" test -z "${USERS##*"$IF is up with $ADDR"*}"

e2e_step "1. $IF down: Rebind and Restore"
e2e_time "ip link down" ip link set "$IF" down || e2e_fail "ip link set $IF down"
ip -br addr show dev "$IF"
users "$BDF"
e2e_assert_eq "$USERS" "as 0" "Users() once $IF is down (its address stays, the link is down)"
e2e_time "busctl Rebind (NIC down)" vfiod_manager Rebind 'sa{sv}' "$BDF" 0 || e2e_fail "Rebind after link down: $VFIOD_ERR"
e2e_assert_eq "$VFIOD_REPLY" 's "vfio-pci"' "Rebind reply"
e2e_assert_eq "$(e2e_pci_driver "$BDF")" vfio-pci "on vfio-pci"
e2e_time "busctl Restore" vfiod_manager Restore 'sa{sv}' "$BDF" 0 || e2e_fail "Restore: $VFIOD_ERR"
e2e_assert_eq "$(e2e_pci_driver "$BDF")" e1000e "back on e1000e"
e2e_assert_eq "$(<"/sys/bus/pci/devices/$BDF/driver_override")" "(null)" "driver_override after Restore"

# ---- 2. the NVMe with a mounted file system
e2e_step "2. ext4 on /dev/$NS mounted at $MNT: Rebind refused"
MKFS=$(command -v mkfs.ext4 || command -v mke2fs) || e2e_fail "no mkfs.ext4/mke2fs in the host's /usr"
e2e_time "mkfs.ext4 /dev/$NS" "$MKFS" -q -F -t ext4 "/dev/$NS" || e2e_fail "mkfs on /dev/$NS"
mkdir -p "$MNT"
e2e_time "mount" mount -t ext4 "/dev/$NS" "$MNT" || e2e_fail "mount /dev/$NS"
echo "written before the move" > "$MNT/hello"
refusal Rebind "$NV" '{}' '{}'
e2e_assert_eq "$CALL_ERR" org.vfiod1.Error.InUse "Rebind of the mounted NVMe: the error"
e2e_assert "the message names the mount (got: $CALL_MSG)" test -n "$CALL_MSG" -a -z "${CALL_MSG##*"$NS is mounted at $MNT"*}"
e2e_assert_eq "$(e2e_pci_driver "$NV")" nvme "still on nvme"
e2e_assert "/dev/$NS still there" test -b "/dev/$NS"
users "$NV"
e2e_assert "Users() lists the mount" test -z "${USERS##*"$NS is mounted at $MNT"*}"

e2e_step "2. umount: Rebind to vfio-pci, Restore to nvme"
e2e_time "umount" umount "$MNT" || e2e_fail "umount $MNT"
e2e_time "busctl Rebind NVMe" vfiod_manager Rebind 'sa{sv}' "$NV" 0 || e2e_fail "Rebind of the NVMe after umount: $VFIOD_ERR"
e2e_assert_eq "$VFIOD_REPLY" 's "vfio-pci"' "Rebind reply"
e2e_assert_eq "$(e2e_pci_driver "$NV")" vfio-pci "NVMe on vfio-pci"
e2e_assert "/sys/block/$NS gone" test ! -e "/sys/block/$NS"
e2e_assert "/dev/vfio/$(e2e_pci_group "$NV") is there" test -c "/dev/vfio/$(e2e_pci_group "$NV")"
e2e_time "busctl Restore NVMe" vfiod_manager Restore 'sa{sv}' "$NV" 0 || e2e_fail "Restore of the NVMe: $VFIOD_ERR"
e2e_assert_eq "$VFIOD_REPLY" 's "nvme"' "Restore reply"
e2e_assert_eq "$(e2e_pci_driver "$NV")" nvme "NVMe back on nvme"
e2e_assert_eq "$(<"/sys/bus/pci/devices/$NV/driver_override")" "(null)" "NVMe driver_override after Restore"
t=${EPOCHREALTIME/./}
e2e_await 30 _ns || e2e_fail "the namespace block device did not come back within 30 s"
_e2e_secs "$t"; echo "namespace /dev/$NS back ${E2E_SECS}s after the Restore's reply"; _cmd_timing "Restore reply to namespace block device back" "$E2E_SECS"
mount -o ro -t ext4 "/dev/$NS" "$MNT" || e2e_fail "mount /dev/$NS after the Restore"
e2e_assert_eq "$(<"$MNT/hello")" "written before the move" "the file system survived the round trip"
umount "$MNT"

# ---- 3. a process holding the device through VFIO
e2e_step "3. vfio-open holds the e1000e: Restore refused"
e2e_time "busctl Rebind" vfiod_manager Rebind 'sa{sv}' "$BDF" 0 || e2e_fail "Rebind: $VFIOD_ERR"
e2e_assert_eq "$(e2e_pci_driver "$BDF")" vfio-pci "on vfio-pci"
G=$(e2e_pci_group "$BDF")
"$VO" --hold "$BDF" > "$RES/vfio-hold-3.out" 2>&1 &
HOLD=$!
e2e_await 30 _file_has "$RES/vfio-hold-3.out" "VFIO-OPEN: HOLDING" || { cat "$RES/vfio-hold-3.out"; e2e_fail "vfio-open --hold did not get the device"; }
echo "vfio-open pid $HOLD holds /dev/vfio/$G and the device fd: $LINE"
refusal Restore "$BDF" '{}' '{}'
INUSE_MS=$CALL_MS INUSE_WALL_MS=$CALL_WALL_MS INUSE_HOW=$CALL_HOW
_cmd_timing "Restore refused (VFIO holder), the call, ms" "$CALL_MS"
_cmd_timing "Restore refused (VFIO holder), whole client process, ms" "$CALL_WALL_MS"
e2e_assert_eq "$CALL_ERR" org.vfiod1.Error.InUse "Restore with the group open: the error"
e2e_assert "the message names /dev/vfio/$G and pid $HOLD (got: $CALL_MSG)" \
    test -n "$CALL_MSG" -a -z "${CALL_MSG##*"/dev/vfio/$G is open by pid $HOLD (vfio-open)"*}"
e2e_time "busctl Restore refused (process start included)" vfiod_manager Restore 'sa{sv}' "$BDF" 0 && e2e_fail "busctl Restore was not refused"
echo "busctl: $VFIOD_ERR"
e2e_assert_eq "$(e2e_pci_driver "$BDF")" vfio-pci "still on vfio-pci"
e2e_assert_eq "$(<"/sys/bus/pci/devices/$BDF/driver_override")" vfio-pci "driver_override untouched"
e2e_assert "vfio-open still runs" kill -0 "$HOLD"
users "$BDF"
e2e_assert "Users() lists the holder" test -z "${USERS##*"/dev/vfio/$G is open by pid $HOLD (vfio-open)"*}"
# a no-op busctl, for the process start that the busctl figure above includes
e2e_time "busctl get-property Driver (no-op baseline)" vfiod_prop "$BDF" Driver

e2e_step "3. the holder exits: Restore"
kill -TERM "$HOLD"; wait "$HOLD" 2>/dev/null
users "$BDF"
e2e_assert_eq "$USERS" "as 0" "Users() once vfio-open is gone"
e2e_time "busctl Restore" vfiod_manager Restore 'sa{sv}' "$BDF" 0 || e2e_fail "Restore after the holder exited: $VFIOD_ERR"
e2e_assert_eq "$(e2e_pci_driver "$BDF")" e1000e "back on e1000e"

# ---- 4. the hang path
e2e_step "4. Restore with force and timeout $HANG_TIMEOUT_MS while vfio-open ignores the kernel's request"
e2e_time "busctl Rebind" vfiod_manager Rebind 'sa{sv}' "$BDF" 0 || e2e_fail "Rebind: $VFIOD_ERR"
e2e_assert_eq "$(e2e_pci_driver "$BDF")" vfio-pci "on vfio-pci"
"$VO" --hold "$BDF" > "$RES/vfio-hold-4.out" 2>&1 &
HOLD=$!
e2e_await 30 _file_has "$RES/vfio-hold-4.out" "VFIO-OPEN: HOLDING" || { cat "$RES/vfio-hold-4.out"; e2e_fail "vfio-open --hold did not get the device"; }
echo "vfio-open pid $HOLD holds the device"
vfiod_device_path "$BDF"
READS=$RES/reads.txt STOP=$VFIOD_RUN/reads.stop
rm -f "$READS" "$READS.ready" "$STOP"
if [ $HAVE_PYDBUS = 1 ]; then
    $PY "$PROBE" reads "$READS" "$STOP" "$VFIOD_PATH" 0.1 2> "$RES/reads.err" &
    PROBE_PID=$!
    e2e_await 60 test -e "$READS.ready" || { cat "$RES/reads.err"; e2e_fail "the read probe did not start"; }
else
    # no python3-dbus: one busctl process per read, its start included (about 0.2 s under TCG)
    ( while [ ! -e "$STOP" ]; do
        t1=${EPOCHREALTIME/./}; d=$(busctl --system --timeout=60 get-property org.vfiod "$VFIOD_PATH" org.vfiod1.Device Driver 2>&1)
        t2=${EPOCHREALTIME/./}; n=$(busctl --system --timeout=60 call org.vfiod /org/vfiod org.vfiod1.Manager ListDevices 2>&1)
        t3=${EPOCHREALTIME/./}
        printf '%d %d.%d %d %d.%d -1 %s %s\n' $t1 $(((t2 - t1) / 1000)) $(((t2 - t1) % 1000 / 100)) $t2 $(((t3 - t2) / 1000)) \
            $(((t3 - t2) % 1000 / 100)) "${d// /_}" "${n%% *}" >> "$READS"
        [ -e "$READS.ready" ] || echo ready > "$READS.ready"
        e2e_pause 0.1
      done ) &
    PROBE_PID=$!
    e2e_await 60 test -e "$READS.ready" || e2e_fail "the read loop did not start"
fi
GO=$VFIOD_RUN/hang.go
rm -f "$GO" "$GO.ready"
if [ $HAVE_PYDBUS = 1 ]; then
    # the client starts (seconds under TCG) and connects first; the call goes out when $GO appears
    $PY "$PROBE" call Restore "$BDF" "{\"force\": true, \"timeout\": $HANG_TIMEOUT_MS}" "$GO" > "$RES/hang-call.out" 2>&1 &
    CALL_PID=$!
    e2e_await 60 test -e "$GO.ready" || { cat "$RES/hang-call.out"; e2e_fail "the calling client did not connect"; }
    T_CALL=${EPOCHREALTIME/./}
    : > "$GO"
else
    T_CALL=${EPOCHREALTIME/./}
    gdbus call --system --timeout 120 --dest org.vfiod --object-path /org/vfiod --method org.vfiod1.Manager.Restore \
        "$BDF" "{'force': <true>, 'timeout': <uint32 $HANG_TIMEOUT_MS>}" > "$RES/hang-call.out" 2>&1 &
    CALL_PID=$!
fi
T_REQ="" T_REPLY=""
end=$(( T_CALL + 60 * 1000000 ))
# polled every 0.1 s: the guest has one CPU, and this loop must not take it from vfiod and the reads
while kill -0 "$CALL_PID" 2>/dev/null; do
    [ -z "$T_REQ" ] && _file_has "$RES/kmsg.log" "No device request channel registered" && T_REQ=${EPOCHREALTIME/./}
    [ "${EPOCHREALTIME/./}" -lt $end ] || e2e_fail "no reply to the hanging Restore within 60 s"
    e2e_pause 0.1
done
T_REPLY=${EPOCHREALTIME/./}
wait "$CALL_PID"
cat "$RES/hang-call.out"
HANG_MS="" HANG_ERR="" HANG_MSG=""
while IFS= read -r l; do
    case "$l" in
        start_us=*) T_CALL=${l#start_us=} ;;
        elapsed_ms=*) HANG_MS=${l#elapsed_ms=} ;; error=*) HANG_ERR=${l#error=} ;; message=*) HANG_MSG=${l#message=} ;;
        *GDBus.Error:*) l=${l#*GDBus.Error:}; HANG_ERR=${l%%: *}; HANG_MSG=${l#*: } ;;
    esac
done < "$RES/hang-call.out"
_ms $((T_REPLY - T_CALL)); HANG_WALL_MS=$MS
[ -n "$HANG_MS" ] || HANG_MS=$HANG_WALL_MS
echo "hanging Restore: ${HANG_ERR:-no error} after ${HANG_MS} ms in the client (${HANG_WALL_MS} ms from the call to the client's exit, polled every 0.1 s): $HANG_MSG"
_cmd_timing "hanging Restore (force, timeout $HANG_TIMEOUT_MS): reply, the call, ms" "$HANG_MS"
_cmd_timing "hanging Restore: call to the client's exit seen, ms" "$HANG_WALL_MS"
# the kernel's request line may come just after the reply if the kernel is slow to log it
[ -z "$T_REQ" ] && e2e_await 10 _file_has "$RES/kmsg.log" "No device request channel registered" && T_REQ=${EPOCHREALTIME/./}
[ -n "$T_REQ" ] && echo "kmsg: $LINE"
DRV_DURING=$(e2e_pci_driver "$BDF")   # the link only (driver_override would wait for the device lock)
_file_has "$VFIOD_LOG" "is hanging in the kernel" && echo "vfiod: $LINE"
# while the kernel still holds the unbind (the reads go on): another call on the same device must get its answer in
# time too (its group is shut: vfiod starts nothing on it), and a device of another group must still move
refusal Restore "$BDF" '{"timeout": 3000}' "{'timeout': <uint32 3000>}"
WEDGED_ERR=$CALL_ERR WEDGED_MS=$CALL_MS WEDGED_MSG=$CALL_MSG
_cmd_timing "Restore (timeout 3000) of the held device during the hang, the call, ms" "$CALL_MS"
e2e_time "busctl Rebind NVMe during the hang" vfiod_manager Rebind 'sa{sv}' "$NV" 0 || e2e_fail "Rebind of the NVMe while group $G hangs: $VFIOD_ERR"
e2e_assert_eq "$(e2e_pci_driver "$NV")" vfio-pci "NVMe on vfio-pci while group $G hangs"
e2e_time "busctl Restore NVMe during the hang" vfiod_manager Restore 'sa{sv}' "$NV" 0 || e2e_fail "Restore of the NVMe while group $G hangs: $VFIOD_ERR"
e2e_assert_eq "$(e2e_pci_driver "$NV")" nvme "NVMe back on nvme while group $G hangs"
e2e_pause 1
T_READS_END=${EPOCHREALTIME/./}   # the reads are judged up to here: the thread dumps below take the guest's CPU
# where vfiod's threads wait while the kernel holds the device: the kernel's side (threads in D state, their
# /proc/<tid>/stack) and the JVM's (jcmd Thread.print), in the results
{
    for t in /proc/"$VFIOD_PID"/task/*; do
        read -r st < "$t/stat" 2>/dev/null || continue
        st=${st##*) }
        [ "${st:0:1}" = D ] || continue
        echo "---- tid ${t##*/} ($(<"$t/comm")) state D, wchan $(<"$t/wchan")"
        cat "$t/stack" 2>/dev/null
    done
} > "$RES/vfiod-kernel-stacks-during-hang.txt"
DSTATE=$(grep -c '^---- tid' "$RES/vfiod-kernel-stacks-during-hang.txt")
echo "vfiod threads in D state while the kernel holds the device: $DSTATE (kernel stacks: vfiod-kernel-stacks-during-hang.txt)"
grep -A4 '^---- tid' "$RES/vfiod-kernel-stacks-during-hang.txt" | sed 's/^/  kstack| /'
JCMD=$(readlink -f "/proc/$VFIOD_PID/exe"); JCMD=${JCMD%/java}/jcmd   # the JDK that runs vfiod
if [ -x "$JCMD" ]; then
    timeout 60 "$JCMD" "$VFIOD_PID" Thread.print > "$RES/vfiod-threads-during-hang.txt" 2>&1
    # the Java frames of the threads that are inside a sysfs read or write
    awk '/^"/ {name=$0; n=0; show=0} /org\.vfiod/ && n < 12 {if (!show) {print "  jstack| " name; show=1}; print "  jstack|   " $0; n++}' \
        "$RES/vfiod-threads-during-hang.txt" | grep -B1 -A10 'Sysfs\|sysfs' | head -60
fi
e2e_assert "vfio-open still holds the device" kill -0 "$HOLD"
T_KILL=${EPOCHREALTIME/./}
kill -KILL "$HOLD"; wait "$HOLD" 2>/dev/null
e2e_pause 1   # reads across the release too
: > "$STOP"; wait "$PROBE_PID"

# reads: those that started between the call (as the client sent it) and the holder's kill (2 s after the reply: the
# kernel held the device all that time)
# A read that waited for the held device would take until the kernel lets go (seconds). Slower than 200 ms but
# below 1 s, with dbus-daemon's own GetId in the same round slow too (>= 100 ms), is the guest starved of CPU by a
# loaded host (TCG, one vCPU): reported, not failed. Any read >= 1 s, or >= 200 ms while the bus answered quickly,
# is vfiod's.
n=0 gmax=0 lmax=0 pmax=0 all=0 slow=0 starved=0 blocked=0 errs=0 drvs="" slowlines=()
while read -r t1 g t2 ls p d c; do
    all=$((all + 1))
    [ "$t1" -ge "$T_CALL" ] && [ "$t1" -le "$T_READS_END" ] || continue
    n=$((n + 1))
    gi=${g%.*} li=${ls%.*} pi=${p%.*}
    [ "$gi" -gt "$gmax" ] && gmax=$gi
    [ "$li" -gt "$lmax" ] && lmax=$li
    [ "$pi" -gt "$pmax" ] && pmax=$pi
    { [ "$gi" -ge 1000 ] || [ "$li" -ge 1000 ]; } && blocked=$((blocked + 1))
    if [ "$gi" -ge 200 ] || [ "$li" -ge 200 ]; then
        if [ "$gi" -lt 1000 ] && [ "$li" -lt 1000 ] && [ "$pi" -ge 100 ]; then starved=$((starved + 1))
        else slow=$((slow + 1)); fi
        printf -v l '%(%T)T.%03d Get %s ms, ListDevices %s ms, bus GetId %s ms' "${t1:0:-6}" $((10#${t1: -6} / 1000)) "$g" "$ls" "$p"
        slowlines+=("$l")
    fi
    [[ $d == ERR:* || $c == ERR:* ]] && errs=$((errs + 1))
    [[ " $drvs " == *" $d "* ]] || drvs+=" $d"
done < "$READS"
echo "reads while the kernel held the device (from the call to 1 s after the NVMe's moves): $n rounds of Get(Driver) + ListDevices (of $all);" \
    "max Get ${gmax} ms, max ListDevices ${lmax} ms (dbus-daemon's own GetId: max ${pmax} ms); $errs error(s); Driver values:$drvs"
for l in "${slowlines[@]}"; do echo "  read >= 200 ms: $l"; done
if [ ${#slowlines[@]} -gt 0 ] && [ -f "$RES/vfiod-gc.log" ]; then
    # vfiod's pauses (GC, safepoints) of 50 ms and more in the read window, for the slow reads above
    printf -v w0 '%(%T)T' "${T_CALL:0:-6}"; printf -v w1 '%(%T)T' "$(( ${T_READS_END:0:-6} + 1 ))"
    awk -v a="$w0" -v b="$w1" '{ t = substr($1, 13, 12) } t >= a && t <= b { tot = 0; if (match($0, /Total: [0-9]+ ns/)) tot = substr($0, RSTART + 7, RLENGTH - 10) / 1e6
        if ((/Pause/ && $NF ~ /ms$/ && $NF + 0 >= 50) || tot >= 50) print "  vfiod pause| " $0 }' "$RES/vfiod-gc.log" | head -20
fi
echo "  $slow slow round(s) with the bus fast (vfiod's), $starved with the bus slow too (the guest starved)"
_cmd_timing "reads during the hang: rounds" "$n"
_cmd_timing "reads during the hang: max Get(Driver) ms" "$gmax"
_cmd_timing "reads during the hang: max ListDevices ms" "$lmax"
_cmd_timing "reads during the hang: max dbus-daemon GetId ms (baseline)" "$pmax"
# vfiod's side of the hanging call, on its log clock (the call went out at T_CALL)
printf -v l '%(%T)T.%03d' "${T_CALL:0:-6}" $((10#${T_CALL: -6} / 1000))
echo "the hanging Restore went out at $l; vfiod's log from then:"
while IFS= read -r line; do
    [[ $line > "${l:0:8}" ]] || continue
    case "$line" in *forced\ past*|*hanging\ in\ the\ kernel*|*refused:*|*did\ not\ answer\ a\ read*|*caller\ got\ Timeout*|*hung\ write*) echo "  vfiod| $line" ;; esac
done < "$VFIOD_LOG"

e2e_step "4. the holder killed: the device on a driver"
# vfiod logs when the hung write returns and when it has put the devices back
e2e_await 60 _file_has "$VFIOD_LOG" "the hung write on" || e2e_await 1 _file_has "$VFIOD_LOG" "an operation whose caller got Timeout ended" \
    || { tail -30 "$VFIOD_LOG"; e2e_fail "vfiod logged no end of the hung write within 60 s of the kill"; }
_e2e_secs "$T_KILL"; echo "vfiod ${E2E_SECS}s after the kill: $LINE"; _cmd_timing "kill of the holder to vfiod's put-back line" "$E2E_SECS"
e2e_await 10 _file_has "$VFIOD_LOG" "an operation whose caller got Timeout ended" && echo "vfiod: $LINE"
DRV=$(e2e_pci_driver "$BDF") OVR=$(<"/sys/bus/pci/devices/$BDF/driver_override")
# the fault: a forced Restore whose unbind the kernel holds past the timeout, a second call on the held device, the
# NVMe (another group) moved to vfio-pci and back meanwhile, then the holder killed
e2e_lost "$BDF" vfio-pci e1000e; lost=$E2E_LOST
e2e_lost "$NV" nvme vfio-pci; lost=$((lost + E2E_LOST))
e2e_fault "forced Restore of a device held through VFIO: unbind blocked past the timeout, holder killed" "$lost"
echo "after the hang: driver '$DRV', driver_override '$OVR' (during the hang the link said '$DRV_DURING')"
grep -F "$BDF" "$RES/kmsg.log" | grep -v 'BAR\|reg 0x\|enabling device' | tail -12 | sed 's/^/  kmsg| /'
e2e_assert "the device is on a driver (got '$DRV')" test -n "$DRV"
case "$DRV" in
    vfio-pci) e2e_assert_eq "$OVR" vfio-pci "driver_override matches vfio-pci (rolled back)" ;;
    e1000e) e2e_assert_eq "$OVR" "(null)" "driver_override matches e1000e (finished)" ;;
    *) e2e_fail "the device ended on $DRV" ;;
esac
vfiod_await_prop "$BDF" Driver "$DRV" 10 || e2e_fail "the Driver property says '$VFIOD_VALUE', sysfs '$DRV'"
echo "ok: the Driver property says $DRV"
e2e_assert_eq "$HANG_ERR" org.vfiod1.Error.Timeout "the hanging Restore's error"
e2e_assert "the reply came within ${HANG_TIMEOUT_MS} ms + 2 s (${HANG_MS} ms)" test "${HANG_MS%.*}" -lt $((HANG_TIMEOUT_MS + 2000))
e2e_assert "the kernel asked for the device (No device request channel registered)" test -n "$T_REQ"
e2e_assert "a second call on the held device was answered within its timeout + 2 s (${WEDGED_MS} ms: ${WEDGED_ERR:-no error})" \
    test -n "$WEDGED_ERR" -a "${WEDGED_MS%.*}" -lt 5000
# its group is shut while the write hangs: Busy at once, without reading the device the kernel holds
e2e_assert_eq "$WEDGED_ERR" org.vfiod1.Error.Busy "the second call's error"
e2e_assert "reads were answered during the hang ($n rounds)" test "$n" -ge 3
e2e_assert "no read failed during the hang" test "$errs" = 0
# A read that waited for the held device takes until the kernel lets go: seconds; none may. Single reads of 200 ms to
# 1 s with the bus quick beside them come from the one-vCPU TCG guest on a loaded host (JVM safepoints of up to 234 ms
# were seen before any hang): as in scenario-hang, up to 1 round in 20 is reported, more fails.
e2e_assert "no read during the hang waited for the device (>= 1 s: $blocked; max Get ${gmax} ms, ListDevices ${lmax} ms)" test "$blocked" = 0
e2e_assert "reads of 200 ms or more with the bus quick: $slow of $n rounds (at most 1 in 20; $starved starved round(s))" test $((slow * 20)) -le "$n"
[ "$slow" = 0 ] || NOTES+=("$slow of $n read round(s) during the hang took 200-1000 ms with the bus's GetId quick beside them")
[ "$starved" = 0 ] || NOTES+=("$starved read round(s) during the hang took 200-1000 ms while dbus-daemon's own GetId was >= 100 ms too: the host was loaded")
if [ "$DRV" = vfio-pci ]; then
    e2e_time "busctl Restore (after the rollback)" vfiod_manager Restore 'sa{sv}' "$BDF" 0 || e2e_fail "Restore after the rollback: $VFIOD_ERR"
fi
e2e_assert_eq "$(e2e_pci_driver "$BDF")" e1000e "back on e1000e"
e2e_assert_eq "$(<"/sys/bus/pci/devices/$BDF/driver_override")" "(null)" "driver_override at the end"

e2e_step "stop vfiod"
vfiod_stop || e2e_fail "vfiod did not stop cleanly"
kill "$DMESG_PID" 2>/dev/null
e2e_step_end
{
    echo "Restore refused by a VFIO holder (InUse): ${INUSE_MS} ms the call ($INUSE_HOW), ${INUSE_WALL_MS} ms the client process"
    echo "hanging Restore (force, timeout ${HANG_TIMEOUT_MS} ms): ${HANG_ERR} after ${HANG_MS} ms the call, ${HANG_WALL_MS} ms to the client's exit"
    echo "reads during the hang: $n rounds, max Get(Driver) ${gmax} ms, max ListDevices ${lmax} ms (dbus-daemon GetId: max ${pmax} ms; $starved round(s) >= 200 ms with the guest starved)"
    echo "a second Restore (timeout 3000) of the held device during the hang: ${WEDGED_ERR:-no error} after ${WEDGED_MS} ms: $WEDGED_MSG"
} | tee "$RES/inuse-summary.txt"
for l in "${NOTES[@]}"; do echo "NOTE: $l"; done
echo "SCENARIO-INUSE: OK"
