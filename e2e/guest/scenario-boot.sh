# Guest side of e2e/scenario-boot.sh, second boot (scenario 4, phase 2: the boot path). Runs in the e2e guest as root.
# The host booted this guest with e2e.coldplug=0, so /init loaded no driver for any PCI device, and hands over the
# files the first boot persisted (the rule file for 0000:00:03.0 and vfiod's 61-vfiod.rules). As a real boot does:
# the rules are in /etc before udevd starts, udevd processes the coldplug add events (udevadm trigger; settle), and
# 80-drivers.rules loads the host drivers. The e1000e at 00:03.0 must end on vfio-pci before vfiod even runs, and
# e1000e must never probe it, while it does probe the unpersisted control e1000e at 00:05.0. Then vfiod starts,
# finds the device already where its rule wants it, and shows it on the bus.
set -u
. /vfiod/e2e/guest/lib.sh
. /vfiod/e2e/guest/vfiod-lib.sh
BDF=0000:00:03.0
CONTROL=0000:00:05.0
RULES=/etc/udev/rules.d/61-vfiod.rules

e2e_step "nothing bound yet (e2e.coldplug=0)"
vfiod_show_devices
e2e_assert "no e1000e module loaded" test ! -e /sys/module/e1000e
e2e_assert "no vfio_pci module loaded" test ! -e /sys/module/vfio_pci
e2e_assert_eq "$(e2e_pci_driver $BDF)" "" "$BDF has no driver"
e2e_assert_eq "$(e2e_pci_driver $CONTROL)" "" "the control $CONTROL has no driver"

e2e_step "install the persisted files"
e2e_wait_host persisted 120 || e2e_fail "the host did not hand over the persisted files"
mkdir -p /etc/vfiod/devices.d /etc/udev/rules.d
cp /results/persisted/pci-$BDF.conf /etc/vfiod/devices.d/ || e2e_fail "no persisted rule file"
cp /results/persisted/61-vfiod.rules $RULES || e2e_fail "no persisted 61-vfiod.rules"
cat /etc/vfiod/devices.d/pci-$BDF.conf $RULES

e2e_step "udevd coldplug"
e2e_time "start systemd-udevd" vfiod_start_udevd
e2e_time "udevadm trigger --action=add --subsystem-match=pci" udevadm trigger --action=add --subsystem-match=pci \
    || e2e_fail "udevadm trigger"
e2e_time "udevadm settle" udevadm settle --timeout=180 || e2e_fail "udevadm settle"
vfiod_show_devices
e2e_assert_eq "$(e2e_pci_driver $BDF)" vfio-pci "udev alone put $BDF on vfio-pci"
e2e_assert_eq "$(</sys/bus/pci/devices/$BDF/driver_override)" vfio-pci "$BDF's driver_override (set by 61-vfiod.rules)"
e2e_assert_eq "$(e2e_pci_driver $CONTROL)" e1000e "the control $CONTROL is on e1000e (80-drivers.rules loaded it)"
e2e_assert "/dev/vfio/$(e2e_pci_group $BDF) is a character device" test -c /dev/vfio/"$(e2e_pci_group $BDF)"

e2e_step "the kernel log"
check_dmesg() {
    local all bad good
    all=$(dmesg)
    good=$(grep -F "e1000e $CONTROL" <<< "$all")
    bad=$(grep -F "e1000e $BDF" <<< "$all")
    echo "e1000e lines for the control $CONTROL:"; echo "$good" | sed 's/^/  /'
    echo "e1000e lines for $BDF (must be none):"; echo "$bad" | sed 's/^/  /'
    e2e_assert "e1000e probed the control $CONTROL" test -n "$good"
    e2e_assert "\"Intel(R) PRO/1000 Network Connection\" shows for the control" test "${good/Intel(R) PRO\/1000 Network Connection/}" != "$good"
    e2e_assert "e1000e never probed $BDF (no 'e1000e $BDF' line in dmesg)" test -z "$bad"
}
check_dmesg
echo "all kernel lines about $BDF:"; vfiod_dmesg_lines "$BDF"
echo "module loads and binds, in kernel order (vfio first, then e1000e):"
dmesg | grep -E 'VFIO - User Level|e1000e: Intel|e1000e 0000:00:05.0: enabling|vfio-pci' | sed 's/^/  /'

e2e_step "system bus and polkitd"
vfiod_up

e2e_step "start vfiod"
vfiod_launch
echo "vfiod about $BDF:"; grep -F "$BDF" "$VFIOD_LOG"
e2e_assert "vfiod found $BDF already on vfio-pci" grep -qF "$BDF at start: already on vfio-pci" "$VFIOD_LOG"
e2e_assert_eq "$(e2e_pci_driver $BDF)" vfio-pci "$BDF is still on vfio-pci"
e2e_assert_eq "$(vfiod_gdbus_prop $BDF Driver)" "(<'vfio-pci'>,)" "D-Bus: Driver of $BDF"
e2e_assert_eq "$(vfiod_gdbus_prop $BDF Persistent)" "(<true>,)" "D-Bus: $BDF is Persistent"
e2e_assert_eq "$(vfiod_gdbus_prop $CONTROL Driver)" "(<'e1000e'>,)" "D-Bus: Driver of the control"
e2e_assert_eq "$(vfiod_gdbus_prop $CONTROL Persistent)" "(<false>,)" "D-Bus: the control is not Persistent"
e2e_assert "vfiod's regenerated $RULES equals the persisted one" cmp $RULES /results/persisted/61-vfiod.rules
check_dmesg

e2e_step "stop vfiod"
vfiod_stop_all || e2e_fail "vfiod did not stop cleanly"
e2e_step_end
echo "SCENARIO boot: OK"
