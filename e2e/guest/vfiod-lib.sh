# e2e/guest/vfiod-lib.sh: helpers for the vfiod scenarios INSIDE the e2e guest (bash, as root). Source it after
# lib.sh:
#     . /vfiod/e2e/guest/lib.sh; . /vfiod/e2e/guest/vfiod-lib.sh
# Everything here acts on the guest's own /sys, /dev and /run only.
#
# Two ways to bring the stack up:
#   vfiod_start                   a private system bus (dbus-daemon with packaging/dbus/private-bus.conf.in, on
#                                 /run/dbus/system_bus_socket, so busctl --system and gdbus --system reach it),
#                                 polkitd, and vfiod on the guest's real /sys and module tree, its config, state and
#                                 udev rules under /run/vfiod-e2e
#   vfiod_up [udevd]; vfiod_launch   the stack as the .deb installs it: vfiod's bus policy and polkit action in /usr,
#                                 Debian's own system bus (dbus-daemon --system), polkitd (udevd first, if asked), and
#                                 then vfiod with its real default paths (/etc/vfiod, /var/lib/vfiod, /etc/udev/rules.d)
#
#   vfiod_launch [ARGS...]        vfiod alone (after vfiod_start or vfiod_up; again to restart it), waits for "vfiod ready on"
#   vfiod_stop                    SIGTERM to vfiod; waits for its clean exit (143 and "stopped" in its log)
#   vfiod_stop_all                vfiod_stop, then the helpers started here (polkitd, monitors in VFIOD_PIDS)
#   vfiod_install_policies        vfiod's bus policy and polkit action into the guest's /usr overlay
#   vfiod_start_system_bus        dbus-daemon --system (Debian's system.conf)
#   vfiod_start_polkitd           polkitd; returns once it owns its name
#   vfiod_start_udevd             systemd-udevd --daemon, as Debian's initramfs starts it
#   vfiod_has_owner NAME          NAME has an owner on the bus
#   vfiod_busctl ARGS...          busctl --system with a long timeout (a JVM under TCG is slow)
#   vfiod_manager METHOD SIG ARGS...   a Manager call; its reply in VFIOD_REPLY, busctl's stderr in VFIOD_ERR
#   vfiod_prop BDF NAME           a Device property's value (strings unquoted) in VFIOD_VALUE
#   vfiod_gdbus_manager METHOD ARGS... / vfiod_gdbus_prop BDF NAME / vfiod_gdbus_list
#                                 the same through gdbus, whose output (e.g. "('vfio-pci',)") and errors carry the
#                                 D-Bus names
#   vfiod_await_prop BDF NAME VALUE SECS   polls the property until it equals VALUE; VFIOD_WAITED = seconds taken
#   vfiod_await_driver BDF DRIVER SECS     polls the driver link (bash builtins only); "" = no driver
#   vfiod_wait_for SECS WHAT CMD...        polls CMD every 0.1 s; fails the scenario after SECS
#   vfiod_timed NAME CMD...       times CMD into the timings, its output in VFIOD_OUT; CMD's exit code
#   vfiod_file_has TEXT FILE      FILE contains TEXT (builtins only)
#   vfiod_device_path BDF         the device's object path in VFIOD_PATH
#   vfiod_show_devices            one line per PCI device: ids, class, group, driver, driver_override
#   vfiod_dmesg_lines TEXT        the kernel log's lines containing TEXT
#   vfiod_variant_tree DIR        lays a module tree overlay (extra/*.ko + modules.*) over /lib/modules/$(uname -r)
#   VFIOD_SHELL_REBIND            the three sysfs writes + wait, as a script for `bash -c "$VFIOD_SHELL_REBIND" _ BDF DRV`
#   vfiod_shell_move BDF DRV      the same writes and wait in this shell (no process start); "" = back to the host driver

