# Guest side of e2e/scenario-systemd.sh, boot 1 (runs as e2e-run.service under systemd as PID 1, as root, with the
# vfiod .deb installed by dpkg; see e2e/guest/systemd-init.sh). vfiod runs only as the package ships it: started by
# D-Bus activation or by systemd's Restart=, under vfiod.service's sandbox, logging to the journal. The steps:
#   1. D-Bus activation (busctl, then the package's vfioctl), and the sandbox vfiod runs in (capabilities, no_new_privs, seccomp, its own mount namespace,
#      /proc with hidepid=ptraceable);
#   2. the host-use check inside that sandbox: the NIC up with an address, the NVMe mounted, a node of the NVMe
#      that a process of another uid (nobody) holds open: each InUse naming the user; once free, Rebind and Restore;
#   3. the access grant from inside the sandbox: Assign of the NVMe with owner = a test user, who then opens it
#      (vfio-open), nobody cannot, and Release takes the ACL entry back;
#   5. systemctl stop while a Rebind waits in the kernel (the variant driver's slow probe): the stop waits for it,
#      and the device ends on the asked driver or the old one, never on none;
#   6. systemctl kill -s KILL in the middle of a Rebind: systemd restarts vfiod (Restart=on-failure), and its
#      journal in /run/vfiod (RuntimeDirectoryPreserve=) puts the device back;
#   4. the watchdog: vfiod's device-event worker wedged in the kernel (a read of a device whose probe holds its lock:
#      the edu's, whose driver vfiod_test_edu makes boot_vga wait for the lock on every kernel), systemd kills vfiod
#      (WatchdogSec=30s) and restarts it;
#   7. the bus daemon restarted: vfiod exits 4, systemd restarts it, it answers again;
#   8. Rebind of 0000:00:03.0 to vfio-pci with persist: the rule file and 61-vfiod.rules, written from inside the
#      sandbox, go to /results/persisted for boot 2.
# (Steps 4-6 run in the order 5, 6, 4: a clean stop lets the launcher record its class archive, so the restarts after
# it take less time.) Each injected fault adds "<fault>\t<devices lost>" to /results/faults.
set -u
. /vfiod/e2e/guest/lib.sh
. /vfiod/e2e/guest/vfiod-lib.sh
RES=${E2E_RESULTS:-/results}
BDF=0000:00:03.0          # the e1000e every step moves
WEDGE=""; PEER=""         # behind the PCIe-to-PCI bridge, one IOMMU group: the edu and an e1000
for d in /sys/bus/pci/devices/*; do
    case "$(<"$d/vendor"):$(<"$d/device")" in
        0x1234:0x11e8) WEDGE=${d##*/} ;;   # the watchdog step wedges vfiod on it
        0x8086:0x100e) PEER=${d##*/} ;;    # an event about it makes vfiod read the group
    esac
done
EDU=vfiod_test_edu        # the edu's driver, insmod'ed with lock_reader=1 by scenario-systemd-preboot.sh
MOD=vfiod_test_vfio_pci   # the variant driver (scenario-systemd-preboot.sh laid its module tree over the kernel's)
PD=/sys/module/$MOD/parameters/probe_delay_ms
VO=/vfiod/.cache/e2e/bin/vfio-open
MNT=/mnt/inuse
ADDR=192.0.2.10/24
mkdir -p "$VFIOD_RUN"
_cmd_timing() { printf 'cmd\t%s\t%s\n' "$1" "$2" >> "$E2E_TIMINGS"; }

# ---- helpers: the unit, the journal, faults ------------------------------------------------------------------
# sd_show: vfiod.service's state in SD_ACTIVE, SD_SUB, SD_PID, SD_RESTARTS, SD_RESULT, SD_STATUS (last exit status)
sd_show() {
    local k v
    while IFS='=' read -r k v; do
        case "$k" in
            ActiveState) SD_ACTIVE=$v ;; SubState) SD_SUB=$v ;; MainPID) SD_PID=$v ;; NRestarts) SD_RESTARTS=$v ;;
            Result) SD_RESULT=$v ;; ExecMainStatus) SD_STATUS=$v ;;
        esac
    done < <(systemctl show vfiod.service -p ActiveState,SubState,MainPID,NRestarts,Result,ExecMainStatus)
}
sd_print() { sd_show; echo "vfiod.service: $SD_ACTIVE/$SD_SUB MainPID=$SD_PID NRestarts=$SD_RESTARTS Result=$SD_RESULT ExecMainStatus=$SD_STATUS"; }
# sd_await_active SECS [OLDPID]: until vfiod.service is active/running (with a MainPID other than OLDPID)
sd_await_active() {
    local end=$(( ${EPOCHREALTIME/./} + $1 * 1000000 ))
    while :; do
        sd_show
        [ "$SD_ACTIVE" = active ] && [ "$SD_SUB" = running ] && [ "$SD_PID" != 0 ] && [ "$SD_PID" != "${2:-}" ] && return 0
        [ "${EPOCHREALTIME/./}" -lt $end ] || return 1
        e2e_pause 0.5
    done
}
# sd_journal FILE: vfiod's unit journal of this boot (the daemon's log, systemd's lines about the unit)
sd_journal() { journalctl -b -u vfiod.service --no-pager -o short-monotonic > "$1" 2>&1; }
# sd_journal_has TEXT [SINCE_CURSOR]: the unit's journal (since the cursor) has a line containing TEXT; it is in LINE
sd_journal_has() {
    local l
    LINE=""
    while IFS= read -r l; do [[ $l == *"$1"* ]] && { LINE=$l; return 0; }; done \
        < <(journalctl -b -u vfiod.service --no-pager -o cat ${2:+--after-cursor="$2"} 2>/dev/null)
    return 1
}
# sd_cursor: the journal's cursor now, in CURSOR
sd_cursor() { CURSOR=$(journalctl -n 0 --show-cursor --no-pager 2>/dev/null | sed -n 's/^-- cursor: //p'); }
# snapshot: the PCI devices that have a driver now, in SNAP; lost_since: how many of them have none now, or are not
# on vfiod's bus, in LOST (a list of them in LOST_WHICH)
snapshot() { local d; SNAP=(); for d in /sys/bus/pci/devices/*; do [ -e "$d/driver" ] && SNAP+=("${d##*/}"); done; }
lost_since() {
    local b list
    LOST=0 LOST_WHICH=""
    list=$(vfiod_busctl call org.vfiod /org/vfiod org.vfiod1.Manager ListDevices 2>&1)
    for b in "${SNAP[@]}"; do
        vfiod_device_path "$b"
        if [ ! -e "/sys/bus/pci/devices/$b/driver" ] || [[ $list != *"\"$VFIOD_PATH\""* ]]; then
            LOST=$((LOST + 1)); LOST_WHICH+=" $b"
        fi
    done
}
# fault DESCRIPTION: the harness's faults protocol, with the devices lost since the snapshot
fault() {
    lost_since
    printf '%s\t%s\n' "$1" "$LOST" >> "$RES/faults"
    echo "fault: $1: $LOST device(s) lost${LOST_WHICH:+:$LOST_WHICH}"
}
# rt_files: the files in vfiod's runtime directory (its journal), in RT_FILES; not an atomic write's temporary file
rt_files() {
    local f
    RT_FILES=()
    shopt -s globstar nullglob dotglob
    for f in /run/vfiod/**; do [ -f "$f" ] && [[ ${f##*/} != .* ]] && RT_FILES+=("$f"); done
    shopt -u globstar nullglob dotglob
}
# kmsg_has TEXT [AFTER_LINE]: the kernel log (followed into kmsg.log) has a line with TEXT after line AFTER_LINE
kmsg_has() {
    local l n=0
    while IFS= read -r l; do
        n=$((n + 1))
        [ "$n" -gt "${2:-0}" ] && [[ $l == *"$1"* ]] && return 0
    done < "$RES/kmsg.log"
    return 1
}
kmsg_lines() { local n=0 l; while IFS= read -r l; do n=$((n + 1)); done < "$RES/kmsg.log"; KLINES=$n; }
# call_bg OUT METHOD BDF OPTS...: busctl Manager call in the background (PID in CALL_PID), its output in OUT.{out,err}
call_bg() {
    local out=$1 m=$2 b=$3
    shift 3
    busctl --system --timeout=300 call org.vfiod /org/vfiod org.vfiod1.Manager "$m" 'sa{sv}' "$b" "$@" \
        > "$out.out" 2> "$out.err" &
    CALL_PID=$!
}
# the variant's probe is sleeping for BDF (a move is in the kernel)
probe_sleeping() { kmsg_has "$1: $MOD: probe_delay_ms is set: sleeping" "$KSTART"; }

