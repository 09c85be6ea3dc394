# Guest side of e2e/scenario-variant.sh (runs in the e2e guest as root, with bash): vfiod picks, loads and binds a
# real VFIO variant driver (e2e/variant/vfiod_test_vfio_pci.c), and rolls a failed bind back on a real kernel.
set -u
. /vfiod/e2e/guest/lib.sh
. /vfiod/e2e/guest/vfiod-lib.sh
VFIO_OPEN=/vfiod/.cache/e2e/bin/vfio-open
TREE=/vfiod/.cache/e2e/variant/$(uname -r)/tree   # per kernel (e2e/lib/vfiod.sh: vfiod_e2e_variant)
MOD=vfiod_test_vfio_pci
KVER=$(uname -r)

e2e_step "find the e1000e"
BDF=$(e2e_pci_find 8086 10d3) || e2e_fail "no e1000e (8086:10d3) in the guest"
D=/sys/bus/pci/devices/$BDF
G=$(e2e_pci_group "$BDF")
MODALIAS=$(<"$D/modalias")
echo "modalias: $MODALIAS"
e2e_assert_eq "$BDF" 0000:00:03.0 "the e1000e is at 00:03.0"
e2e_assert_eq "$(e2e_pci_driver "$BDF")" e1000e "coldplug bound e1000e"

e2e_step "the variant driver in the guest kernel's module tree"
e2e_assert "the host built the variant tree" test -f "$TREE/extra/$MOD.ko"
vfiod_variant_tree "$TREE" || e2e_fail "overlay of $TREE on /lib/modules/$KVER"
e2e_assert "/lib/modules/$KVER/extra/$MOD.ko is there" test -f "/lib/modules/$KVER/extra/$MOD.ko"
# (6.1 ships vfio-pci.ko, 6.12 vfio-pci.ko.xz)
stock=(/lib/modules/"$KVER"/kernel/drivers/vfio/pci/vfio-pci.ko{,.xz,.zst,.gz})
for f in "${stock[@]}"; do [ -f "$f" ] && break; done
e2e_assert "the stock modules are still there (${f##*/})" test -f "$f"
grep '^alias vfio_' "/lib/modules/$KVER/modules.alias"
e2e_assert "modules.alias has the variant's override-only alias" \
    grep -qxF "alias vfio_pci:v00008086d000010D3sv*sd*bc*sc*i* $MOD" "/lib/modules/$KVER/modules.alias"
e2e_assert "modprobe knows the module (modprobe --show-depends)" modprobe --show-depends "$MOD"
e2e_assert "the module is not loaded yet" test ! -d "/sys/module/$MOD"
# override-only: the kernel's own coldplug/autoload never picks it (the e1000e got e1000e above)

vfiod_start