VFIOD_RUN=/run/vfiod-e2e
VFIOD_BUS=unix:path=/run/dbus/system_bus_socket
VFIOD_JAR=${E2E_PROJECT:-/vfiod}/daemon/target/vfiod.jar
VFIOD_LOG=${E2E_RESULTS:-/results}/vfiod.log
VFIOD_JAVA_OPTS=${VFIOD_JAVA_OPTS:--XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xshare:auto}
# more vfiod options, e.g. VFIOD_ARGS="--log-level debug"
VFIOD_ARGS=${VFIOD_ARGS:-}
# where vfiod_launch points vfiod: under /run/vfiod-e2e for vfiod_start; vfiod_up sets the installed defaults
VFIOD_CONFIG_DIR=${VFIOD_CONFIG_DIR:-$VFIOD_RUN/etc}
VFIOD_STATE_DIR=${VFIOD_STATE_DIR:-$VFIOD_RUN/state}
VFIOD_UDEV_RULES_DIR=${VFIOD_UDEV_RULES_DIR:-$VFIOD_RUN/udev-rules.d}
VFIOD_PID=""
POLKITD_PID=""
DBUS_PID=""
VFIOD_PIDS=()   # helpers to stop at the end (vfiod_stop_all): polkitd, monitors

# _vfiod_us: microseconds now (bash builtin)
_vfiod_us() { VFIOD_US=${EPOCHREALTIME/./}; }
# _vfiod_fmt US: seconds with 2 decimals in VFIOD_FMT
_vfiod_fmt() { printf -v VFIOD_FMT '%d.%02d' $(($1 / 1000000)) $(($1 % 1000000 / 10000)); }

vfiod_busctl() { busctl --system --timeout=180 "$@"; }

# vfiod_has_owner NAME: NAME has an owner on the bus
# (not `busctl status NAME`: it also wants the owner's credentials, and fails on some)
vfiod_has_owner() {
    [ "$(busctl --system call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus NameHasOwner s "$1" 2>/dev/null)" = "b true" ]
}

# _vfiod_await_name NAME SECS: until NAME has an owner on the bus
_vfiod_await_name() {
    local end=$(( ${EPOCHREALTIME/./} + $2 * 1000000 ))
    until vfiod_has_owner "$1"; do
        [ "${EPOCHREALTIME/./}" -lt $end ] || return 1
        e2e_pause 0.2
    done
}

# vfiod_wait_for SECONDS DESCRIPTION COMMAND...: poll COMMAND every 0.1 s until it succeeds; fails the scenario at the limit
vfiod_wait_for() {
    local limit=$1 what=$2 end
    shift 2
    end=$(( ${EPOCHREALTIME/./} + limit * 1000000 ))
    until "$@"; do
        [ "${EPOCHREALTIME/./}" -lt "$end" ] || e2e_fail "$what: not within ${limit}s"
        e2e_pause 0.1
    done
}

# vfiod_file_has TEXT FILE: FILE contains TEXT (fixed string; builtins only: no grep process per poll)
vfiod_file_has() {
    local text
    [ -f "$2" ] || return 1
    text=$(<"$2")
    [[ $text == *"$1"* ]]
}

# vfiod_timed NAME COMMAND...: like e2e_time (records the wall time as NAME), but the command's stdout and stderr
# land in VFIOD_OUT instead of on the console; returns the command's exit code
vfiod_timed() {
    local name=$1 t=${EPOCHREALTIME/./} rc
    shift
    VFIOD_OUT=$("$@" 2>&1); rc=$?
    _e2e_secs "$t"
    echo "=== timed: $name: ${E2E_SECS}s (exit $rc)"
    printf 'cmd\t%s\t%s\n' "$name" "$E2E_SECS" >> "$E2E_TIMINGS"
    return $rc
}

# _vfiod_log_has TEXT: the vfiod log holds TEXT (read with builtins: no process)
_vfiod_log_has() { vfiod_file_has "$1" "$VFIOD_LOG"; }

