# Guest side of e2e/scenario-platform.sh (issue 18: a real platform device on a real kernel). Runs in the arm64
# guest (E2E_ARCH=arm64): Debian 12's arm64 kernel on QEMU's virt machine, no IOMMU, a virtio-rng-device on one of
# the machine's virtio-mmio transports. The kernel command line has vfio.enable_unsafe_noiommu_mode=1 and
# vfio_platform.reset_required=0, which kmod's modprobe applies.
#
#  1. coldplug as udev would: virtio_mmio for the platform devices, then the virtio driver of what they carry;
#  2. the kernel path by hand: driver_override, unbind, drivers_probe to vfio-platform, the no-IOMMU group and
#     /dev/vfio/noiommu-N; back to virtio-mmio, whose virtio device gets its driver again;
#  3. the same through vfiod over D-Bus, the device named platform:<name>: a Rebind that vfio-platform's probe refuses
#     (reloaded with reset_required=1: no reset function for virtio,mmio) fails naming the reset requirement and is
#     rolled back; Rebind; a Restore refused with InUse while a process holds /dev/vfio/noiommu-N; Restore.
set -u
. /vfiod/e2e/guest/lib.sh

noiommu=/sys/module/vfio/parameters/enable_unsafe_noiommu_mode

e2e_step "coldplug: virtio_mmio and the virtio drivers"
e2e_time "modprobe virtio_mmio" modprobe virtio_mmio || e2e_fail "modprobe virtio_mmio"
# the virtio devices appear once virtio-mmio probed their transports; load what their modaliases name
vmods=(/sys/bus/virtio/devices/*/modalias)
[ -e "${vmods[0]}" ] || e2e_fail "no virtio device on a virtio-mmio transport (is there a -device virtio-*-device?)"
modprobe -qab $(cat "${vmods[@]}")

e2e_step "find the virtio-mmio device"
NAME=""
for d in /sys/bus/platform/devices/*.virtio_mmio; do
    [ -e "$d/driver" ] && { NAME=${d##*/}; break; }   # the transports with nothing behind them have no driver
done
[ -n "$NAME" ] || e2e_fail "no virtio-mmio platform device with a driver"
P=/sys/bus/platform/devices/$NAME
driver_of() { local l; l=$(readlink "$P/driver" 2>/dev/null) && echo "${l##*/}"; }
group_of() { local l; l=$(readlink "$P/iommu_group" 2>/dev/null) && echo "${l##*/}"; }
child_driver() {   # the driver of the virtio device the transport carries ("" when there is none)
    local v l
    for v in "$P"/virtio*; do [ -e "$v/driver" ] && { l=$(readlink "$v/driver"); echo "${l##*/}"; return; }; done
}
has_child_driver() { [ -n "$(child_driver)" ]; }
contains() { [[ $1 == *"$2"* ]]; }
echo "device:          $NAME"
echo "modalias:        $(<"$P/modalias")"
echo "driver:          $(driver_of) (its virtio device: $(child_driver))"
echo "driver_override: $(<"$P/driver_override")"
echo "iommu_group:     '$(group_of)' (no IOMMU on this machine)"
e2e_assert_eq "$(driver_of)" virtio-mmio "the transport is on virtio-mmio"
e2e_assert_eq "$(child_driver)" virtio_rng "its virtio device is on virtio_rng"
e2e_assert_eq "$(group_of)" "" "no IOMMU group before vfio"
e2e_assert_eq "$(<"$P/driver_override")" "(null)" "no driver_override"
HOST_DRIVER=$(driver_of)

e2e_step "modprobe vfio-platform (no-IOMMU mode, reset_required=0 from the command line)"
e2e_time "modprobe vfio-platform" modprobe vfio-platform || e2e_fail "modprobe vfio-platform"
e2e_assert_eq "$(<"$noiommu")" Y "vfio's no-IOMMU mode is on"
e2e_assert_eq "$(</sys/module/vfio_platform/parameters/reset_required)" N "vfio_platform.reset_required=0"