e2e_step "Resolve prefers the variant over vfio_pci"
e2e_time "busctl Resolve" vfiod_manager Resolve s "$MODALIAS" || e2e_fail "Resolve failed: $VFIOD_ERR"
echo "Resolve replied: $VFIOD_REPLY"
[[ $VFIOD_REPLY =~ \"module\"\ s\ \"([^\"]*)\" ]] || e2e_fail "no module in the Resolve reply"
e2e_assert_eq "${BASH_REMATCH[1]}" "$MOD" "Resolve: module"
[[ $VFIOD_REPLY =~ \"wildcards\"\ u\ ([0-9]+) ]] || e2e_fail "no wildcards in the Resolve reply"
e2e_assert_eq "${BASH_REMATCH[1]}" 5 "Resolve: wildcards (the catch-all has 7)"
[[ $VFIOD_REPLY =~ \"pattern\"\ s\ \"([^\"]*)\" ]] && echo "pattern: ${BASH_REMATCH[1]}"
vfiod_prop "$BDF" VfioDriver && e2e_assert_eq "$VFIOD_VALUE" "$MOD" "VfioDriver property"

e2e_step "Rebind: vfiod loads the variant and binds it"
e2e_time "busctl Rebind (modprobe $MOD + bind)" vfiod_manager Rebind 'sa{sv}' "$BDF" 0 \
    || e2e_fail "Rebind failed: $VFIOD_ERR"
e2e_assert_eq "$VFIOD_REPLY" "s \"$MOD\"" "Rebind's reply (the driver it bound)"
e2e_assert "vfiod loaded $MOD" test -d "/sys/module/$MOD"
e2e_assert_eq "$(e2e_pci_driver "$BDF")" "$MOD" "sysfs driver link"
e2e_assert_eq "$(<"$D/driver_override")" "$MOD" "sysfs driver_override"
e2e_assert "vfio_pci (the catch-all) was not needed" test ! -d /sys/module/vfio_pci
e2e_assert "/dev/vfio/$G is a character device" test -c "/dev/vfio/$G"
vfiod_prop "$BDF" Driver; e2e_assert_eq "$VFIOD_VALUE" "$MOD" "Driver property"
vfiod_prop "$BDF" State && echo "State: $VFIOD_VALUE"
out=$("$VFIO_OPEN" "$BDF" 2>&1); rc=$?
echo "$out" | sed 's/^/  vfio-open| /'
e2e_assert_eq "$rc" 0 "vfio-open through the variant driver"
[[ $out == *$'\nvendor=0x8086\n'* && $out == *$'\ndevice=0x10d3\n'* ]] || e2e_fail "ids read through the variant"
echo "ok: 8086:10d3 read from config space through the variant driver"

e2e_step "Restore"
e2e_time "busctl Restore" vfiod_manager Restore 'sa{sv}' "$BDF" 0 || e2e_fail "Restore failed: $VFIOD_ERR"
e2e_assert_eq "$(e2e_pci_driver "$BDF")" e1000e "sysfs driver link after the Restore"
e2e_assert_eq "$(<"$D/driver_override")" "(null)" "driver_override after the Restore"

e2e_step "a failing probe: Rebind fails and rolls back"
P=/sys/module/$MOD/parameters/fail_probe
e2e_write 1 "$P" || e2e_fail "write $P"
e2e_assert_eq "$(<"$P")" Y "fail_probe is set"
t=${EPOCHREALTIME/./}
err=$(gdbus call --system --timeout 180 --dest org.vfiod --object-path /org/vfiod \
      --method org.vfiod1.Manager.Rebind "$BDF" '{}' 2>&1); rc=$?
_vfiod_fmt $(( ${EPOCHREALTIME/./} - t )); printf 'cmd\t%s\t%s\n' "gdbus Rebind (probe fails, rollback)" "$VFIOD_FMT" >> "$E2E_TIMINGS"
echo "gdbus (exit $rc, ${VFIOD_FMT}s): $err"
e2e_assert "the Rebind failed" test "$rc" != 0
[[ $err == *"GDBus.Error:org.vfiod1.Error.Failed: "* ]] || e2e_fail "the error is not org.vfiod1.Error.Failed"
echo "ok: error name org.vfiod1.Error.Failed"
[[ $err == *"bind $BDF to $MOD failed"* ]] || e2e_fail "the message does not name the failed step (bind $BDF to $MOD)"
echo "ok: the message names the failed step: bind $BDF to $MOD"
[[ $err == *"rolled back"* ]] || e2e_fail "the message does not say it rolled back"
echo "ok: the message says it rolled back"
e2e_assert_eq "$(e2e_pci_driver "$BDF")" e1000e "sysfs driver link after the rollback"
e2e_assert_eq "$(<"$D/driver_override")" "(null)" "driver_override cleared by the rollback"
e2e_assert "/dev/vfio/$G is not there" test ! -e "/dev/vfio/$G"
dmesg | grep -F "fail_probe is set" | tail -1
dmesg | grep -F "$MOD" | grep -i "probe.*fail\|failed with error" | tail -2
vfiod_prop "$BDF" Driver; e2e_assert_eq "$VFIOD_VALUE" e1000e "Driver property after the rollback"
vfiod_prop "$BDF" DriverOverride; e2e_assert_eq "$VFIOD_VALUE" "" "DriverOverride property after the rollback"

e2e_step "fail_probe off: the variant binds again"
e2e_write 0 "$P" || e2e_fail "write $P"
e2e_time "busctl Rebind (module loaded)" vfiod_manager Rebind 'sa{sv}' "$BDF" 0 || e2e_fail "Rebind failed: $VFIOD_ERR"
e2e_assert_eq "$(e2e_pci_driver "$BDF")" "$MOD" "sysfs driver link"
e2e_time "busctl Restore" vfiod_manager Restore 'sa{sv}' "$BDF" 0 || e2e_fail "Restore failed: $VFIOD_ERR"
e2e_assert_eq "$(e2e_pci_driver "$BDF")" e1000e "sysfs driver link after the Restore"

e2e_step "stop vfiod"
vfiod_stop || e2e_fail "vfiod did not stop cleanly"

e2e_step_end
echo "SCENARIO-VARIANT: OK"
