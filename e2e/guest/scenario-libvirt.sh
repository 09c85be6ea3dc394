# Guest side of e2e/scenario-libvirt.sh (runs in the e2e guest as root, with bash): libvirtd with the packaged
# hook, a real `virsh start` and `virsh destroy` of a domain whose managed='no' hostdev is the e1000e.
# libvirt's configuration is written into the guest's /etc, a tmpfs overlay: nothing reaches the host.
set -u
. /vfiod/e2e/guest/lib.sh
. /vfiod/e2e/guest/vfiod-lib.sh
R=${E2E_RESULTS:-/results}

e2e_step "find the e1000e"
BDF=$(e2e_pci_find 8086 10d3) || e2e_fail "no e1000e (8086:10d3) in the guest"
e2e_assert_eq "$BDF" 0000:00:03.0 "the e1000e is at 00:03.0"
e2e_assert_eq "$(e2e_pci_driver "$BDF")" e1000e "coldplug bound e1000e"
G=$(e2e_pci_group "$BDF")

vfiod_start

e2e_step "start libvirtd with the packaged hook"
mkdir -p /etc/libvirt/hooks/qemu.d /usr/share/vfiod /run/libvirt /var/lib/libvirt /var/log/libvirt/qemu /var/cache/libvirt
# where the package puts them (the guest's /usr and /etc are tmpfs overlays)
install -m 0755 /vfiod/packaging/libvirt/vfiod /etc/libvirt/hooks/qemu.d/vfiod || e2e_fail "install the hook"
install -m 0755 /vfiod/packaging/libvirt/libvirt-hook /usr/share/vfiod/libvirt-hook || e2e_fail "install the hook's code"
# QEMU as root without a security driver (no AppArmor here); logs to files (no virtlogd); no cgroups (no systemd)
cat > /etc/libvirt/qemu.conf <<'CONF'
user = "root"
group = "root"
dynamic_ownership = 1
security_driver = "none"
stdio_handler = "file"
cgroup_controllers = [ ]
CONF
cat > /etc/libvirt/libvirtd.conf <<'CONF'
auth_unix_rw = "none"
log_outputs = "2:file:/results/libvirtd.log"
CONF
# the host's default network is not wanted here
rm -f /etc/libvirt/qemu/networks/autostart/*.xml
libvirtd > "$R/libvirtd.stdout" 2>&1 &
LIBVIRTD_PID=$!
for ((i = 0; i < 1800; i++)); do
    [ -S /run/libvirt/libvirt-sock ] && virsh -c qemu:///system version > "$R/virsh-version.txt" 2>&1 && break
    kill -0 "$LIBVIRTD_PID" 2>/dev/null || { cat "$R/libvirtd.stdout"; e2e_fail "libvirtd exited"; }
    e2e_pause 0.5
done
e2e_assert "libvirtd answers" virsh -c qemu:///system version
export LIBVIRT_DEFAULT_URI=qemu:///system

e2e_step "define a domain with the e1000e as a managed='no' hostdev"
cat > /tmp/vm.xml <<XML
<domain type='qemu'>
  <name>e2e-vm</name>
  <memory unit='MiB'>64</memory>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <hostdev mode='subsystem' type='pci' managed='no'>
      <source><address domain='0x0000' bus='0x00' slot='0x03' function='0x0'/></source>
    </hostdev>
    <controller type='usb' model='none'/>
    <memballoon model='none'/>
  </devices>
</domain>
XML
e2e_assert "virsh define" virsh define /tmp/vm.xml
virsh dumpxml e2e-vm > "$R/e2e-vm.xml"

e2e_step "virsh start: the hook moves the e1000e to vfio-pci, QEMU opens it"
e2e_time "virsh start (prepare hook, nested QEMU under TCG)" virsh start e2e-vm > "$R/start.txt" 2>&1
rc=$?; cat "$R/start.txt"
[ "$rc" = 0 ] || { tail -30 "$R/libvirtd.log"; cat /var/log/libvirt/qemu/e2e-vm.log 2>/dev/null; e2e_fail "virsh start failed"; }
e2e_assert_eq "$(virsh domstate e2e-vm)" running "domain state"
e2e_assert_eq "$(e2e_pci_driver "$BDF")" vfio-pci "the e1000e's driver while the domain runs"
vfiod_device_path "$BDF"
users=$(vfiod_busctl call org.vfiod "$VFIOD_PATH" org.vfiod1.Device Users 2>&1)
echo "Users(): $users"
[[ $users == *"/dev/vfio/$G"* ]] || e2e_fail "vfiod's Users() does not show QEMU holding /dev/vfio/$G: $users"
echo "ok: QEMU holds /dev/vfio/$G"

e2e_step "a Restore while QEMU holds the device: InUse, nothing changed"
vfiod_manager Restore 'sa{sv}' "$BDF" 0 && e2e_fail "Restore succeeded under a running domain"
echo "Restore refused: $VFIOD_ERR"
e2e_assert_eq "$(e2e_pci_driver "$BDF")" vfio-pci "still on vfio-pci"

e2e_step "virsh destroy: the hook gives the e1000e back at release end"
e2e_time "virsh destroy (release hook)" virsh destroy e2e-vm || e2e_fail "virsh destroy"
vfiod_await_driver "$BDF" e1000e 60 || e2e_fail "the e1000e is not back on e1000e after the domain stopped"
e2e_assert_eq "$(e2e_pci_driver "$BDF")" e1000e "driver after the domain stopped"
e2e_assert_eq "$(<"/sys/bus/pci/devices/$BDF/driver_override")" "(null)" "driver_override after the domain stopped"

e2e_step "the host uses the NIC: virsh start fails with vfiod's InUse"
IF=$(ls "/sys/bus/pci/devices/$BDF/net")
ip link set "$IF" up && ip addr add 192.0.2.10/24 dev "$IF" || e2e_fail "address $IF"
virsh start e2e-vm > "$R/start-inuse.txt" 2>&1 && e2e_fail "virsh start succeeded with $IF in use"
cat "$R/start-inuse.txt"
grep -q "org.vfiod1.Error.InUse" "$R/start-inuse.txt" || e2e_fail "virsh's error does not carry vfiod's InUse"
grep -q "192.0.2.10/24" "$R/start-inuse.txt" || e2e_fail "virsh's error does not name the address"
echo "ok: virsh start shows vfiod's InUse"
e2e_assert_eq "$(virsh domstate e2e-vm)" "shut off" "domain state after the refused start"
e2e_assert_eq "$(e2e_pci_driver "$BDF")" e1000e "the e1000e stays on e1000e"

e2e_step "stop"
kill "$LIBVIRTD_PID" 2>/dev/null
vfiod_stop || e2e_fail "vfiod did not stop cleanly"
e2e_step_end
echo "scenario-libvirt: all passed"