move() {   # move DRIVER: the three writes ("" = back to the host driver)
    e2e_write "$1" "$P/driver_override"
    [ -e "$P/driver" ] && e2e_write "$NAME" "$P/driver/unbind"
    e2e_write "$NAME" /sys/bus/platform/drivers_probe
}

e2e_step "by hand: to vfio-platform"
t=${EPOCHREALTIME/./}
move vfio-platform
_e2e_secs "$t"; printf 'cmd\t%s\t%s\n' "shell: the three writes to vfio-platform" "$E2E_SECS" >> "$E2E_TIMINGS"
G=$(group_of)
echo "driver: $(driver_of), group: $G, /dev/vfio: $(ls /dev/vfio | tr '\n' ' ')"
e2e_assert_eq "$(driver_of)" vfio-platform "on vfio-platform"
e2e_assert "vfio made a no-IOMMU group" test -n "$G"
e2e_assert "its node is /dev/vfio/noiommu-$G" test -c "/dev/vfio/noiommu-$G"
e2e_assert_eq "$(child_driver)" "" "the virtio device is gone with its transport's driver"
e2e_assert "the kernel says so" bash -c "dmesg | grep -q 'vfio-platform $NAME: Adding kernel taint for vfio-noiommu group on device'"

e2e_step "by hand: back to $HOST_DRIVER"
move ""
echo "driver: $(driver_of), virtio device on: $(child_driver), group: '$(group_of)'"
e2e_assert_eq "$(driver_of)" "$HOST_DRIVER" "back on $HOST_DRIVER"
e2e_assert_eq "$(<"$P/driver_override")" "(null)" "driver_override cleared"
e2e_assert_eq "$(group_of)" "" "the no-IOMMU group went with vfio-platform"
e2e_await 10 has_child_driver || true
e2e_assert_eq "$(child_driver)" virtio_rng "its virtio device is on virtio_rng again"

