# Guest side of e2e/scenario-grant.sh (runs in the e2e guest as root, with bash): handing the e1000e to an
# unprivileged VM user on a real kernel.
#   1. two test users (useradd: the guest's /etc is an overlay); vfiod started;
#   2. Assign with owner = the first user: the full answer names /dev/vfio/<group> (and, on a kernel with VFIO
#      cdevs, /dev/vfio/devices/vfioN); getfacl shows user:UID:rw- on each node, the mode and owner unchanged;
#      AccessUids says the uid;
#   3. as that user (setpriv, real uid, no capabilities): vfio-open opens the container, the group and the device
#      (and the cdev where there is one) and reads vendor/device from config space; the paths it opened are the
#      answer's;
#   4. as the second user: vfio-open cannot open the group (EACCES);
#   5. vfiod restarted: AccessUids still says the uid (it lives on the node);
#   6. Release: the answer says the access was taken back; Rebind again without owner: the first user cannot open
#      the group either;
#   7. Restore: back on e1000e.
set -u
. /vfiod/e2e/guest/lib.sh
. /vfiod/e2e/guest/vfiod-lib.sh
RES=${E2E_RESULTS:-/results}
VO=/vfiod/.cache/e2e/bin/vfio-open
U1=vfiod-vm1 U2=vfiod-vm2

# as USER CMD...: CMD with USER's real and effective uid and gid, its groups, and no capabilities
as() {
    local u=$1; shift
    setpriv --reuid "$u" --regid "$u" --init-groups --inh-caps=-all --bounding-set=-all -- "$@"
}
# _answer_get KEY: the value of KEY in the gdbus answer in ANSWER ('key': <value>), in VALUE
_answer_get() {
    VALUE=${ANSWER#*"'$1': <"}
    [ "$VALUE" != "$ANSWER" ] || { VALUE=""; return 1; }
    VALUE=${VALUE%%>,*}; VALUE=${VALUE%%>\}*}
}
gcall() { gdbus call --system --timeout 180 --dest org.vfiod --object-path /org/vfiod --method "org.vfiod1.Manager.$1" "$2" "$3"; }

e2e_step "find the device, make the users"
BDF=$(e2e_pci_find 8086 10d3) || e2e_fail "no e1000e (8086:10d3) in the guest"
G=$(e2e_pci_group "$BDF")
echo "e1000e $BDF, IOMMU group $G, kernel $(uname -r)"
e2e_assert_eq "$(e2e_pci_driver "$BDF")" e1000e "coldplug bound e1000e"
for u in "$U1" "$U2"; do
    id "$u" >/dev/null 2>&1 || useradd --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$u" \
        || e2e_fail "useradd $u"
done
UID1=$(id -u "$U1") UID2=$(id -u "$U2")
echo "$U1 uid $UID1, $U2 uid $UID2"
command -v getfacl >/dev/null || e2e_fail "no getfacl in the host's /usr (apt-get install acl; e2e/setup.sh does)"

vfiod_start

