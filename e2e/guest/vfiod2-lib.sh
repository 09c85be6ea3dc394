# e2e/guest/vfiod2-lib.sh: guest-side helpers for scenarios 3-5 (group, boot, hotplug). Source it AFTER lib.sh:
#     . /vfiod/e2e/guest/lib.sh; . /vfiod/e2e/guest/vfiod2-lib.sh
# Runs INSIDE the e2e guest only: every sysfs write, module load and daemon here belongs to the guest.
#
# The guest gets a real system bus (dbus-daemon --system, Debian's system.conf, /run/dbus/system_bus_socket),
# the real polkitd, the real systemd-udevd when a scenario asks for it, and vfiod with its real default paths
# (/etc/vfiod, /var/lib/vfiod, /etc/udev/rules.d), all in the guest's tmpfs overlays. Logs go to /results.

V2_BUS=unix:path=/run/dbus/system_bus_socket
V2_JAR=${V2_JAR:-/vfiod/daemon/target/vfiod.jar}
V2_JAVA_OPTS=${V2_JAVA_OPTS:--XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xshare:auto}
V2_LOG=${E2E_RESULTS:-/results}/vfiod.log
V2_PIDS=()

# v2_wait_for SECONDS DESCRIPTION COMMAND...: poll COMMAND every 0.1 s until it succeeds; fails the scenario at the limit
v2_wait_for() {
    local limit=$1 what=$2 end
    shift 2
    end=$(( ${EPOCHREALTIME/./} + limit * 1000000 ))
    until "$@"; do
        [ "${EPOCHREALTIME/./}" -lt "$end" ] || e2e_fail "$what: not within ${limit}s"
        e2e_pause 0.1
    done
}
# v2_grep_file PATTERN FILE: fixed-string search with builtins only (no grep process per poll)
v2_grep_file() {
    local text
    [ -f "$2" ] || return 1
    text=$(<"$2")
    [[ $text == *"$1"* ]]
}

# v2_timed NAME COMMAND...: like e2e_time (records the wall time as NAME), but the command's stdout and stderr land
# in V2_OUT instead of on the console; returns the command's exit code
v2_timed() {
    local name=$1 t=${EPOCHREALTIME/./} rc
    shift
    V2_OUT=$("$@" 2>&1); rc=$?
    _e2e_secs "$t"
    echo "=== timed: $name: ${E2E_SECS}s (exit $rc)"
    printf 'cmd\t%s\t%s\n' "$name" "$E2E_SECS" >> "$E2E_TIMINGS"
    return $rc
}

# v2_install_policies: vfiod's bus policy and polkit actions into the guest's /usr overlay, as the .deb installs them
v2_install_policies() {
    install -D -m 0644 /vfiod/packaging/dbus/org.vfiod.conf /usr/share/dbus-1/system.d/org.vfiod.conf
    install -D -m 0644 /vfiod/packaging/polkit/org.vfiod.policy /usr/share/polkit-1/actions/org.vfiod.policy
}

# v2_start_bus: the guest's system bus (Debian's system.conf: it forks and drops to messagebus)
v2_start_bus() {
    mkdir -p /run/dbus
    dbus-daemon --system --fork || e2e_fail "dbus-daemon --system"
    v2_wait_for 20 "the system bus socket" test -S /run/dbus/system_bus_socket
    export DBUS_SYSTEM_BUS_ADDRESS=$V2_BUS
}

# v2_has_owner NAME: whether NAME is owned on the guest's system bus
v2_has_owner() {
    [[ $(gdbus call --system --dest org.freedesktop.DBus --object-path /org/freedesktop/DBus \
        --method org.freedesktop.DBus.NameHasOwner "$1" 2>/dev/null) == *true* ]]
}

# v2_start_polkitd: the real polkitd (it drops to its own user); returns once it owns its name
v2_start_polkitd() {
    /usr/lib/polkit-1/polkitd --no-debug > "${E2E_RESULTS:-/results}/polkitd.log" 2>&1 &
    V2_PIDS+=($!)
    v2_wait_for 60 "polkitd owns org.freedesktop.PolicyKit1" v2_has_owner org.freedesktop.PolicyKit1
}