# --- through vfiod
# the host-made class archive (e2e/lib/vfiod.sh) is an amd64 JVM's; this one is arm64
VFIOD_CDS=0
. /vfiod/e2e/guest/vfiod-lib.sh
ADDR=platform:$NAME
e2e_step "vfiod: start"
vfiod_start
vfiod_busctl call org.vfiod /org/vfiod org.vfiod1.Manager ListDevices > /results/list-devices.txt 2>&1
echo "ListDevices: $(</results/list-devices.txt)"
vfiod_manager DeviceByAddress s "$ADDR" || e2e_fail "DeviceByAddress $ADDR: $VFIOD_ERR"
OBJ=${VFIOD_REPLY#o }; OBJ=${OBJ//\"/}
echo "object: $OBJ"
prop() { local out; out=$(vfiod_busctl get-property org.vfiod "$OBJ" org.vfiod1.Device "$1") || return 1; out=${out#s \"}; echo "${out%\"}"; }
echo "Subsystem=$(prop Subsystem) Driver=$(prop Driver) Modalias=$(prop Modalias)"
e2e_assert_eq "$(prop Subsystem)" platform "Subsystem"

e2e_step "vfiod: a Rebind vfio-platform's probe refuses (reset_required=1, no reset function for virtio,mmio)"
# the parameter is read-only once loaded: load the module again with it (modprobe's own option comes after the
# command line's, and the last one wins)
modprobe -r vfio_platform || e2e_fail "modprobe -r vfio_platform"
modprobe vfio-platform reset_required=1 || e2e_fail "modprobe vfio-platform reset_required=1"
e2e_assert_eq "$(</sys/module/vfio_platform/parameters/reset_required)" Y "reset_required is Y now"
vfiod_manager Rebind 'sa{sv}' "$ADDR" 0 && e2e_fail "Rebind succeeded although vfio-platform requires a reset"
echo "Rebind refused: $VFIOD_ERR"
echo "kernel: $(dmesg | grep -F "$NAME" | grep -E 'reset|probe' | tail -2 | tr '\n' ' ')"
e2e_assert "the error names the reset requirement" contains "$VFIOD_ERR" "vfio-platform requires a reset for the device"
e2e_assert_eq "$(driver_of)" "$HOST_DRIVER" "rolled back to $HOST_DRIVER"
e2e_assert_eq "$(<"$P/driver_override")" "(null)" "driver_override put back"
e2e_await 10 has_child_driver || true
e2e_assert_eq "$(child_driver)" virtio_rng "its virtio device is on virtio_rng again"
lost=0; [ "$(driver_of)" = "$HOST_DRIVER" ] || lost=1
e2e_fault "vfio-platform's probe refused the device (no reset function, reset_required=1)" "$lost"
modprobe -r vfio_platform && modprobe vfio-platform || e2e_fail "reload vfio-platform"
e2e_assert_eq "$(</sys/module/vfio_platform/parameters/reset_required)" N "reset_required is N again"

e2e_step "vfiod: Rebind $ADDR"
e2e_time "busctl Rebind" vfiod_manager Rebind 'sa{sv}' "$ADDR" 0 \
    || { cat "$VFIOD_LOG"; e2e_fail "Rebind failed: $VFIOD_ERR"; }
echo "Rebind: $VFIOD_REPLY"
echo "vfiod's log of the move:"; grep -F "$NAME" "$VFIOD_LOG" | sed 's/^/    /'
G=$(group_of)
e2e_assert_eq "$VFIOD_REPLY" 's "vfio-platform"' "Rebind answers vfio-platform"
e2e_assert_eq "$(driver_of)" vfio-platform "on vfio-platform (sysfs)"
e2e_assert_eq "$(<"$P/driver_override")" vfio-platform "driver_override"
e2e_assert "its node /dev/vfio/noiommu-$G" test -c "/dev/vfio/noiommu-$G"
vfiod_wait_for 60 "Driver property vfio-platform" bash -c "[ \"\$(busctl --system get-property org.vfiod $OBJ org.vfiod1.Device Driver)\" = 's \"vfio-platform\"' ]"
echo "VfioGroupNode=$(prop VfioGroupNode) State=$(prop State)"
e2e_assert_eq "$(prop VfioGroupNode)" "/dev/vfio/noiommu-$G" "VfioGroupNode"

e2e_step "vfiod: Restore while a process holds /dev/vfio/noiommu-$G"
sleep 600 9<> "/dev/vfio/noiommu-$G" &
HOLDER=$!
e2e_await 5 test -e "/proc/$HOLDER/fd/9" || e2e_fail "the holder did not open the node"
vfiod_manager Restore 'sa{sv}' "$ADDR" 0 && e2e_fail "Restore went ahead while pid $HOLDER held the group node"
echo "Restore refused: $VFIOD_ERR"
e2e_assert "the refusal is InUse and names the holder" contains "$VFIOD_ERR" "/dev/vfio/noiommu-$G is open by pid $HOLDER (sleep)"
e2e_assert_eq "$(driver_of)" vfio-platform "still on vfio-platform"
kill "$HOLDER"; wait "$HOLDER" 2>/dev/null

e2e_step "vfiod: Restore $ADDR"
e2e_time "busctl Restore" vfiod_manager Restore 'sa{sv}' "$ADDR" 0 \
    || { cat "$VFIOD_LOG"; e2e_fail "Restore failed: $VFIOD_ERR"; }
echo "Restore: $VFIOD_REPLY"
e2e_assert_eq "$(driver_of)" "$HOST_DRIVER" "back on $HOST_DRIVER (sysfs)"
e2e_assert_eq "$(<"$P/driver_override")" "(null)" "driver_override cleared"
e2e_await 10 has_child_driver || true
e2e_assert_eq "$(child_driver)" virtio_rng "its virtio device is on virtio_rng again"
vfiod_stop_all || e2e_fail "vfiod did not stop cleanly"
echo "scenario-platform: the platform device went to vfio-platform and back, by hand and through vfiod"
