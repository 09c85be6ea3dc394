#!/usr/bin/env bash
# The package on Debian 13 (trixie: Java 21, kernel 6.12), in a chroot made fresh with debootstrap (root only):
#   1. debootstrap --variant=minbase trixie into a folder under /var/tmp (debootstrap is installed first if missing)
#   2. apt-get install ./vfiod_<version>_all.deb in the chroot, which pulls its Depends from trixie: the Depends line
#      must resolve there (Java 21 is trixie's default JRE), and nothing may start (policy-rc.d says no)
#   3. in the chroot: a private dbus-daemon (packaging/dbus/private-bus.conf.in with the installed bus policy), the
#      installed polkitd on it, and the INSTALLED /usr/sbin/vfiod over a simulated sysfs (the build tree's module sim,
#      in a jar whose class path is the installed vfiod.jar, as packaging/test-deb.sh does)
#   4. the installed /usr/bin/vfioctl: list, show, a dry run, a Rebind and a Restore (authorized by the installed
#      polkit action, as root), resolve; then SIGTERM
#
#   packaging/test-debian13.sh [DEB]    (default: the .deb build-deb.sh makes; built first if missing)
#   DEBIAN13_MIRROR=URL                 (default http://deb.debian.org/debian)
#   KEEP_ROOT=1                         keep the chroot (its path is printed) to look at it
#
# Mounts: /proc (the chroot's own procfs) and /dev/pts only, both unmounted in the trap; this machine's /sys is never
# mounted into the chroot, nor written: the daemon runs on the simulated sysfs. Nothing is installed on this machine
# except debootstrap. Exits non-zero on the first failure.
set -euo pipefail
export LC_ALL=C.UTF-8

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$top"