vfiod_start() {
    local top=${E2E_PROJECT:-/vfiod}
    mkdir -p "$VFIOD_RUN" /run/dbus "$VFIOD_RUN/etc" "$VFIOD_RUN/state" "$VFIOD_RUN/udev-rules.d"
    e2e_step "start the private system bus"
    sed -e "s|@SOCKET@|/run/dbus/system_bus_socket|" -e "s|@POLICY@|$top/packaging/dbus/org.vfiod.conf|" \
        "$top/packaging/dbus/private-bus.conf.in" > "$VFIOD_RUN/bus.conf" || e2e_fail "bus config"
    dbus-daemon --config-file="$VFIOD_RUN/bus.conf" --fork --print-pid=3 3> "$VFIOD_RUN/dbus.pid" \
        || e2e_fail "dbus-daemon did not start"
    DBUS_PID=$(<"$VFIOD_RUN/dbus.pid")
    local i
    for ((i = 0; i < 100; i++)); do [ -S /run/dbus/system_bus_socket ] && break; e2e_pause 0.05; done
    e2e_assert "the bus socket is there" test -S /run/dbus/system_bus_socket
    export DBUS_SYSTEM_BUS_ADDRESS=$VFIOD_BUS

    e2e_step "start polkitd and vfiod"
    # polkitd reads actions from /usr/share/polkit-1/actions: /usr is a tmpfs overlay in the guest
    mkdir -p /usr/share/polkit-1/actions
    cp "$top/packaging/polkit/org.vfiod.policy" /usr/share/polkit-1/actions/ || e2e_fail "install the polkit action"
    _vfiod_spawn_polkitd
    # (vfiod starts while polkitd takes its name: both take seconds under TCG)
    vfiod_launch
    _vfiod_await_polkitd
}

_vfiod_spawn_polkitd() {
    /usr/lib/polkit-1/polkitd --no-debug > "${E2E_RESULTS:-/results}/polkitd.log" 2>&1 &
    POLKITD_PID=$!
    VFIOD_PIDS+=("$POLKITD_PID")
}
_vfiod_await_polkitd() {
    # (120 s: under TCG on a loaded host the guest clock runs on while the guest waits for a CPU)
    _vfiod_await_name org.freedesktop.PolicyKit1 120 || { cat "${E2E_RESULTS:-/results}/polkitd.log"; e2e_fail "polkitd did not take its name"; }
    echo "ok: polkitd owns org.freedesktop.PolicyKit1"
}

# vfiod_install_policies: vfiod's bus policy and polkit action into the guest's /usr overlay, as the .deb installs them
vfiod_install_policies() {
    local top=${E2E_PROJECT:-/vfiod}
    install -D -m 0644 "$top/packaging/dbus/org.vfiod.conf" /usr/share/dbus-1/system.d/org.vfiod.conf
    install -D -m 0644 "$top/packaging/polkit/org.vfiod.policy" /usr/share/polkit-1/actions/org.vfiod.policy
}

# vfiod_start_system_bus: the guest's system bus (Debian's system.conf: it forks and drops to messagebus)
vfiod_start_system_bus() {
    mkdir -p /run/dbus
    dbus-daemon --system --fork || e2e_fail "dbus-daemon --system"
    vfiod_wait_for 20 "the system bus socket" test -S /run/dbus/system_bus_socket
    export DBUS_SYSTEM_BUS_ADDRESS=$VFIOD_BUS
}

# vfiod_start_polkitd: the real polkitd (it drops to its own user); returns once it owns its name
vfiod_start_polkitd() {
    _vfiod_spawn_polkitd
    _vfiod_await_polkitd
}

# vfiod_start_udevd: systemd-udevd as Debian's initramfs starts it (no systemd in the guest)
vfiod_start_udevd() {
    mkdir -p /run/udev
    /lib/systemd/systemd-udevd --daemon --resolve-names=never || e2e_fail "systemd-udevd --daemon"
    vfiod_wait_for 30 "udevd's control socket" test -S /run/udev/control
}

# vfiod_up [udevd]: policies, system bus, polkitd (udevd first, if asked), in the order a real boot has them; the
# next vfiod_launch runs vfiod with its installed default paths
vfiod_up() {
    mkdir -p "$VFIOD_RUN"
    vfiod_install_policies
    [ "${1:-}" = udevd ] && vfiod_start_udevd
    vfiod_start_system_bus
    vfiod_start_polkitd
    VFIOD_CONFIG_DIR=/etc/vfiod VFIOD_STATE_DIR=/var/lib/vfiod VFIOD_UDEV_RULES_DIR=/etc/udev/rules.d
}