# ---- 1. the package, and D-Bus activation --------------------------------------------------------------------
e2e_step "1. the package and the system"
st=$(dpkg-query -W -f '${Status} ${Version}' vfiod 2>&1)
echo "dpkg: vfiod $st"
e2e_assert "dpkg installed the package (exit $(<"$RES/dpkg-install.rc"))" test -z "${st##install ok installed *}"
echo "systemd: $(systemctl is-system-running 2>&1); failed units: $(systemctl --failed --no-legend --plain 2>&1 | tr '\n' ' ')"
e2e_assert_eq "$(systemctl is-enabled vfiod.service 2>&1)" enabled "the postinst enabled vfiod.service"
sd_print
e2e_assert_eq "$SD_ACTIVE" inactive "vfiod does not run before the first call (e2e.target starts no multi-user.target)"
# e2e.target waits for basic.target, not for udevd's coldplug: systemd-udev-trigger queues the events before
# udevd runs, and udevd works through them (module loads included) while this script starts. On 6.12 the e1000e
# was still unbound here once; wait for the queue as any unit that needs the devices would.
t=${EPOCHREALTIME/./}
udevadm settle --timeout=180 || e2e_fail "udevd's coldplug did not settle within 180 s"
_e2e_secs "$t"; echo "udevadm settle: ${E2E_SECS} s"
e2e_assert_eq "$(e2e_pci_driver "$BDF")" e1000e "udevd's coldplug bound e1000e to $BDF"
e2e_assert "an edu and an e1000 behind the bridge" test -n "$WEDGE" -a -n "$PEER"
e2e_assert_eq "$(e2e_pci_driver "$WEDGE")" "$EDU" "$EDU (insmod'ed before systemd) drives the edu $WEDGE"
e2e_assert "$EDU published the edu's boot_vga (lock_reader)" test -e "/sys/bus/pci/devices/$WEDGE/boot_vga"
e2e_assert_eq "$(e2e_pci_driver "$PEER")" e1000 "udevd's coldplug bound e1000 to $PEER"
e2e_assert_eq "$(e2e_pci_group "$PEER")" "$(e2e_pci_group "$WEDGE")" "$WEDGE and $PEER share an IOMMU group"
NV=$(e2e_pci_find 1b36 0010) || e2e_fail "no NVMe (1b36:0010)"
e2e_await 60 e2e_driver_is "$NV" nvme || e2e_fail "nvme did not bind $NV"
dmesg -w > "$RES/kmsg.log" 2>&1 &
DMESG_PID=$!
KSTART=0

