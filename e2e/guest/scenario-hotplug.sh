# Guest side of e2e/scenario-hotplug.sh (scenario 5: a hot-plugged device covered by a model rule). Runs in the e2e
# guest as root. With the rule `match id 8086:10d3` in /etc/vfiod/devices.d, systemd-udevd (with the 61-vfiod.rules
# vfiod generates), the real system bus, polkitd and vfiod: the host hot-adds an e1000e behind the PCIe root port at
# 00:04.0; it must end on vfio-pci within 30 s through the udev add event, with a DeviceAdded signal on /org/vfiod;
# the host then removes it, and its object must go (DeviceRemoved, gone from ListDevices).
set -u
. /vfiod/e2e/guest/lib.sh
. /vfiod/e2e/guest/vfiod-lib.sh
NEW=0000:01:00.0          # the first device behind the root port
vfiod_device_path $NEW; NEW_PATH=$VFIOD_PATH
MON=/results/dbus-monitor.log

e2e_step "rule, udevd, system bus, polkitd"
mkdir -p /etc/vfiod/devices.d
printf '# e2e scenario-hotplug: every e1000e goes to VFIO\nmatch id 8086:10d3\n' > /etc/vfiod/devices.d/e1000e.conf
e2e_assert_eq "$(e2e_pci_driver 0000:00:03.0)" e1000e "the boot e1000e at 00:03.0 is on e1000e before vfiod runs"
vfiod_up udevd

e2e_step "start vfiod"
vfiod_launch
RULES=/etc/udev/rules.d/61-vfiod.rules
e2e_assert "vfiod generated $RULES" test -f $RULES
cat $RULES
expected='ACTION=="add", SUBSYSTEM=="pci", ATTR{vendor}=="0x8086", ATTR{device}=="0x10d3", ATTR{driver_override}="vfio-pci", RUN{builtin}+="kmod load vfio_pci"'
e2e_assert "$RULES holds the line for match id 8086:10d3" vfiod_file_has "$expected" $RULES
# the model rule covers the boot e1000e too: vfiod moved it at its start
e2e_assert_eq "$(e2e_pci_driver 0000:00:03.0)" vfio-pci "vfiod's start moved 00:03.0 (also 8086:10d3) to vfio-pci"

e2e_step "watch the bus"
gdbus monitor --system --dest org.vfiod --object-path /org/vfiod > $MON 2>&1 &
MON_PID=$!
VFIOD_PIDS+=("$MON_PID")
vfiod_wait_for 30 "gdbus monitor subscribed" vfiod_file_has "is owned by" $MON
vfiod_gdbus_list > /run/list-before || e2e_fail "ListDevices"
e2e_assert "$NEW is not on the bus before the plug" test "$(vfiod_file_has "'$NEW_PATH'" /run/list-before && echo yes)" != yes

e2e_step "hot-plug an e1000e"
e2e_signal_host want-plug
vfiod_wait_for 30 "$NEW appears in sysfs" test -e /sys/bus/pci/devices/$NEW
T_PLUG=${EPOCHREALTIME/./}
vfiod_await_driver $NEW vfio-pci 30 || e2e_fail "$NEW on vfio-pci: not within 30s (now: $(e2e_pci_driver $NEW))"
_e2e_secs "$T_PLUG"; echo "=== timed: device in sysfs to vfio-pci: ${E2E_SECS}s"
printf 'cmd\t%s\t%s\n' "device in sysfs to vfio-pci" "$E2E_SECS" >> "$E2E_TIMINGS"
e2e_assert_eq "$(e2e_pci_driver $NEW)" vfio-pci "the hot-added $NEW is on vfio-pci"
e2e_assert_eq "$(</sys/bus/pci/devices/$NEW/driver_override)" vfio-pci "its driver_override is vfio-pci"
G=$(e2e_pci_group $NEW)
e2e_assert "/dev/vfio/$G is a character device" test -c "/dev/vfio/$G"
vfiod_wait_for 30 "DeviceAdded for $NEW_PATH" vfiod_file_has "DeviceAdded (objectpath '$NEW_PATH'" $MON
echo "ok: DeviceAdded was emitted:"; grep -F "$NEW_PATH" $MON
vfiod_gdbus_list > /run/list-plugged || e2e_fail "ListDevices"
e2e_assert "ListDevices has $NEW_PATH" vfiod_file_has "'$NEW_PATH'" /run/list-plugged
vfiod_wait_for 20 "D-Bus Driver of $NEW is vfio-pci" test "$(vfiod_gdbus_prop $NEW Driver)" = "(<'vfio-pci'>,)"
e2e_assert_eq "$(vfiod_gdbus_prop $NEW Persistent)" "(<true>,)" "D-Bus: $NEW is Persistent (the model rule covers it)"
echo "how it got there (vfiod's log):"; grep -F "$NEW" "$VFIOD_LOG"
echo "kernel log about $NEW:"; vfiod_dmesg_lines "$NEW"

e2e_step "hot-unplug it"
e2e_signal_host want-unplug
vfiod_wait_for 30 "$NEW leaves sysfs" test ! -e /sys/bus/pci/devices/$NEW
vfiod_wait_for 30 "DeviceRemoved for $NEW_PATH" vfiod_file_has "DeviceRemoved (objectpath '$NEW_PATH'" $MON
echo "ok: DeviceRemoved was emitted:"; grep -F "DeviceRemoved" $MON
vfiod_gdbus_list > /run/list-unplugged || e2e_fail "ListDevices"
e2e_assert "ListDevices no longer has $NEW_PATH" test "$(vfiod_file_has "'$NEW_PATH'" /run/list-unplugged && echo yes)" != yes
e2e_assert "/dev/vfio/$G is gone" test ! -e "/dev/vfio/$G"

e2e_step "stop vfiod"
vfiod_stop_all || e2e_fail "vfiod did not stop cleanly"
e2e_step_end
echo "SCENARIO hotplug: OK"