# vfiod_launch [ARGS...]: vfiod alone (the bus and polkitd must run: vfiod_start or vfiod_up), logging to $VFIOD_LOG
# (emptied first); waits for "vfiod ready on" in that log. ARGS (and VFIOD_ARGS) go to vfiod. Sets VFIOD_PID, and
# VFIOD_LAUNCH_US (when java was started, microseconds). A scenario that restarts vfiod calls it again, with
# VFIOD_LOG set to another file.
vfiod_launch() {
    local top=${E2E_PROJECT:-/vfiod} i
    # vfiod with its defaults where they are the real thing: /sys, /lib/modules/$(uname -r), modprobe.d, and
    # udev's monitor (no udevd here: it falls back to the kernel's netlink group); its own state under /run
    : > "$VFIOD_LOG"
    # the CDS archive the host made (e2e/lib/vfiod.sh: vfiod_e2e_cds) is valid for the jar under its host path only
    local jar=$VFIOD_JAR cds=() cdsa=$top/.cache/e2e/vfiod-app.jsa hostjar hosttop
    if [ "${VFIOD_CDS:-1}" = 1 ] && [ -f "$cdsa" ] && [ -f "$cdsa.jar" ]; then
        hostjar=$(<"$cdsa.jar"); hosttop=${hostjar%/daemon/target/vfiod.jar}
        if [ "$hosttop" != "$hostjar" ] && { [ -e "$hostjar" ] || { mkdir -p "${hosttop%/*}" && ln -s "$top" "$hosttop"; }; }; then
            jar=$hostjar
            cds=(-XX:SharedArchiveFile="$cdsa" -Xlog:cds=info:file="${E2E_RESULTS:-/results}/vfiod-cds.log")
        fi
    fi
    # shellcheck disable=SC2086
    java $VFIOD_JAVA_OPTS "${cds[@]}" -jar "$jar" --bus-address "$VFIOD_BUS" \
        --config-dir "$VFIOD_CONFIG_DIR" --state-dir "$VFIOD_STATE_DIR" --udev-rules-dir "$VFIOD_UDEV_RULES_DIR" \
        ${VFIOD_ARGS:-} "$@" >> "$VFIOD_LOG" 2>&1 &
    VFIOD_PID=$!
    local t0=${EPOCHREALTIME/./}
    VFIOD_LAUNCH_US=$t0
    for ((i = 0; i < 2400; i++)); do   # up to 240 s: a JVM under TCG on a loaded host
        _vfiod_log_has "vfiod ready on" && break
        kill -0 "$VFIOD_PID" 2>/dev/null || { cat "$VFIOD_LOG"; e2e_fail "vfiod exited before it was ready"; }
        e2e_pause 0.1
    done
    _vfiod_log_has "vfiod ready on" || { cat "$VFIOD_LOG"; e2e_fail "vfiod not ready after 240 s"; }
    _vfiod_secs=$(( ${EPOCHREALTIME/./} - t0 )); _vfiod_fmt $_vfiod_secs
    echo "vfiod ready after ${VFIOD_FMT}s: $(grep -m1 'vfiod ready on' "$VFIOD_LOG")"
    if [ ${#cds[@]} -gt 0 ]; then
        if grep -q 'Mapped dynamic region' "${E2E_RESULTS:-/results}/vfiod-cds.log"; then
            echo "AppCDS: vfiod's classes came from the host-made archive ($cdsa)"
        else
            echo "AppCDS: the archive was not used (see vfiod-cds.log); classes were loaded from the jar"
        fi
    fi
    printf 'cmd\t%s\t%s\n' "vfiod start to \"ready\" (JVM, C1, SerialGC)" "$VFIOD_FMT" >> "$E2E_TIMINGS"
}

vfiod_stop() {
    [ -n "$VFIOD_PID" ] || return 0
    kill -TERM "$VFIOD_PID" 2>/dev/null
    local i
    for ((i = 0; i < 300; i++)); do kill -0 "$VFIOD_PID" 2>/dev/null || break; e2e_pause 0.1; done
    if kill -0 "$VFIOD_PID" 2>/dev/null; then
        echo "vfiod did not stop within 30 s after SIGTERM" >&2; kill -KILL "$VFIOD_PID" 2>/dev/null; return 1
    fi
    wait "$VFIOD_PID"; local rc=$?
    VFIOD_PID=""
    echo "vfiod stopped (exit $rc)"
    # a JVM ended by SIGTERM exits with 143 once its shutdown hooks ran (systemd/vfiod.service: SuccessExitStatus=143);
    # the hook logs "stopped" when the operation in flight is done and the name released
    [ "$rc" = 0 ] || [ "$rc" = 143 ] || return 1
    _vfiod_log_has "INFO  Daemon: stopped" || { echo "vfiod's log has no \"stopped\"" >&2; return 1; }
}

# vfiod_stop_all: vfiod_stop, then the helpers (polkitd, monitors: VFIOD_PIDS) get a SIGTERM; vfiod_stop's status
vfiod_stop_all() {
    local rc p i running
    vfiod_stop; rc=$?
    for p in "${VFIOD_PIDS[@]}"; do kill "$p" 2>/dev/null; done
    for ((i = 0; i < 50; i++)); do
        running=0
        for p in "${VFIOD_PIDS[@]}"; do kill -0 "$p" 2>/dev/null && running=1; done
        [ $running = 0 ] && break
        e2e_pause 0.1
    done
    VFIOD_PIDS=()
    return $rc
}

# vfiod's path of PCI device $1: the bus and the name escaped as systemd escapes labels, every character outside
# [A-Za-z0-9] as _ and two lower-case hex digits (0000:00:03.0 -> pci_0000_3a00_3a03_2e0). Builtins only.
vfiod_device_path() {
    local s=$1 out= c i
    for ((i = 0; i < ${#s}; i++)); do
        c=${s:i:1}
        if [[ $c == [0-9A-Za-z] ]]; then out+=$c; else printf -v c '_%02x' "'$c"; out+=$c; fi
    done
    VFIOD_PATH=/org/vfiod/devices/pci_$out
}

# vfiod_gdbus_manager METHOD ARGS...: a call to org.vfiod1.Manager as root; gdbus's output on stdout, its errors
# (with the D-Bus error name) on stderr
vfiod_gdbus_manager() {
    local m=$1
    shift
    gdbus call --system --timeout 180 --dest org.vfiod --object-path /org/vfiod --method "org.vfiod1.Manager.$m" "$@"
}
# vfiod_gdbus_prop BDF NAME: a property of the device object, as gdbus prints it, e.g. (<'vfio-pci'>,)
vfiod_gdbus_prop() {
    vfiod_device_path "$1"
    gdbus call --system --timeout 180 --dest org.vfiod --object-path "$VFIOD_PATH" \
        --method org.freedesktop.DBus.Properties.Get org.vfiod1.Device "$2"
}
# vfiod_gdbus_list: ListDevices as gdbus prints it
vfiod_gdbus_list() { vfiod_gdbus_manager ListDevices; }

# vfiod_dmesg_lines TEXT: the kernel log's lines containing TEXT (fixed string)
vfiod_dmesg_lines() { dmesg | grep -F -- "$1"; }

# vfiod_show_devices: one line per PCI device: address, ids, class, group, driver, driver_override
vfiod_show_devices() {
    local d o
    for d in /sys/bus/pci/devices/*; do
        o=$(<"$d/driver_override")
        printf '  %s %s:%s class=%s group=%s driver=%s override=%s\n' "${d##*/}" "$(<"$d/vendor")" "$(<"$d/device")" \
            "$(<"$d/class")" "$(e2e_pci_group "${d##*/}")" "$(e2e_pci_driver "${d##*/}")" "$o"
    done
}

# vfiod_manager METHOD SIG ARGS...: reply (busctl's text) in VFIOD_REPLY, error text in VFIOD_ERR; busctl's exit code
vfiod_manager() {
    local rc
    VFIOD_ERR=""
    VFIOD_REPLY=$(vfiod_busctl call org.vfiod /org/vfiod org.vfiod1.Manager "$@" 2> "$VFIOD_RUN/busctl.err"); rc=$?
    VFIOD_ERR=$(<"$VFIOD_RUN/busctl.err")
    return $rc
}

# vfiod_prop BDF NAME: the property's value in VFIOD_VALUE (a string without its quotes; other types as busctl prints them)
vfiod_prop() {
    local out
    vfiod_device_path "$1"
    out=$(vfiod_busctl get-property org.vfiod "$VFIOD_PATH" org.vfiod1.Device "$2") || return 1
    case "$out" in
        's "'*) out=${out#s \"}; VFIOD_VALUE=${out%\"} ;;
        *) VFIOD_VALUE=${out#* } ;;
    esac
}

# vfiod_await_prop BDF NAME VALUE SECS: poll until the property equals VALUE; VFIOD_WAITED = the seconds it took
vfiod_await_prop() {
    local t0=${EPOCHREALTIME/./} end=$(( ${EPOCHREALTIME/./} + $4 * 1000000 ))
    while :; do
        vfiod_prop "$1" "$2" && [ "$VFIOD_VALUE" = "$3" ] && break
        [ "${EPOCHREALTIME/./}" -lt $end ] || { _vfiod_fmt $(( ${EPOCHREALTIME/./} - t0 )); VFIOD_WAITED=$VFIOD_FMT; return 1; }
        e2e_pause 0.1
    done
    _vfiod_fmt $(( ${EPOCHREALTIME/./} - t0 )); VFIOD_WAITED=$VFIOD_FMT
}

# vfiod_await_driver BDF DRIVER SECS: the driver link names DRIVER ("" = unbound); builtins only
vfiod_await_driver() {
    local d=/sys/bus/pci/devices/$1 l i n=$(( ${3:-5} * 20 ))
    for ((i = 0; i <= n; i++)); do
        if [ -z "$2" ]; then [ -e "$d/driver" ] || return 0
        else [ -e "/sys/bus/pci/drivers/$2/$1" ] && return 0; fi
        e2e_pause 0.05
    done
    return 1
}

# The three writes that move a device to DRV, and a wait for the driver link, as a standalone script: this is what
# a careful admin's shell script does (compare: driverctl does unbind, override, probe, no wait).
# shellcheck disable=SC2016
VFIOD_SHELL_REBIND='
bdf=$1 drv=$2 d=/sys/bus/pci/devices/$1
echo "$drv" > "$d/driver_override" || exit 1
if [ -e "$d/driver" ]; then echo "$bdf" > "$d/driver/unbind" || exit 1; fi
echo "$bdf" > /sys/bus/pci/drivers_probe || exit 1
exec 9<> <(:)
for ((i = 0; i < 200; i++)); do
    if [ -n "$drv" ]; then [ -e "/sys/bus/pci/drivers/$drv/$bdf" ] && exit 0
    else [ -e "$d/driver" ] && exit 0; fi
    read -r -t 0.01 -u 9 _
done
echo "no driver link after 2 s" >&2; exit 1
'

# vfiod_shell_move BDF DRV: what VFIOD_SHELL_REBIND does, in this shell: no process start, builtin writes only, so
# that its time is the kernel's (DRV "" = clear the override and let the host driver probe); 1 if no link follows
vfiod_shell_move() {
    local bdf=$1 drv=$2 d=/sys/bus/pci/devices/$1 i
    echo "$drv" > "$d/driver_override" || return 1
    if [ -e "$d/driver" ]; then echo "$bdf" > "$d/driver/unbind" || return 1; fi
    echo "$bdf" > /sys/bus/pci/drivers_probe || return 1
    # drivers_probe probes synchronously: the link is normally there when the write returns
    for ((i = 0; i < 2000; i++)); do
        if [ -n "$drv" ]; then [ -e "/sys/bus/pci/drivers/$drv/$bdf" ] && return 0
        else [ -e "$d/driver" ] && return 0; fi
        e2e_pause 0.001
    done
    return 1
}

# vfiod_variant_tree DIR: DIR holds extra/<module>.ko and the modules.* files depmod made for the guest kernel's tree
# plus those modules (e2e/lib/vfiod.sh: vfiod_e2e_variant). Lays DIR over /lib/modules/$(uname -r) (read-only
# overlayfs, DIR on top), so modprobe, the kernel's request_module and vfiod see one tree holding the extra module.
vfiod_variant_tree() {
    local m=/usr/lib/modules/$(uname -r)
    mount -t overlay -o "ro,lowerdir=$1:$m" vfiod-variant-modules "$m"
}