e2e_step "1. a call starts vfiod by D-Bus activation"
t=${EPOCHREALTIME/./}
busctl --system --timeout=300 call org.vfiod /org/vfiod org.vfiod1.Manager ListDevices > "$RES/activation.out" 2>&1
arc=$?
_e2e_secs "$t"; ACT_SECS=$E2E_SECS
echo "the first ListDevices (exit $arc, ${ACT_SECS}s): $(head -c 300 "$RES/activation.out")"
if [ "$arc" != 0 ]; then
    # the bus gives an activation 25 s (service_start_timeout); a JVM without its class archive under TCG may take
    # longer, and then the caller gets TimedOut while systemd goes on starting the unit
    echo "NOTE: the activating call failed after ${ACT_SECS}s (the bus's activation timeout is 25 s); systemd goes on starting vfiod"
fi
_cmd_timing "first call (D-Bus activation) answered or failed" "$ACT_SECS"
sd_await_active 300 || { sd_print; e2e_fail "vfiod.service did not become active"; }
_e2e_secs "$t"; _cmd_timing "first call to vfiod.service active" "$E2E_SECS"
sd_print
# "Activating via systemd: ..." or, while systemd is not on the bus yet, "Activating systemd to hand-off: ..."
e2e_assert "dbus-daemon asked systemd to start vfiod.service for the call" \
    bash -c "journalctl -b -u dbus.service -o cat --no-pager | grep -F \"service name='org.vfiod' unit='vfiod.service' requested by\""
PID=$SD_PID
e2e_assert_eq "$(</proc/$PID/comm)" java "vfiod's main process is the JVM the launcher execs"
vfiod_busctl call org.vfiod /org/vfiod org.vfiod1.Manager ListDevices > "$RES/list.out" 2>&1 || e2e_fail "ListDevices: $(<"$RES/list.out")"
e2e_assert "ListDevices names $BDF" grep -qF "pci_0000_3a00_3a03_2e0" "$RES/list.out"
# the package's own client, as an admin would call it
e2e_time "vfioctl list (the package's client)" bash -c 'vfioctl list > "$1" 2>&1' _ "$RES/vfioctl-list.out" \
    || e2e_fail "vfioctl list: $(<"$RES/vfioctl-list.out")"
sed 's/^/  vfioctl| /' "$RES/vfioctl-list.out"
e2e_assert "vfioctl list shows $BDF" grep -qF "00:03.0" "$RES/vfioctl-list.out"

e2e_step "1. the sandbox vfiod runs in"
while IFS=$':\t ' read -r k v; do
    case "$k" in CapBnd|CapEff|CapPrm|CapAmb|NoNewPrivs|Seccomp) printf -v "ST_$k" '%s' "$v"; echo "  /proc/$PID/status $k: $v" ;; esac
done < "/proc/$PID/status"
# CAP_DAC_READ_SEARCH (2), CAP_NET_ADMIN (12), CAP_SYS_MODULE (16), CAP_SYS_PTRACE (19): the unit's CapabilityBoundingSet=
e2e_assert_eq "$ST_CapBnd" 0000000000091004 "bounding set = CAP_DAC_READ_SEARCH CAP_NET_ADMIN CAP_SYS_MODULE CAP_SYS_PTRACE"
e2e_assert_eq "$ST_CapEff" 0000000000091004 "effective capabilities (root within that set)"
e2e_assert_eq "$ST_NoNewPrivs" 1 "no_new_privs (NoNewPrivileges=yes)"
e2e_assert_eq "$ST_Seccomp" 2 "a seccomp filter (SystemCallFilter=)"
e2e_assert "its own mount namespace (ProtectSystem=, PrivateTmp=, PrivateMounts=)" \
    test "$(readlink /proc/$PID/ns/mnt)" != "$(readlink /proc/1/ns/mnt)"