e2e_step "2. Assign with owner $UID1"
ANSWER=$(gcall Assign "$BDF" "{'owner': <uint32 $UID1>}" 2>&1) || e2e_fail "Assign: $ANSWER"
echo "answer: $ANSWER"
echo "$ANSWER" > "$RES/assign-answer.txt"
e2e_assert_eq "$(e2e_pci_driver "$BDF")" vfio-pci "on vfio-pci"
_answer_get group-node; e2e_assert_eq "$VALUE" "'/dev/vfio/$G'" "the answer's group-node"
_answer_get access; e2e_assert_eq "$VALUE" "[uint32 $UID1]" "the answer's access"
e2e_assert "/dev/vfio/$G is a character device" test -c "/dev/vfio/$G"
CDEV=""
for d in /sys/bus/pci/devices/"$BDF"/vfio-dev/vfio*; do [ -e "$d/dev" ] && CDEV=/dev/vfio/devices/${d##*/}; done
NODES=("/dev/vfio/$G")
if [ -n "$CDEV" ]; then
    echo "this kernel has a VFIO cdev: $CDEV"
    NODES+=("$CDEV")
    _answer_get device-nodes; e2e_assert_eq "$VALUE" "{'$BDF': '$CDEV'}" "the answer's device-nodes"
    _answer_get nodes; e2e_assert_eq "$VALUE" "['/dev/vfio/$G', '$CDEV']" "the answer's nodes"
else
    echo "this kernel has no VFIO cdev (vfio-dev/vfioN without a dev number)"
    _answer_get nodes; e2e_assert_eq "$VALUE" "['/dev/vfio/$G']" "the answer's nodes"
fi
for n in "${NODES[@]}"; do
    getfacl -n -p "$n" | tee -a "$RES/acl.txt"
    e2e_assert "$n has user:$UID1:rw-" grep -qx "user:$UID1:rw-" <(getfacl -n -p -c "$n")
    e2e_assert_eq "$(stat -c %u "$n")" 0 "$n still owned by root"
done
vfiod_prop "$BDF" AccessUids; e2e_assert_eq "$VFIOD_VALUE" "1 $UID1" "AccessUids"
vfiod_prop "$BDF" VfioGroupNode; e2e_assert_eq "$VFIOD_VALUE" "/dev/vfio/$G" "VfioGroupNode"
vfiod_prop "$BDF" VfioDeviceNode; e2e_assert_eq "$VFIOD_VALUE" "$CDEV" "VfioDeviceNode"

e2e_step "3. as $U1: vfio-open opens container, group and device, reads config space"
CARGS=(); [ -n "$CDEV" ] && CARGS=(--cdev "$CDEV")
OUT=$(as "$U1" "$VO" "${CARGS[@]}" "$BDF" 2>&1); rc=$?
echo "$OUT" | tee "$RES/vfio-open-$U1.txt"
e2e_assert_eq "$rc" 0 "vfio-open as $U1"
e2e_assert "it ran as uid $UID1" test "$(as "$U1" id -u)" = "$UID1"
e2e_assert "config space: vendor 0x8086" grep -qx "vendor=0x8086" <<< "$OUT"
e2e_assert "config space: device 0x10d3" grep -qx "device=0x10d3" <<< "$OUT"
OPENED=$(grep '^opened=' <<< "$OUT" | grep -v '^opened=/dev/vfio/vfio$' | cut -d= -f2- | tr '\n' ' ')
e2e_assert_eq "${OPENED% }" "${NODES[*]}" "the nodes it opened are the answer's"

e2e_step "4. as $U2: no access"
OUT=$(as "$U2" "$VO" "$BDF" 2>&1); rc=$?
echo "$OUT" | tee "$RES/vfio-open-$U2.txt"
e2e_assert "vfio-open as $U2 fails" test "$rc" != 0
e2e_assert "on the group node: permission denied" grep -q "/dev/vfio/$G: Permission denied" <<< "$OUT"
if [ -n "$CDEV" ]; then
    OUT=$(as "$U2" "$VO" --cdev "$CDEV" "$BDF" 2>&1)
    e2e_assert "$U2 cannot open the group (so not the cdev after it either)" test $? != 0
fi

e2e_step "5. vfiod restarted: the access is still shown"
vfiod_stop || e2e_fail "vfiod did not stop"
VFIOD_LOG=$RES/vfiod-2.log vfiod_launch
vfiod_prop "$BDF" AccessUids; e2e_assert_eq "$VFIOD_VALUE" "1 $UID1" "AccessUids after the restart"

e2e_step "6. Release takes the access back; a Rebind without owner gives none"
ANSWER=$(gcall Release "$BDF" "{}" 2>&1) || e2e_fail "Release: $ANSWER"
echo "answer: $ANSWER"
e2e_assert "the answer says the access was taken back" grep -q "take back the access of uid $UID1 to /dev/vfio/$G" <<< "$ANSWER"
_answer_get access; e2e_assert_eq "$VALUE" "@au []" "the answer's access"
e2e_assert_eq "$(e2e_pci_driver "$BDF")" e1000e "back on e1000e"
e2e_time "busctl Rebind (no owner)" vfiod_manager Rebind 'sa{sv}' "$BDF" 0 || e2e_fail "Rebind: $VFIOD_ERR"
e2e_assert "no named user on /dev/vfio/$G" bash -c "! getfacl -n -p -c /dev/vfio/$G | grep -q '^user:[0-9]'"
OUT=$(as "$U1" "$VO" "$BDF" 2>&1); rc=$?
echo "$OUT"
e2e_assert "vfio-open as $U1 fails after the Release" test "$rc" != 0
e2e_assert "on the group node: permission denied" grep -q "/dev/vfio/$G: Permission denied" <<< "$OUT"
vfiod_prop "$BDF" AccessUids; e2e_assert_eq "$VFIOD_VALUE" "0" "AccessUids"

e2e_step "7. Restore"
e2e_time "busctl Restore" vfiod_manager Restore 'sa{sv}' "$BDF" 0 || e2e_fail "Restore: $VFIOD_ERR"
e2e_assert_eq "$(e2e_pci_driver "$BDF")" e1000e "back on e1000e"
vfiod_stop || e2e_fail "vfiod did not stop cleanly"
e2e_step_end
echo "SCENARIO-GRANT: OK"
