# e2e/guest/scenario-systemd-preboot.sh: sourced by e2e/guest/systemd-init.sh (as PID 1, after the .deb is installed,
# before systemd starts) for both boots of e2e/scenario-systemd.sh. Has systemd-init.sh's arg, mark and fatal.
#   boot 1: the variant driver's module tree (e2e/lib/vfiod.sh: vfiod_e2e_variant) laid over the guest kernel's, as
#           scenario-crash has it: its probe_delay_ms makes a move slow (stop and kill during a move). From the
#           start, so udevd, modprobe and vfiod's sandbox all see one module tree. And vfiod_test_edu (e2e/edu) with
#           lock_reader=1 for the edu behind the bridge: the watchdog's wedge.
#   boot 2 (e2e.boot=multi-user): what boot 1 persisted (the rule file and 61-vfiod.rules) put in /etc as a disk
#           would have kept them, before udevd's coldplug; and a stand-in libvirtd.service, enabled as the real
#           one is (WantedBy=multi-user.target), that records the driver of 0000:00:03.0 when it starts. It says
#           nothing of vfiod: the order must come from vfiod.service's own Before=libvirtd.service.
sd_kver=$(uname -r)
if [ "$(arg e2e.boot)" != multi-user ]; then
    mount -t overlay -o "ro,lowerdir=/vfiod/.cache/e2e/variant/$sd_kver/tree:/usr/lib/modules/$sd_kver" vfiod-variant-modules \
        "/usr/lib/modules/$sd_kver" || fatal "overlay of the variant module tree"
    mark "preboot: the variant driver's module tree is over /usr/lib/modules/$sd_kver"
    # the watchdog step's driver, bound to the edu at once (no udev needed): its probe publishes a boot_vga whose
    # read waits for the device lock (lock_reader), which vfiod reads for every PCI device
    insmod "/vfiod/.cache/e2e/edu/$sd_kver/build/vfiod_test_edu.ko" lock_reader=1 || fatal "insmod vfiod_test_edu"
    mark "preboot: vfiod_test_edu loaded with lock_reader=1"
else
    sd_end=$(( ${EPOCHREALTIME/./} + 120000000 ))
    until [ -e /results/host.persisted ]; do
        [ "${EPOCHREALTIME/./}" -lt $sd_end ] || fatal "the host did not hand over the persisted files"
        sleep 0.2
    done
    mkdir -p /etc/vfiod/devices.d /etc/udev/rules.d
    cp /results/persisted/pci-0000:00:03.0.conf /etc/vfiod/devices.d/ || fatal "no persisted rule file"
    cp /results/persisted/61-vfiod.rules /etc/udev/rules.d/ || fatal "no persisted 61-vfiod.rules"
    cat > /usr/local/sbin/libvirtd-standin <<'SH'
#!/usr/bin/bash
# the e2e stand-in for libvirtd: what a VM manager starting now would find
read -r up _ < /proc/uptime
d=/sys/bus/pci/devices/0000:00:03.0
l=$(readlink $d/driver)
echo "uptime=$up driver=${l##*/} override=$(<$d/driver_override)" > /results/libvirtd-saw
SH
    chmod 755 /usr/local/sbin/libvirtd-standin
    cat > /etc/systemd/system/libvirtd.service <<'UNIT'
# written by e2e/guest/scenario-systemd-preboot.sh: a stand-in for libvirtd, ordered by nothing of its own
[Unit]
Description=libvirt stand-in (vfiod e2e): records the driver of 0000:00:03.0 when it starts
[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/local/sbin/libvirtd-standin
[Install]
WantedBy=multi-user.target
UNIT
    systemctl enable libvirtd.service 2>&1 | sed 's/^/  systemctl| /'
    [ -L /etc/systemd/system/multi-user.target.wants/libvirtd.service ] || fatal "libvirtd.service not enabled"
    mark "preboot: persisted files in /etc, the stand-in libvirtd.service enabled"
fi
