# Guest side of e2e/scenario-systemd.sh, boot 2 (e2e-run.service under systemd, after multi-user.target). Before
# systemd started, e2e/guest/scenario-systemd-preboot.sh put what boot 1 persisted in /etc (the rule file for
# 0000:00:03.0 and vfiod's 61-vfiod.rules) and enabled a stand-in libvirtd.service that records the driver of
# 0000:00:03.0 when it starts. This boot went as a real one does: systemd-udevd's coldplug (61-vfiod.rules sets
# driver_override before 80-drivers.rules loads e1000e), then vfiod.service (enabled by the package's postinst) and,
# after it by vfiod.service's own Before=libvirtd.service, the stand-in. Checked: the stand-in saw vfio-pci;
# e1000e never probed 00:03.0 while it did probe the control at 00:05.0; systemd ran vfiod.service before the
# stand-in; vfiod shows the device on vfio-pci and Persistent.
set -u
. /vfiod/e2e/guest/lib.sh
. /vfiod/e2e/guest/vfiod-lib.sh
RES=${E2E_RESULTS:-/results}
BDF=0000:00:03.0
CONTROL=0000:00:05.0
mkdir -p "$VFIOD_RUN"
# show UNIT PROP: one property of a unit
show() { systemctl show "$1" -p "$2" --value; }

e2e_step "boot 2: what the stand-in libvirtd saw"
echo "systemd: $(systemctl is-system-running 2>&1); failed units: $(systemctl --failed --no-legend --plain 2>&1 | tr '\n' ' ')"
e2e_assert_eq "$(show libvirtd.service ActiveState)" active "the stand-in libvirtd.service ran"
SAW=$(<"$RES/libvirtd-saw") || e2e_fail "the stand-in left no record"
echo "libvirtd stand-in: $SAW"
e2e_assert "the stand-in found $BDF on vfio-pci when it started" test -z "${SAW##*driver=vfio-pci override=vfio-pci*}"
e2e_assert_eq "$(e2e_pci_driver "$BDF")" vfio-pci "$BDF on vfio-pci"
e2e_assert_eq "$(e2e_pci_driver "$CONTROL")" e1000e "the control $CONTROL on e1000e"

e2e_step "boot 2: the kernel log"
good=$(dmesg | grep -F "e1000e $CONTROL")
bad=$(dmesg | grep -F "e1000e $BDF")
echo "e1000e lines about $BDF (must be none): ${bad:-none}"
e2e_assert "e1000e probed the control $CONTROL" test -n "$good"
e2e_assert "e1000e never probed $BDF" test -z "$bad"

e2e_step "boot 2: systemd's order"
V_ACTIVE=$(show vfiod.service ActiveEnterTimestampMonotonic)
L_START=$(show libvirtd.service InactiveExitTimestampMonotonic)
echo "vfiod.service active at ${V_ACTIVE} us; libvirtd.service left inactive (started) at ${L_START} us (monotonic)"
e2e_assert_eq "$(show vfiod.service ActiveState)" active "vfiod.service started at boot (enabled by the postinst)"
e2e_assert "libvirtd.service is ordered after vfiod.service (vfiod.service's Before=)" bash -c "systemctl show libvirtd.service -p After --value | grep -qw vfiod.service"
e2e_assert "the stand-in started only after vfiod.service was up" test "$V_ACTIVE" -gt 0 -a "$L_START" -ge "$V_ACTIVE"
printf 'cmd\t%s\t%d.%02d\n' "boot: vfiod.service active (monotonic, s)" $((V_ACTIVE / 1000000)) $((V_ACTIVE % 1000000 / 10000)) >> "$E2E_TIMINGS"
printf 'cmd\t%s\t%d.%02d\n' "boot: libvirtd stand-in started (monotonic, s)" $((L_START / 1000000)) $((L_START % 1000000 / 10000)) >> "$E2E_TIMINGS"
systemd-analyze critical-chain libvirtd.service 2>&1 | tee "$RES/critical-chain.txt"
e2e_assert "systemd-analyze critical-chain libvirtd.service goes through vfiod.service" grep -q 'vfiod.service @' "$RES/critical-chain.txt"
journalctl -b -o short-monotonic --no-pager | grep -E 'vfiod.service|libvirtd.service|Starting vfiod|Started vfiod|libvirt stand-in' \
    | tee "$RES/order.txt"

e2e_step "boot 2: vfiod"
journalctl -b -u vfiod.service --no-pager -o short-monotonic > "$RES/vfiod-journal.txt"
grep -F "$BDF" "$RES/vfiod-journal.txt"
e2e_assert "vfiod found $BDF already on vfio-pci" grep -qF "$BDF at start: already on vfio-pci" "$RES/vfiod-journal.txt"
vfiod_prop "$BDF" Driver; e2e_assert_eq "$VFIOD_VALUE" vfio-pci "D-Bus: Driver of $BDF"
vfiod_prop "$BDF" Persistent; e2e_assert_eq "$VFIOD_VALUE" true "D-Bus: $BDF is Persistent"
e2e_step_end
echo "SCENARIO systemd (boot 2): OK"
