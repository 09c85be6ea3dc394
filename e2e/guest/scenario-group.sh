# Guest side of e2e/scenario-group.sh (scenario 3: an IOMMU group of two endpoints). Runs in the e2e guest as root.
# The host gives the guest a PCIe-to-PCI bridge at 00:06.0 with two conventional-PCI e1000 (8086:100e) behind it:
# devices behind a conventional PCI bridge share the bridge's IOMMU group (the bridge takes their DMA), so the group
# is {bridge, e1000, e1000}. Through the real system bus, polkitd and vfiod:
#   Rebind of one e1000 without "group" is refused with org.vfiod1.Error.GroupNotViable naming the other one,
#   Rebind with group true moves both to vfio-pci (the bridge keeps its driver) and /dev/vfio/<group> appears,
#   Restore with group true gives both back to e1000.
set -u
. /vfiod/e2e/guest/lib.sh
. /vfiod/e2e/guest/vfiod-lib.sh

e2e_step "find the group"
E1000=()
BRIDGE=""
for d in /sys/bus/pci/devices/*; do
    case "$(<"$d/vendor"):$(<"$d/device")" in
        0x8086:0x100e) E1000+=("${d##*/}") ;;
        0x1b36:0x000e) BRIDGE=${d##*/} ;;   # QEMU's pcie-pci-bridge
    esac
done
vfiod_show_devices
e2e_assert_eq "${#E1000[@]}" 2 "two e1000 in the guest"
e2e_assert "a PCIe-to-PCI bridge in the guest" test -n "$BRIDGE"
A=${E1000[0]} B=${E1000[1]}
G=$(e2e_pci_group "$A")
members=(/sys/kernel/iommu_groups/"$G"/devices/*)
members=("${members[@]##*/}")
echo "IOMMU group $G: ${members[*]}"
e2e_assert_eq "$(e2e_pci_group "$B")" "$G" "$B shares $A's IOMMU group"
e2e_assert_eq "$(e2e_pci_group "$BRIDGE")" "$G" "the bridge $BRIDGE is in that group too"
e2e_assert_eq "${#members[@]}" 3 "the group holds exactly the bridge and the two endpoints"
e2e_assert_eq "$(e2e_pci_driver "$A")" e1000 "$A starts on e1000"
e2e_assert_eq "$(e2e_pci_driver "$B")" e1000 "$B starts on e1000"
BRIDGE_DRIVER=$(e2e_pci_driver "$BRIDGE")
echo "bridge driver: '${BRIDGE_DRIVER}'"

e2e_step "system bus and polkitd"
vfiod_up

e2e_step "start vfiod"
vfiod_launch

e2e_step "Rebind $A without group"
vfiod_timed "refused Rebind (gdbus)" vfiod_gdbus_manager Rebind "$A" "{}"; rc=$?; out=$VFIOD_OUT
echo "gdbus (exit $rc): $out"
e2e_assert "Rebind without group fails" test "$rc" != 0
e2e_assert "the error is org.vfiod1.Error.GroupNotViable" test "${out/org.vfiod1.Error.GroupNotViable:/}" != "$out"
e2e_assert "the error names the other endpoint $B" test "${out/$B/}" != "$out"
e2e_assert_eq "$(e2e_pci_driver "$A")" e1000 "$A is still on e1000"
e2e_assert_eq "$(e2e_pci_driver "$B")" e1000 "$B is still on e1000"
e2e_assert_eq "$(<"/sys/bus/pci/devices/$A/driver_override")" "(null)" "$A's driver_override is untouched"
e2e_assert "/dev/vfio/$G does not exist" test ! -e "/dev/vfio/$G"

e2e_step "Rebind $A with group"
vfiod_timed "Rebind with group (gdbus)" vfiod_gdbus_manager Rebind "$A" "{'group': <true>}" || e2e_fail "Rebind with group: $VFIOD_OUT"
out=$VFIOD_OUT
echo "gdbus: $out"
e2e_assert_eq "$out" "('vfio-pci',)" "Rebind returns the driver"
e2e_assert_eq "$(e2e_pci_driver "$A")" vfio-pci "$A on vfio-pci"
e2e_assert_eq "$(e2e_pci_driver "$B")" vfio-pci "$B on vfio-pci (moved with its group)"
e2e_assert_eq "$(e2e_pci_driver "$BRIDGE")" "$BRIDGE_DRIVER" "the bridge keeps its driver ('$BRIDGE_DRIVER')"
e2e_assert "/dev/vfio/$G is a character device" test -c "/dev/vfio/$G"
ls -l /dev/vfio/
e2e_assert_eq "$(vfiod_gdbus_prop "$A" Driver)" "(<'vfio-pci'>,)" "D-Bus: Driver of $A"
e2e_assert_eq "$(vfiod_gdbus_prop "$B" Driver)" "(<'vfio-pci'>,)" "D-Bus: Driver of $B"

e2e_step "Restore $A with group"
vfiod_timed "Restore with group (gdbus)" vfiod_gdbus_manager Restore "$A" "{'group': <true>}" || e2e_fail "Restore with group: $VFIOD_OUT"
out=$VFIOD_OUT
echo "gdbus: $out"
e2e_assert_eq "$(e2e_pci_driver "$A")" e1000 "$A back on e1000"
e2e_assert_eq "$(e2e_pci_driver "$B")" e1000 "$B back on e1000"
e2e_assert_eq "$(e2e_pci_driver "$BRIDGE")" "$BRIDGE_DRIVER" "the bridge still has its driver ('$BRIDGE_DRIVER')"
e2e_assert_eq "$(<"/sys/bus/pci/devices/$A/driver_override")" "(null)" "$A's driver_override is cleared"
e2e_assert_eq "$(<"/sys/bus/pci/devices/$B/driver_override")" "(null)" "$B's driver_override is cleared"
e2e_assert "/dev/vfio/$G is gone" test ! -e "/dev/vfio/$G"
e2e_assert_eq "$(vfiod_gdbus_prop "$B" Driver)" "(<'e1000'>,)" "D-Bus: Driver of $B"

e2e_step "stop vfiod"
vfiod_stop_all || e2e_fail "vfiod did not stop cleanly"
e2e_step_end
echo "SCENARIO group: OK"