# v2_start_udevd: systemd-udevd as Debian's initramfs starts it (no systemd in the guest)
v2_start_udevd() {
    mkdir -p /run/udev
    /lib/systemd/systemd-udevd --daemon --resolve-names=never || e2e_fail "systemd-udevd --daemon"
    v2_wait_for 30 "udevd's control socket" test -S /run/udev/control
}

# v2_start_vfiod [ARGS...]: vfiod on the guest's system bus with its real default paths; returns once it logged
# "vfiod ready on" (it has then moved the persisted devices and owns org.vfiod)
v2_start_vfiod() {
    # shellcheck disable=SC2086
    java $V2_JAVA_OPTS -jar "$V2_JAR" --bus-address "$V2_BUS" --config-dir /etc/vfiod --state-dir /var/lib/vfiod \
        --udev-rules-dir /etc/udev/rules.d "$@" >> "$V2_LOG" 2>&1 &
    V2_VFIOD_PID=$!
    V2_PIDS+=($!)
    v2_wait_for 240 "vfiod ready (see vfiod.log)" _v2_vfiod_ready
}
_v2_vfiod_ready() {
    kill -0 "$V2_VFIOD_PID" 2>/dev/null || { cat "$V2_LOG" >&2; e2e_fail "vfiod exited before it was ready"; }
    v2_grep_file "vfiod ready on" "$V2_LOG"
}

# v2_up [udevd]: policies, bus, polkitd (and udevd first, if asked), in the order a real boot has them
v2_up() {
    v2_install_policies
    [ "${1:-}" = udevd ] && v2_start_udevd
    v2_start_bus
    v2_start_polkitd
}

# v2_path BDF: the device's object path (/org/vfiod/devices/pci_0000_00_03_0)
v2_path() { local p=${1//[:.]/_}; echo "/org/vfiod/devices/pci_$p"; }

# v2_manager METHOD ARGS...: a call to org.vfiod1.Manager as root; gdbus's output on stdout, its errors on stderr
v2_manager() {
    local m=$1
    shift
    gdbus call --system --dest org.vfiod --object-path /org/vfiod --method "org.vfiod1.Manager.$m" "$@"
}
# v2_prop BDF NAME: a property of the device object, as gdbus prints it, e.g. (<'vfio-pci'>,)
v2_prop() {
    gdbus call --system --dest org.vfiod --object-path "$(v2_path "$1")" \
        --method org.freedesktop.DBus.Properties.Get org.vfiod1.Device "$2"
}
# v2_list: ListDevices as gdbus prints it
v2_list() { v2_manager ListDevices; }

# v2_wait_driver BDF DRIVER SECONDS: poll the driver link ("" = no driver) until it names DRIVER
v2_wait_driver() {
    local bdf=$1 want=$2 limit=$3
    v2_wait_for "$limit" "$bdf on '${want}' (now: $(e2e_pci_driver "$bdf"))" _v2_driver_is "$bdf" "$want"
}
_v2_driver_is() { [ "$(e2e_pci_driver "$1")" = "$2" ]; }

# v2_dmesg_lines PATTERN: kernel log lines containing PATTERN (fixed string)
v2_dmesg_lines() { dmesg | grep -F -- "$1"; }

# v2_show_devices: one line per PCI device: address, ids, class, group, driver, driver_override
v2_show_devices() {
    local d o
    for d in /sys/bus/pci/devices/*; do
        o=$(<"$d/driver_override")
        printf '  %s %s:%s class=%s group=%s driver=%s override=%s\n' "${d##*/}" "$(<"$d/vendor")" "$(<"$d/device")" \
            "$(<"$d/class")" "$(e2e_pci_group "${d##*/}")" "$(e2e_pci_driver "${d##*/}")" "$o"
    done
}

# v2_stop: stop what v2_* started (vfiod gets a SIGTERM and a few seconds to release the name)
v2_stop() {
    local p i running
    for p in "${V2_PIDS[@]}"; do kill "$p" 2>/dev/null; done
    for ((i = 0; i < 50; i++)); do
        running=0
        for p in "${V2_PIDS[@]}"; do kill -0 "$p" 2>/dev/null && running=1; done
        [ $running = 0 ] && break
        e2e_pause 0.1
    done
    V2_PIDS=()
}