e2e_assert "its own IPC namespace (PrivateIPC=)" test "$(readlink /proc/$PID/ns/ipc)" != "$(readlink /proc/1/ns/ipc)"
e2e_assert "the host's network namespace (uevents)" test "$(readlink /proc/$PID/ns/net)" = "$(readlink /proc/1/ns/net)"
grep -E ' /proc | /usr | /sys | /etc/vfiod | /tmp | /dev ' "/proc/$PID/mountinfo" | sed 's/^/  mountinfo| /'
e2e_assert "its /proc has hidepid=ptraceable (ProtectProc=)" grep -qE ' /proc .*hidepid=(ptraceable|4)' "/proc/$PID/mountinfo"
e2e_assert "its /usr is read-only (ProtectSystem=strict)" grep -qE '^[0-9]+ [0-9]+ [0-9:]+ [^ ]+ /usr ro,' "/proc/$PID/mountinfo"
e2e_assert "its /sys is writable (ReadWritePaths=/sys)" grep -qE '^[0-9]+ [0-9]+ [0-9:]+ [^ ]+ /sys rw,' "/proc/$PID/mountinfo"
systemctl show vfiod.service -p WatchdogUSec,Restart,KillMode,TimeoutStopUSec,RuntimeDirectoryPreserve | sed 's/^/  unit| /'

# sd_activate: vfiod answers ListDevices; if it is not running, the call activates it (a call that times out while
# the JVM starts is repeated once the unit is active)
sd_activate() {
    vfiod_busctl call org.vfiod /org/vfiod org.vfiod1.Manager ListDevices > /dev/null 2>&1 && return 0
    sd_await_active 300 || { sd_print; e2e_fail "vfiod.service did not become active"; }
    vfiod_busctl call org.vfiod /org/vfiod org.vfiod1.Manager ListDevices > /dev/null 2>&1 || e2e_fail "vfiod does not answer"
}
# refusal METHOD BDF: a Manager call as gdbus prints it (the error's D-Bus name with its message), in OUT
refusal() {
    OUT=$(gdbus call --system --timeout 300 --dest org.vfiod --object-path /org/vfiod --method "org.vfiod1.Manager.$1" "$2" "{}" 2>&1)
    echo "$1 $2: $OUT"
}
# rebind BDF, restore BDF: the call, timed; the scenario fails if vfiod refuses it
rebind() { e2e_time "Rebind $1" vfiod_manager Rebind 'sa{sv}' "$1" 0 || e2e_fail "Rebind $1: $VFIOD_ERR"; }
restore() { e2e_time "Restore $1" vfiod_manager Restore 'sa{sv}' "$1" 0 || e2e_fail "Restore $1: $VFIOD_ERR"; }
# consistent BDF: on a driver, with a driver_override to match (the asked vfio driver, or the host driver with none)
consistent() {
    local drv ovr
    drv=$(e2e_pci_driver "$1"); ovr=$(<"/sys/bus/pci/devices/$1/driver_override")
    echo "$1: driver '$drv', driver_override '$ovr'"
    case "$drv/$ovr" in
        "$MOD/$MOD"|"vfio-pci/vfio-pci"|"e1000e/(null)") return 0 ;;
        *) return 1 ;;
    esac
}

# ---- 2. the host-use check inside the sandbox ----------------------------------------------------------------
e2e_step "2. in use: the NIC up with an address"
IFS_=(/sys/bus/pci/devices/"$BDF"/net/*); IF=${IFS_[0]##*/}
[ -n "$IF" ] && [ "$IF" != "*" ] || e2e_fail "no network interface under $BDF"
ip link set "$IF" up && ip addr add $ADDR dev "$IF" || e2e_fail "ip on $IF"
refusal Rebind "$BDF"
e2e_assert "InUse naming $IF and $ADDR" test -z "${OUT##*org.vfiod1.Error.InUse*"$IF is up with $ADDR"*}"
e2e_assert_eq "$(e2e_pci_driver "$BDF")" e1000e "$BDF still on e1000e"
ip link set "$IF" down

