# Guest side of e2e/smoke.sh (runs in the e2e guest as root, with bash). Proves the harness: sysfs of an emulated
# device behind the emulated IOMMU, the host's JDK and dbus-daemon in the guest, kmod's modprobe on the guest
# kernel's modules, the three sysfs writes that move a device to vfio-pci (and back), the host's monitor (info,
# device_add, device_del).
set -u
. /vfiod/e2e/guest/lib.sh

e2e_step "find the e1000e"
BDF=$(e2e_pci_find 8086 10d3) || e2e_fail "no e1000e (8086:10d3) in the guest"
D=/sys/bus/pci/devices/$BDF
G=$(e2e_pci_group "$BDF")
echo "device:      $BDF"
echo "modalias:    $(<"$D/modalias")"
echo "driver:      $(e2e_pci_driver "$BDF")"
members=(/sys/kernel/iommu_groups/"$G"/devices/*)
echo "iommu_group: $G (members: ${members[*]##*/})"
e2e_assert_eq "$BDF" 0000:00:03.0 "the e1000e is at 00:03.0"
e2e_assert "the IOMMU put it in a group" test -n "$G"
e2e_assert_eq "$(e2e_pci_driver "$BDF")" e1000e "coldplug bound e1000e"

e2e_step "java -version"
e2e_time "java -version (first, cold cache)" java -version || e2e_fail "java -version"
# what later scenarios should use for short-lived JVMs in the guest
e2e_time "java -version (C1 only, SerialGC)" java -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -version || e2e_fail "java -version"

e2e_step "dbus-daemon --version"
e2e_time "dbus-daemon --version" dbus-daemon --version || e2e_fail "dbus-daemon --version"

e2e_step "modprobe vfio-pci"
e2e_time "modprobe vfio-pci" modprobe vfio-pci || e2e_fail "modprobe vfio-pci"
# vfio.ko asks for vfio_iommu_type1 through the kernel's usermode modprobe (request_module, asynchronous): that
# works only if the kernel's helper sees the same root as we do (switch_root, not chroot)
for ((i = 0; i < 200; i++)); do [ -d /sys/module/vfio_iommu_type1 ] && break; e2e_pause 0.05; done
e2e_assert "the kernel's own request_module loaded vfio_iommu_type1" test -d /sys/module/vfio_iommu_type1
loaded=(/sys/module/*vfio* /sys/module/irqbypass)
echo "loaded: ${loaded[*]##*/}"
e2e_assert "the vfio-pci driver is registered" test -d /sys/bus/pci/drivers/vfio-pci

e2e_step "move $BDF to vfio-pci"
e2e_time "write driver_override" e2e_write vfio-pci "$D/driver_override" || e2e_fail "driver_override"
e2e_time "write unbind" e2e_write "$BDF" "$D/driver/unbind" || e2e_fail "unbind"
e2e_time "write drivers_probe" e2e_write "$BDF" /sys/bus/pci/drivers_probe || e2e_fail "drivers_probe"
e2e_assert_eq "$(e2e_pci_driver "$BDF")" vfio-pci "driver link after the rebind"
e2e_assert "/dev/vfio/$G is a character device" test -c "/dev/vfio/$G"
ls -l /dev/vfio/

e2e_step "host checks the VM through the monitor"
e2e_signal_host rebound
e2e_wait_host checked 120 || e2e_fail "the host did not answer"

e2e_step "give $BDF back to e1000e"
e2e_write "" "$D/driver_override" || e2e_fail "clear driver_override"
e2e_write "$BDF" "$D/driver/unbind" || e2e_fail "unbind from vfio-pci"
e2e_write "$BDF" /sys/bus/pci/drivers_probe || e2e_fail "drivers_probe"
e2e_assert_eq "$(e2e_pci_driver "$BDF")" e1000e "driver link after the restore"
e2e_assert "/dev/vfio/$G is gone" test ! -e "/dev/vfio/$G"

# the host adds an e1000e behind the root port at 00:04.0 (device_add), then removes it (device_del)
e2e_step "hot-plug an e1000e via the monitor"
e2e_signal_host want-plug
NEW=0000:01:00.0
for ((i = 0; i < 600; i++)); do [ -e /sys/bus/pci/devices/$NEW/driver ] && break; e2e_pause 0.05; done
e2e_assert_eq "$(e2e_pci_driver $NEW)" e1000e "the hot-added device is bound to e1000e"
echo "hot-added $NEW in IOMMU group $(e2e_pci_group $NEW)"
e2e_signal_host want-unplug
for ((i = 0; i < 600; i++)); do [ -e /sys/bus/pci/devices/$NEW ] || break; e2e_pause 0.05; done
e2e_assert "the hot-removed device is gone" test ! -e /sys/bus/pci/devices/$NEW

e2e_step_end
echo "SMOKE: OK"