n=0
step() { n=$((n + 1)); printf '\n==> [%d] %s\n' "$n" "$*"; }
ok() { printf '    ok: %s\n' "$*"; }
fail() { printf '    FAILED: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || { echo "test-debian13: run as root (debootstrap and chroot)" >&2; exit 1; }
mirror=${DEBIAN13_MIRROR:-http://deb.debian.org/debian}
started=$(date +%s)

upstream=$(python3 -c 'import sys, xml.etree.ElementTree as E; print(E.parse("pom.xml").getroot().find("{http://maven.apache.org/POM/4.0.0}version").text.strip())')
version="${upstream//-/\~}-${DEB_REVISION:-1}"
deb=${1:-packaging/target/vfiod_${version}_all.deb}
if [ ! -f "$deb" ] && [ $# -eq 0 ]; then
    step "no $deb yet: packaging/build-deb.sh"
    packaging/build-deb.sh
fi
[ -f "$deb" ] || fail "no package at $deb"
simjar=sim/target/vfiod-sim-$upstream.jar
[ -f "$simjar" ] || { echo "    building $simjar"; mvn -q -B -DskipTests package -pl sim -am; }
[ -f "$simjar" ] || fail "no $simjar"

if ! command -v debootstrap >/dev/null; then
    step "install debootstrap"
    apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends debootstrap >/dev/null || fail "apt-get install debootstrap"
fi

work=$(mktemp -d /var/tmp/vfiod-debian13.XXXXXX)
chmod 0755 "$work"
root=$work/root
mounted=()
cleanup() {
    local rc=$? i
    # the daemons of the chroot: their pid files, each ours
    for f in vfiod dbus polkitd; do
        if [ -s "$root/test/$f.pid" ]; then
            kill "$(cat "$root/test/$f.pid")" 2>/dev/null || true
        fi
    done
    sleep 0.5
    for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
        umount "${mounted[$i]}" 2>/dev/null || umount -l "${mounted[$i]}" 2>/dev/null || true
    done
    if [ "$rc" != 0 ] && [ -d "$root/test" ]; then
        for log in "$root"/test/*.log; do
            [ -s "$log" ] || continue
            echo "---- $log (last 30 lines)" >&2
            tail -30 "$log" >&2
        done
    fi
    # nothing may still be mounted beneath the folder before it is removed
    if grep -q " $work/" /proc/mounts; then
        echo "test-debian13: still mounted under $work; not removing it" >&2
    elif [ "${KEEP_ROOT:-0}" = 1 ]; then
        echo "test-debian13: the chroot is kept at $root" >&2
    else
        rm -rf "$work"
    fi
    [ "$rc" = 0 ] && echo && echo "test-debian13: all steps passed in $(( $(date +%s) - started )) s"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- 1. the root --------------------------------------------------------------------------------------------------
step "debootstrap --variant=minbase trixie $root ($mirror)"
t=$(date +%s)
debootstrap --variant=minbase trixie "$root" "$mirror" > "$work/debootstrap.log" 2>&1 \
    || { tail -20 "$work/debootstrap.log" >&2; fail "debootstrap"; }
grep -q '^13' "$root/etc/debian_version" || grep -qi trixie "$root/etc/debian_version" \
    || fail "not Debian 13: $(cat "$root/etc/debian_version")"
ok "Debian $(cat "$root/etc/debian_version") in $(( $(date +%s) - t )) s"

mount -t proc proc "$root/proc" && mounted+=("$root/proc")
mount -t devpts -o newinstance,ptmxmode=0666 devpts "$root/dev/pts" && mounted+=("$root/dev/pts")
# nothing the package installs may start a service in the chroot
printf '#!/bin/sh\nexit 101\n' > "$root/usr/sbin/policy-rc.d"
chmod 755 "$root/usr/sbin/policy-rc.d"
cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
address=unix:path=/test/bus.sock
in_root() { chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C.UTF-8 HOME=/root DEBIAN_FRONTEND=noninteractive "$@"; }
# whether a name has an owner on the chroot's bus: trixie's busctl status fails in a chroot ("Failed to get
# credentials"), so the bus itself is asked
has_owner() { [ "$(in_root busctl --address="$address" call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus NameHasOwner s "$1" 2>/dev/null)" = "b true" ]; }

# ---- 2. the package with its dependencies from trixie ---------------------------------------------------------------
step "apt-get install ./$(basename "$deb") in the chroot"
mkdir -p "$root/test"
cp "$deb" "$root/test/"
t=$(date +%s)
in_root apt-get update > "$root/test/apt.log" 2>&1 || fail "apt-get update"
in_root apt-get install -y --no-install-recommends "/test/$(basename "$deb")" >> "$root/test/apt.log" 2>&1 \
    || { grep -iE 'depends|unmet|error|E:' "$root/test/apt.log" | tail -20 >&2; fail "apt-get install of the package"; }
status=$(in_root dpkg-query -W -f='${db:Status-Abbrev}${Version}' vfiod)
[ "$status" = "ii $version" ] || fail "dpkg says '$status', expected 'ii $version'"
ok "vfiod $version installed with its dependencies in $(( $(date +%s) - t )) s"
depends=$(in_root dpkg-query -W -f='${Depends}' vfiod)
echo "    Depends: $depends"
for p in default-jre-headless openjdk-21-jre-headless dbus-daemon polkitd udev kmod; do
    v=$(in_root dpkg-query -W -f='${Version}' "$p" 2>/dev/null || true)
    printf '    %-26s %s\n' "$p" "${v:-(not installed)}"
done
java_version=$(in_root java -version 2>&1 | head -1)
grep -q '"21' <<< "$java_version" || fail "the chroot's java is not Java 21: $java_version"
ok "java: $java_version"
# Debian 13's /lib, /bin and /sbin are links into /usr: a file shipped under the aliased path is known to dpkg by
# that path only (dpkg -S of its real path finds nothing, and a move between packages can lose it: DEP 17), which
# trixie's lintian reports as an error
aliased=$(in_root dpkg -L vfiod | grep -E '^/(lib|lib32|lib64|libx32|bin|sbin)/' || true)
[ -z "$aliased" ] || fail "files under an aliased /usr-merge path: $(tr '\n' ' ' <<< "$aliased")"
for f in /usr/lib/systemd/system/vfiod.service /usr/sbin/vfiod /usr/bin/vfioctl; do
    [ "$(in_root dpkg -S "$f" 2>/dev/null | cut -d: -f1)" = vfiod ] || fail "dpkg -S $f does not name vfiod"
done
ok "no file under /lib, /bin or /sbin; dpkg -S finds the units under /usr/lib/systemd/system"
[ ! -d "$root/run/systemd/system" ] || fail "the chroot claims a running systemd"
in_root test -L /etc/systemd/system/multi-user.target.wants/vfiod.service || fail "postinst did not enable vfiod.service"
ok "postinst enabled vfiod.service (links only: no systemd runs in the chroot, nothing was started)"

# ---- 3. the installed daemon, in the chroot, on a private bus over a simulated sysfs --------------------------------
step "run: private bus, polkitd, the installed /usr/sbin/vfiod on a simulated sysfs, all in the chroot"
python3 - "$simjar" "$root/test/vfiod-sim-on-installed.jar" /usr/share/vfiod/vfiod.jar "$root" <<'PY' || fail "cannot make the jar of the simulated kernel"
import sys, zipfile
src, dst, installed, root = sys.argv[1:]
sim = 'org/vfiod/daemon/sim/'
with zipfile.ZipFile(root + installed) as z:
    if any(n.startswith(sim) for n in z.namelist()):
        sys.exit(f"{installed} holds simulated-kernel classes ({sim}): they must not ship")
with zipfile.ZipFile(src) as zi, zipfile.ZipFile(dst, 'w', zipfile.ZIP_DEFLATED) as zo:
    zo.writestr('META-INF/MANIFEST.MF', 'Manifest-Version: 1.0\r\nMain-Class: org.vfiod.daemon.sim.SimulatedVfiod\r\n'
                f'Class-Path: {installed}\r\n\r\n')
    for e in zi.infolist():
        if e.filename.startswith(sim):
            zo.writestr(e, zi.read(e))
PY
in_root java -cp /test/vfiod-sim-on-installed.jar org.vfiod.daemon.sim.SampleMachine /test/sys > /dev/null || fail "SampleMachine"
[ -d "$root/test/sys/bus/pci/devices/0000:03:00.0" ] || fail "SampleMachine made no device 0000:03:00.0"
ok "simulated sysfs /test/sys in the chroot ($(find "$root/test/sys/bus/pci/devices" -mindepth 1 -maxdepth 1 | wc -l) devices), made by the chroot's Java 21"
mkdir -p "$root/test/modules" "$root/test/modprobe.d" "$root/test/etc" "$root/test/state" "$root/test/udev-rules.d" \
    "$root/test/host/proc" "$root/test/host/dev"
echo 'alias vfio_pci:v*d*sv*sd*bc*sc*i* vfio_pci' > "$root/test/modules/modules.alias"
sed -e "s|@SOCKET@|/test/bus.sock|" -e "s|@POLICY@|/usr/share/dbus-1/system.d/org.vfiod.conf|" \
    packaging/dbus/private-bus.conf.in > "$root/test/bus.conf"
# each daemon in the background of its own shell in the chroot, its pid written where the trap finds it
in_root sh -c 'dbus-daemon --config-file=/test/bus.conf --nofork --print-address=1 > /test/bus.address 2> /test/dbus.log & echo $! > /test/dbus.pid'
for _ in $(seq 100); do [ -s "$root/test/bus.address" ] && break; sleep 0.1; done
[ -s "$root/test/bus.address" ] || fail "the chroot's dbus-daemon did not start"
ok "private bus $address, $(in_root dbus-daemon --version | head -1)"
polkitd=$(in_root sh -c 'for p in /usr/lib/polkit-1/polkitd /usr/libexec/polkitd; do [ -x $p ] && echo $p && break; done' || true)
[ -n "$polkitd" ] || fail "no polkitd in the chroot"
in_root sh -c "DBUS_SYSTEM_BUS_ADDRESS=$address $polkitd > /test/polkitd.log 2>&1 & echo \$! > /test/polkitd.pid"
polkit=no
for _ in $(seq 300); do
    has_owner org.freedesktop.PolicyKit1 && { polkit=yes; break; }
    sleep 0.1
done
[ "$polkit" = yes ] || fail "polkitd did not take its name on the chroot's bus"
ok "polkitd ($polkitd, $(in_root dpkg-query -W -f='${Version}' polkitd)) serves the bus"
in_root sh -c "VFIOD_JAR=/test/vfiod-sim-on-installed.jar /usr/sbin/vfiod --bus-address $address --sysfs-root /test/sys \
    --modules-dir /test/modules --modprobe-dir /test/modprobe.d --config-dir /test/etc --state-dir /test/state \
    --runtime-dir /test/run --udev-rules-dir /test/udev-rules.d --proc-root /test/host/proc --dev-root /test/host/dev \
    --nfd-features /test/features.d/vfiod > /test/vfiod.log 2>&1 & echo \$! > /test/vfiod.pid"
for _ in $(seq 900); do
    has_owner org.vfiod && break
    kill -0 "$(cat "$root/test/vfiod.pid")" 2>/dev/null || fail "vfiod exited before taking its name"
    sleep 0.1
done
has_owner org.vfiod || fail "vfiod did not take org.vfiod within 90 s"
grep -q 'is a simulated sysfs' "$root/test/vfiod.log" || fail "vfiod does not run on the simulated kernel; stopping before any call"
ok "the installed vfiod owns org.vfiod, on the simulated sysfs:"
sed 's/^/    | /' "$root/test/vfiod.log"

# ---- 4. the installed vfioctl ---------------------------------------------------------------------------------------
step "call it with the installed /usr/bin/vfioctl"
vfioctl() { in_root /usr/bin/vfioctl --address "$address" "$@"; }
out=$(vfioctl list 2>&1) || fail "vfioctl list: $out"
grep -q '0000:03:00.0' <<< "$out" || fail "vfioctl list lacks 0000:03:00.0: $out"
ok "vfioctl list:"
sed 's/^/    | /' <<< "$out"
out=$(vfioctl show 03:00.0 2>&1) || fail "vfioctl show: $out"
grep -q 'e1000e' <<< "$out" || fail "vfioctl show 03:00.0 does not name e1000e: $out"
ok "vfioctl show 03:00.0 ($(wc -l <<< "$out") lines)"
out=$(vfioctl rebind 03:00.0 --dry-run 2>&1) || fail "vfioctl rebind --dry-run: $out"
[ "$(basename "$(readlink "$root/test/sys/bus/pci/devices/0000:03:00.0/driver")")" = e1000e ] || fail "a dry run moved the device"
ok "vfioctl rebind 03:00.0 --dry-run: $(head -1 <<< "$out")"
out=$(vfioctl rebind 03:00.0 2>&1) || fail "vfioctl rebind (root, authorized by the installed polkit action): $out"
[ "$(basename "$(readlink "$root/test/sys/bus/pci/devices/0000:03:00.0/driver")")" = vfio-pci ] || fail "the simulated sysfs disagrees: $out"
ok "vfioctl rebind 03:00.0 (root; polkitd asked): $out"
for _ in $(seq 50); do grep -q 'vfio-8086-10d3.count=1' "$root/test/features.d/vfiod" 2>/dev/null && break; sleep 0.1; done
grep -q 'vfiod.org/vfio-8086-10d3.driver=vfio-pci' "$root/test/features.d/vfiod" || fail "the NFD feature file does not show the NIC"
ok "NFD feature file: $(grep -v '^#' "$root/test/features.d/vfiod" | tr '\n' ' ')"
out=$(vfioctl restore 03:00.0 2>&1) || fail "vfioctl restore: $out"
[ "$(basename "$(readlink "$root/test/sys/bus/pci/devices/0000:03:00.0/driver")")" = e1000e ] || fail "Restore did not give back e1000e: $out"
ok "vfioctl restore 03:00.0: $out"
out=$(vfioctl resolve 'pci:v000010DEd00002204sv00001458sd00004043bc03sc00i00' 2>&1) || fail "vfioctl resolve: $out"
grep -q vfio_pci <<< "$out" || fail "vfioctl resolve: $out"
ok "vfioctl resolve: $(head -1 <<< "$out")"

step "stop: SIGTERM"
pid=$(cat "$root/test/vfiod.pid")
kill -TERM "$pid"
for _ in $(seq 900); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
! kill -0 "$pid" 2>/dev/null || fail "vfiod still runs 90 s after SIGTERM"
grep -q 'stopped' "$root/test/vfiod.log" || fail "vfiod did not log its stop"
: > "$root/test/vfiod.pid"
ok "vfiod stopped"
