# Guest side of e2e/scenario-boot.sh, first boot (scenario 4, phase 1: persist). Runs in the e2e guest as root, on a
# normal boot (init's coldplug put both e1000e on e1000e). Through the real system bus, polkitd and vfiod:
# Rebind 0000:00:03.0 with persist true, which moves it to vfio-pci, writes its rule file under
# /etc/vfiod/devices.d and generates /etc/udev/rules.d/61-vfiod.rules. Both files go to /results/persisted/: the
# host hands them to the second boot, as a disk would keep them across a reboot.
set -u
. /vfiod/e2e/guest/lib.sh
. /vfiod/e2e/guest/vfiod-lib.sh
BDF=0000:00:03.0
CONTROL=0000:00:05.0
RULES=/etc/udev/rules.d/61-vfiod.rules
RULE_FILE=/etc/vfiod/devices.d/pci-$BDF.conf

e2e_step "system bus and polkitd"
vfiod_show_devices
e2e_assert_eq "$(e2e_pci_driver $BDF)" e1000e "$BDF is on e1000e"
e2e_assert_eq "$(e2e_pci_driver $CONTROL)" e1000e "the control $CONTROL is on e1000e"
vfiod_up

e2e_step "start vfiod"
vfiod_launch
e2e_assert "no rules are generated while nothing is persisted" test ! -e $RULES

e2e_step "Rebind $BDF with persist"
vfiod_timed "Rebind with persist (gdbus)" vfiod_gdbus_manager Rebind $BDF "{'persist': <true>}" || e2e_fail "Rebind with persist: $VFIOD_OUT"
echo "gdbus: $VFIOD_OUT"
e2e_assert_eq "$(e2e_pci_driver $BDF)" vfio-pci "$BDF on vfio-pci"
e2e_assert_eq "$(vfiod_gdbus_prop $BDF Persistent)" "(<true>,)" "D-Bus: $BDF is Persistent"
e2e_assert "vfiod wrote the rule file $RULE_FILE" test -f "$RULE_FILE"
cat "$RULE_FILE"
e2e_assert "the rule file says: match address $BDF" vfiod_file_has "match address $BDF" "$RULE_FILE"
vfiod_wait_for 10 "vfiod generated $RULES" test -f $RULES
cat $RULES
# what the boot path needs, written out by hand: vfiod's file must contain exactly this line for the device
expected='ACTION=="add", SUBSYSTEM=="pci", KERNEL=="0000:00:03.0", ATTR{driver_override}="vfio-pci", RUN{builtin}+="kmod load vfio_pci"'
mapfile -t lines < <(grep -v '^#' $RULES)
e2e_assert_eq "${#lines[@]}" 1 "$RULES has one rule line"
e2e_assert_eq "${lines[0]}" "$expected" "the generated udev rule"

e2e_step "keep the persisted files"
mkdir -p /results/persisted
cp "$RULE_FILE" $RULES /results/persisted/ || e2e_fail "copy to /results/persisted"
ls -l /results/persisted
vfiod_stop_all || e2e_fail "vfiod did not stop cleanly"
e2e_step_end
echo "SCENARIO boot, phase 1 (persist): OK"