e2e_step "2. in use: the NVMe mounted"
NS=""; for n in /sys/bus/pci/devices/"$NV"/nvme/nvme*/nvme*n1; do [ -e "$n" ] && NS=${n##*/}; done
[ -n "$NS" ] && [ -b "/dev/$NS" ] || e2e_fail "no namespace block device under $NV"
mkfs.ext4 -q -F "/dev/$NS" || e2e_fail "mkfs on /dev/$NS"
mkdir -p $MNT && mount -t ext4 "/dev/$NS" $MNT || e2e_fail "mount /dev/$NS"
refusal Rebind "$NV"
e2e_assert "InUse naming the mount" test -z "${OUT##*org.vfiod1.Error.InUse*"$NS is mounted at $MNT"*}"
umount $MNT

e2e_step "2. in use: a node held open by another uid"
# the shell opens the node as root; setpriv drops to nobody and execs sleep, which keeps the descriptor: a process
# of another uid, whose /proc/PID/fd only a reader with CAP_DAC_READ_SEARCH (to list it) and CAP_SYS_PTRACE (to read
# its links; ProtectProc=ptraceable) can see
setpriv --reuid=65534 --regid=65534 --clear-groups sleep 600 3< "/dev/$NS" &
HOLDER=$!
e2e_await 10 test -e "/proc/$HOLDER/fd/3" || e2e_fail "the holder did not start"
e2e_pause 0.5
echo "holder: pid $HOLDER uid $(stat -c %u /proc/$HOLDER) fd 3 -> $(readlink /proc/$HOLDER/fd/3) ($(</proc/$HOLDER/comm))"
e2e_assert_eq "$(stat -c %u /proc/$HOLDER)" 65534 "the holder runs as nobody"
refusal Rebind "$NV"
e2e_assert "InUse naming /dev/$NS and pid $HOLDER" test -z "${OUT##*org.vfiod1.Error.InUse*"/dev/$NS is open by pid $HOLDER (sleep)"*}"
e2e_assert_eq "$(e2e_pci_driver "$NV")" nvme "$NV still on nvme"
kill "$HOLDER"; wait "$HOLDER" 2>/dev/null

e2e_step "2. free: Rebind and Restore"
# a dry-run Restore answers what the Restore then answers: the host driver the probe binds, found in the kernel's
# own modules.alias (the sandbox reads /usr/lib/modules)
dry_restore() {
    vfiod_manager Restore 'sa{sv}' "$1" 1 dry-run b true || e2e_fail "dry-run Restore $1: $VFIOD_ERR"
    DRY=$VFIOD_REPLY
    echo "dry-run Restore of $1: $DRY"
}
rebind "$BDF"; e2e_assert_eq "$(e2e_pci_driver "$BDF")" "$MOD" "$BDF on the variant driver (modprobe'd from the sandbox)"
dry_restore "$BDF"
restore "$BDF"; e2e_assert_eq "$(e2e_pci_driver "$BDF")" e1000e "$BDF back on e1000e"
e2e_assert_eq "$DRY" "$VFIOD_REPLY" "the dry-run Restore of $BDF answered what the Restore did"
rebind "$NV"; e2e_assert_eq "$(e2e_pci_driver "$NV")" vfio-pci "$NV on vfio-pci"
dry_restore "$NV"
restore "$NV"; e2e_assert_eq "$(e2e_pci_driver "$NV")" nvme "$NV back on nvme"
e2e_assert_eq "$DRY" "$VFIOD_REPLY" "the dry-run Restore of $NV answered what the Restore did"

# ---- 3. the access grant -------------------------------------------------------------------------------------
# Assign of the NVMe with owner = a test user, from inside the sandbox: the ACL entry lands on the host's
# /dev/vfio/<group> (DevicePolicy= governs opening nodes, not setxattr on them), that user opens the container, the
# group and the device, nobody cannot, and Release takes the entry back.
grant_under_sandbox() {
    e2e_step "3. the access grant, from inside the sandbox"
    local u=vfiod-vm1 uid g out rc
    id "$u" >/dev/null 2>&1 || useradd --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$u" \
        || e2e_fail "useradd $u"
    uid=$(id -u "$u"); g=$(e2e_pci_group "$NV")
    out=$(gdbus call --system --timeout 300 --dest org.vfiod --object-path /org/vfiod --method org.vfiod1.Manager.Assign \
        "$NV" "{'owner': <uint32 $uid>}" 2>&1) || e2e_fail "Assign $NV with owner $uid: $out"
    echo "Assign $NV owner $uid: $out"
    e2e_assert_eq "$(e2e_pci_driver "$NV")" vfio-pci "$NV on vfio-pci"
    getfacl -n -p "/dev/vfio/$g" | sed 's/^/  acl| /'
    e2e_assert "user:$uid:rw- on /dev/vfio/$g" grep -qx "user:$uid:rw-" <(getfacl -n -p -c "/dev/vfio/$g")
    out=$(setpriv --reuid "$u" --regid "$u" --init-groups --inh-caps=-all --bounding-set=-all -- "$VO" "$NV" 2>&1); rc=$?
    echo "$out" | sed 's/^/  vfio-open as '"$u"'| /'
    e2e_assert_eq "$rc" 0 "vfio-open as $u opens the container, the group and the device"
    e2e_assert "it opened /dev/vfio/$g" grep -qx "opened=/dev/vfio/$g" <<< "$out"
    setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all --bounding-set=-all -- "$VO" "$NV" > /dev/null 2>&1
    e2e_assert "nobody cannot open it" test $? != 0
    out=$(gdbus call --system --timeout 300 --dest org.vfiod --object-path /org/vfiod --method org.vfiod1.Manager.Release \
        "$NV" "{}" 2>&1) || e2e_fail "Release $NV: $out"
    echo "Release $NV: $out"
    e2e_assert "Release took the access back" grep -q "take back the access of uid $uid to /dev/vfio/$g" <<< "$out"
    e2e_assert_eq "$(e2e_pci_driver "$NV")" nvme "$NV back on nvme"
}
grant_under_sandbox

# ---- 5. systemctl stop during a move ------------------------------------------------------------------------
e2e_step "5. systemctl stop while a Rebind is in the kernel"
snapshot
sd_show; PID=$SD_PID
echo 8000 > "$PD" || e2e_fail "probe_delay_ms"
kmsg_lines; KSTART=$KLINES
call_bg "$RES/stop-rebind" Rebind "$BDF" 1 timeout u 120000
e2e_await 60 probe_sleeping "$BDF" || e2e_fail "the variant's probe did not start"
t=${EPOCHREALTIME/./}
systemctl stop vfiod.service; src=$?
_e2e_secs "$t"; STOP_SECS=$E2E_SECS
_cmd_timing "systemctl stop during the probe's 8 s" "$STOP_SECS"
slept=no; kmsg_has "$BDF: $MOD: slept" "$KSTART" && slept=yes
echo "systemctl stop: exit $src after ${STOP_SECS}s; the probe had returned by then: $slept"
sd_print
wait "$CALL_PID"; crc=$?
echo "the Rebind caller (exit $crc): $(<"$RES/stop-rebind.out") $(<"$RES/stop-rebind.err")"
e2e_assert_eq "$src" 0 "systemctl stop succeeded"
e2e_assert_eq "$slept" yes "the stop returned only after the kernel's probe did (vfiod drained its move)"
e2e_assert_eq "$SD_ACTIVE/$SD_RESULT" inactive/success "vfiod.service stopped cleanly (exit 143 is SuccessExitStatus=)"
e2e_assert "vfiod logged its drain" e2e_await 20 sd_journal_has "stopping: letting the operation in flight finish or roll back"
e2e_assert "$BDF ends on the asked driver or the old one, never on none" consistent "$BDF"
echo 0 > "$PD"
sd_activate
fault "systemctl stop vfiod during a Rebind (the probe sleeping 8 s)"
[ "$(e2e_pci_driver "$BDF")" = e1000e ] || restore "$BDF"

# ---- 6. systemctl kill -s KILL during a move ----------------------------------------------------------------
e2e_step "6. systemctl kill -s KILL in the middle of a Rebind"
snapshot
sd_show; OLD=$SD_PID NR=$SD_RESTARTS
sd_cursor; C6=$CURSOR
rt_files; BASE=("${RT_FILES[@]}")
echo 8000 > "$PD"
kmsg_lines; KSTART=$KLINES
call_bg "$RES/kill-rebind" Rebind "$BDF" 1 timeout u 120000
e2e_await 60 probe_sleeping "$BDF" || e2e_fail "the variant's probe did not start"
rt_files; JFILES=()
for f in "${RT_FILES[@]}"; do [[ " ${BASE[*]} " == *" $f "* ]] || JFILES+=("$f"); done
echo "the journal of the move in flight: ${JFILES[*]}"
e2e_assert "a journal record is in /run/vfiod (RuntimeDirectory=)" test "${#JFILES[@]}" -gt 0
t=${EPOCHREALTIME/./}
systemctl kill -s KILL vfiod.service || e2e_fail "systemctl kill"
wait "$CALL_PID"; crc=$?
echo "the Rebind caller (exit $crc): $(<"$RES/kill-rebind.out") $(<"$RES/kill-rebind.err")"
e2e_assert "the killed Rebind got no reply" test "$crc" != 0
sd_await_active 300 "$OLD" || { sd_print; e2e_fail "vfiod was not restarted"; }
_e2e_secs "$t"; _cmd_timing "kill -9 to the restarted vfiod active (reconcile included)" "$E2E_SECS"
sd_print
e2e_assert_eq "$SD_RESTARTS" $((NR + 1)) "systemd restarted it (Restart=on-failure), NRestarts"
sd_journal_has "Main process exited" "$C6" && echo "systemd: $LINE"
journalctl -b -u vfiod.service -o cat --no-pager --after-cursor="$C6" | grep -i reconcil | sed 's/^/  vfiod| /'
e2e_assert "the restarted vfiod reconciled the journal" e2e_await 20 sd_journal_has "reconcile: " "$C6"
echo "vfiod: $LINE"
e2e_assert "the move was rolled back or kept as completed" test -z "${LINE##*was rolled back*}" -o -z "${LINE##*had completed*}"
e2e_assert "$BDF is on its prior driver (or the completed one)" consistent "$BDF"
for f in "${JFILES[@]}"; do e2e_assert "the journal record $f is gone" test ! -e "$f"; done
vfiod_prop "$BDF" Recovery; echo "Recovery: $VFIOD_VALUE"
echo 0 > "$PD"
fault "systemctl kill -s KILL vfiod during a Rebind (the probe sleeping 8 s)"
[ "$(e2e_pci_driver "$BDF")" = e1000e ] || restore "$BDF"

# ---- 4. the watchdog ----------------------------------------------------------------------------------------
e2e_step "4. the watchdog: vfiod's device-event worker wedged in the kernel"
# vfiod's loop is wedged for real, not stopped: the edu's probe (started by hand, behind vfiod's back) sleeps 45 s
# holding the device's lock, and a read of its attributes that takes that lock waits in the kernel. An "add" event
# for $PEER, the e1000 behind the same bridge and so in the same IOMMU group, passes udevd; vfiod's event worker
# then reads the whole group again (an add may change membership), reaches $WEDGE and waits in the kernel: on 6.1 in
# driver_override's read (the PCI core's, under the device lock), on every kernel in boot_vga's (vfiod_test_edu's,
# lock_reader; from 6.12.94 driver_override takes a spinlock and no attribute of the PCI core that vfiod reads
# waits for a hung probe, see e2e/edu/vfiod_test_edu.c). The bus reader still answers; the worker does not, so vfiod
# stops the pings and systemd (WatchdogSec=30s) aborts it.
# (SIGSTOP would only be a stand-in: every thread stopped at once, and the abort held until a SIGCONT or SIGKILL.)
rebind "$BDF"   # a device vfiod moved, whose state must survive the restart
snapshot
# $WEDGE is moved by hand below, behind vfiod's back: what becomes of it is not vfiod's doing
keep=(); for b in "${SNAP[@]}"; do [ "$b" = "$WEDGE" ] || keep+=("$b"); done; SNAP=("${keep[@]}")
sd_show; OLD=$SD_PID NR=$SD_RESTARTS
sd_cursor; C4=$CURSOR
EPD=/sys/module/$EDU/parameters/probe_delay_ms
echo 45000 > "$EPD"
kmsg_lines; KSTART=$KLINES
W=/sys/bus/pci/devices/$WEDGE
echo "$WEDGE" > "/sys/bus/pci/drivers/$EDU/unbind" || e2e_fail "unbind $WEDGE by hand"
( echo "$WEDGE" > /sys/bus/pci/drivers_probe ) &
PROBE=$!
edu_sleeping() { kmsg_has "$WEDGE: $EDU: probe_delay_ms is set: sleeping" "$KSTART"; }
e2e_await 60 edu_sleeping || e2e_fail "the probe of $WEDGE did not start"
T_WEDGE=${EPOCHREALTIME/./}
echo add > "/sys/bus/pci/devices/$PEER/uevent"
# systemd is asked, not the journal: on 6.1 journald itself waits for the same lock while the probe sleeps (it reads
# the device of each kernel message, and the "sleeping" line names $WEDGE), so the journal lags until then
FIRED=""
end=$(( T_WEDGE + 90 * 1000000 ))
until [ -n "$FIRED" ]; do
    sd_show
    [ "$SD_SUB" = stop-watchdog ] || [ "$SD_RESULT" = watchdog ] && FIRED=${EPOCHREALTIME/./}
    [ "${EPOCHREALTIME/./}" -lt $end ] || break
    [ -n "$FIRED" ] || e2e_pause 0.5
done
[ -n "$FIRED" ] || { sd_print; e2e_fail "systemd's watchdog did not fire within 90 s of the wedge"; }
# where the worker waits: its kernel stack, while the probe still sleeps (the aborted JVM cannot exit before then)
WSTACK=""
for t in /proc/"$OLD"/task/*; do
    [ "$(cat "$t/comm" 2>/dev/null)" = device-events ] || continue
    WSTACK=$(cat "$t/stack" 2>/dev/null); break
done
printf '%s\n' "$WSTACK" > "$RES/wedge-stack.txt"
echo "vfiod's device-events thread, in the kernel:"; printf '%s\n' "$WSTACK" | head -6 | sed 's/^/  /'
e2e_assert "vfiod's event worker waits in a read of $WEDGE that takes its device lock" \
    test -n "$(printf '%s\n' "$WSTACK" | grep -E 'boot_vga_show|driver_override_show')"
_e2e_secs "$T_WEDGE"; WD_SECS=$E2E_SECS
sd_print
echo "systemd's watchdog fired ${WD_SECS}s after the wedge (seen by polling systemctl show every 0.5 s)"
_cmd_timing "wedge to systemd's watchdog firing" "$WD_SECS"
e2e_assert "the watchdog fired within WatchdogSec (30 s) + 15 s of the wedge" test "${WD_SECS%.*}" -lt 45
sd_await_active 300 "$OLD" || { sd_print; e2e_fail "vfiod was not restarted after the watchdog"; }
_e2e_secs "$T_WEDGE"; _cmd_timing "wedge to the restarted vfiod active" "$E2E_SECS"
sd_print
wait "$PROBE"
echo 0 > "$EPD"
fault "vfiod's device-event worker wedged in the kernel for 45 s (watchdog)"
e2e_assert_eq "$SD_RESTARTS" $((NR + 1)) "systemd restarted it, NRestarts"
e2e_assert "vfiod logged which loop stopped the pings" e2e_await 20 sd_journal_has "not feeding the watchdog: the device-event worker" "$C4"
echo "vfiod: $LINE"
e2e_assert "systemd logged the watchdog timeout" e2e_await 20 sd_journal_has "Watchdog timeout" "$C4"
echo "systemd: $LINE"
e2e_assert "systemd logged the watchdog result" e2e_await 20 sd_journal_has "Failed with result 'watchdog'" "$C4"
e2e_assert_eq "$(e2e_pci_driver "$BDF")" "$MOD" "$BDF is still on $MOD"
vfiod_prop "$BDF" Driver; e2e_assert_eq "$VFIOD_VALUE" "$MOD" "the restarted vfiod's Driver of $BDF"
e2e_assert_eq "$(e2e_pci_driver "$WEDGE")" "$EDU" "the probe by hand bound $EDU to $WEDGE once it returned"
driver_prop_is() { vfiod_prop "$1" Driver && [ "$VFIOD_VALUE" = "$2" ]; }
e2e_assert "the restarted vfiod's Driver of $WEDGE is $EDU" e2e_await 30 driver_prop_is "$WEDGE" "$EDU"

# ---- 7. the bus daemon restarted ----------------------------------------------------------------------------
e2e_step "7. the bus daemon restarted"
snapshot
sd_show; OLD=$SD_PID NR=$SD_RESTARTS
sd_cursor; C7=$CURSOR
t=${EPOCHREALTIME/./}
systemctl restart dbus.service || e2e_fail "systemctl restart dbus"
e2e_await 60 sd_journal_has "Main process exited" "$C7" || e2e_fail "vfiod did not exit when the bus went"
echo "systemd: $LINE"
e2e_assert "vfiod exited with its documented code 4 (the bus connection was lost)" test -z "${LINE##*status=4/*}"
if sd_await_active 300 "$OLD"; then :; else sd_print; e2e_fail "vfiod was not started again"; fi
_e2e_secs "$t"; _cmd_timing "restart dbus to vfiod active again" "$E2E_SECS"
sd_print
e2e_assert_eq "$SD_RESTARTS" $((NR + 1)) "systemd restarted it (Restart=on-failure), NRestarts"
sd_activate
e2e_assert_eq "$(e2e_pci_driver "$BDF")" "$MOD" "$BDF is still on $MOD"
vfiod_prop "$BDF" Driver; e2e_assert_eq "$VFIOD_VALUE" "$MOD" "Driver of $BDF on the new bus"
fault "the bus daemon restarted (systemctl restart dbus)"
restore "$BDF"

# ---- 8. persist, for boot 2 ---------------------------------------------------------------------------------
e2e_step "8. Rebind $BDF to vfio-pci with persist"
OUT=$(gdbus call --system --timeout 300 --dest org.vfiod --object-path /org/vfiod --method org.vfiod1.Manager.Rebind \
    "$BDF" "{'persist': <true>, 'driver': <'vfio-pci'>}" 2>&1) || e2e_fail "Rebind with persist: $OUT"
echo "Rebind with persist: $OUT"
e2e_assert_eq "$(e2e_pci_driver "$BDF")" vfio-pci "$BDF on vfio-pci"
RULE=/etc/vfiod/devices.d/pci-$BDF.conf
e2e_assert "vfiod wrote $RULE from inside its sandbox" test -f "$RULE"
e2e_await 10 test -f /etc/udev/rules.d/61-vfiod.rules || e2e_fail "no /etc/udev/rules.d/61-vfiod.rules"
cat "$RULE" /etc/udev/rules.d/61-vfiod.rules
e2e_assert "the boot rule names vfio-pci for $BDF" grep -q "KERNEL==\"$BDF\", ATTR{driver_override}=\"vfio-pci\"" /etc/udev/rules.d/61-vfiod.rules
mkdir -p "$RES/persisted" && cp "$RULE" /etc/udev/rules.d/61-vfiod.rules "$RES/persisted/"

e2e_step "the unit's journal"
sd_journal "$RES/vfiod-journal.txt"
kill "$DMESG_PID" 2>/dev/null
e2e_step_end
echo "SCENARIO systemd (boot 1): OK"
