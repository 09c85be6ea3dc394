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
#   5. the Kubernetes image's entrypoint (deploy/kubernetes/image/vfiod-container) as the image runs it, on this same
#      trixie root: the ConfigMap's rules laid out as a ConfigMap volume lays them (symbolic links into ..data/),
#      the DaemonSet's args, the pod's own system bus and polkitd; the rules must move their devices (a VF a variant
#      driver claims goes to vfio-pci by its rule's policy) and the NFD feature file must say so
#
#   packaging/test-debian13.sh [DEB]    (default: the .deb build-deb.sh makes; built first if missing)
#   DEBIAN13_MIRROR=URL                 (default: the Debian mirror this machine's apt uses)
#   KEEP_ROOT=1                         keep the chroot (its path is printed) to look at it
#   DEBIAN13_CACHE=DIR                  where downloaded packages are kept between runs (default
#                                       /var/cache/vfiod-test/debian13; "none": download each time). Packages
#                                       unused for 30 days are removed. Mostly, a run then spends its time unpacking
#
# Mounts: /proc (the chroot's own procfs), /dev/pts, and the package cache on /var/cache/apt/archives, all unmounted
# in the trap; this machine's /sys is never
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
# the mirror of this machine's own apt sources (its main suite's, not -security or -updates)
mirror=${DEBIAN13_MIRROR:-$(apt-get indextargets --format '$(URI)' 2>/dev/null | sed -n 's|/dists/[^/-]*/.*||p' | head -1)}
[ -n "$mirror" ] || { echo "test-debian13: no Debian mirror in this machine's apt sources: set DEBIAN13_MIRROR" >&2; exit 1; }
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

cache=${DEBIAN13_CACHE:-/var/cache/vfiod-test/debian13}
if [ "$cache" != none ]; then
    mkdir -p "$cache/debootstrap" "$cache/apt/partial"
    find "$cache" -name '*.deb' -atime +30 -delete
fi

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
    for f in test/vfiod.pid test/dbus.pid test/polkitd.pid test/container.pid run/dbus/pid run/polkitd.pid; do
        if [ -s "$root/$f" ]; then
            kill "$(cat "$root/$f")" 2>/dev/null || true
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
cache_opt=()
[ "$cache" = none ] || cache_opt=(--cache-dir="$cache/debootstrap")
debootstrap "${cache_opt[@]}" --variant=minbase trixie "$root" "$mirror" > "$work/debootstrap.log" 2>&1 \
    || { tail -20 "$work/debootstrap.log" >&2; fail "debootstrap"; }
grep -q '^13' "$root/etc/debian_version" || grep -qi trixie "$root/etc/debian_version" \
    || fail "not Debian 13: $(cat "$root/etc/debian_version")"
ok "Debian $(cat "$root/etc/debian_version") in $(( $(date +%s) - t )) s"

mount -t proc proc "$root/proc" && mounted+=("$root/proc")
mount -t devpts -o newinstance,ptmxmode=0666 devpts "$root/dev/pts" && mounted+=("$root/dev/pts")
# apt's downloads go to the cache (a folder of this machine's, not one of its system's)
if [ "$cache" != none ]; then
    mount --bind "$cache/apt" "$root/var/cache/apt/archives" && mounted+=("$root/var/cache/apt/archives")
fi
# nothing the package installs may start a service in the chroot
printf '#!/bin/sh\nexit 101\n' > "$root/usr/sbin/policy-rc.d"
chmod 755 "$root/usr/sbin/policy-rc.d"
cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
address=unix:path=/test/bus.sock
in_root() { chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C.UTF-8 HOME=/root DEBIAN_FRONTEND=noninteractive "$@"; }
# whether a name has an owner on the chroot's bus: trixie's busctl status fails in a chroot ("Failed to get
# credentials"), so the bus itself is asked
has_owner() { owner_on "$address" "$1"; }
owner_on() { [ "$(in_root busctl --address="$1" call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus NameHasOwner s "$2" 2>/dev/null)" = "b true" ]; }
# await_vfiod BUS PIDFILE LOG WHO: up to 90 s for org.vfiod on BUS while the process of PIDFILE (in the root) lives;
# then LOG must say it runs on the simulated kernel, or nothing is called
await_vfiod() {
    local bus=$1 pidfile=$2 log=$3 who=$4
    for _ in $(seq 900); do
        owner_on "$bus" org.vfiod && break
        kill -0 "$(cat "$root$pidfile")" 2>/dev/null || fail "$who exited before taking its name"
        sleep 0.1
    done
    owner_on "$bus" org.vfiod || fail "$who did not take org.vfiod on $bus within 90 s"
    grep -q 'is a simulated sysfs' "$root$log" || fail "$who does not run on the simulated kernel; stopping before any call"
}

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
await_vfiod "$address" /test/vfiod.pid /test/vfiod.log vfiod
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

# ---- 5. the Kubernetes image's entrypoint, with the ConfigMap's rules and the DaemonSet's args ----------------------
step "deploy/kubernetes/image/vfiod-container in the chroot: the ConfigMap's rules, the DaemonSet's args"
kube=deploy/kubernetes
install -m 0755 "$kube/image/vfiod-container" "$root/usr/local/sbin/vfiod-container"
# the ConfigMap as kubelet mounts it: each key a symbolic link into ..data/, and the DaemonSet's args, one a line
/usr/bin/python3 - "$kube" "$root/etc/vfiod/configmap" "$root/test/daemonset.args" <<'PY' || fail "cannot read the manifests"
import os, pathlib, sys, yaml
kube, volume, args = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]), pathlib.Path(sys.argv[3])
docs = [d for f in sorted(kube.glob("*.yaml")) for d in yaml.safe_load_all(f.read_text()) if d]
cm = next(d for d in docs if d["kind"] == "ConfigMap")
ds = next(d for d in docs if d["kind"] == "DaemonSet")
data = volume / "..2026_01_01_00_00_00.000000001"
data.mkdir(parents=True)
for key, text in cm["data"].items():
    (data / key).write_text(text)
os.symlink(data.name, volume / "..data")
for key in cm["data"]:
    os.symlink("..data/" + key, volume / key)
mount = next(m for m in ds["spec"]["template"]["spec"]["containers"][0]["volumeMounts"] if m["name"] == "rules")
assert mount["mountPath"] == "/etc/vfiod/configmap", mount
args.write_text("".join(a + "\n" for a in ds["spec"]["template"]["spec"]["containers"][0]["args"]))
PY
ok "ConfigMap volume /etc/vfiod/configmap: $(cd "$root/etc/vfiod/configmap" && for f in *.conf; do printf '%s -> %s  ' "$f" "$(readlink "$f")"; done)"
mapfile -t ds_args < "$root/test/daemonset.args"
ok "DaemonSet args: ${ds_args[*]}"
# what a node with a ConnectX-6 Dx has: mlx5_vfio_pci claims its VFs (override-only vfio_ alias), vfio-pci anything
printf 'alias vfio_pci:v*d*sv*sd*bc*sc*i* vfio_pci\nalias vfio_pci:v000015B3d0000101Esv*sd*bc*sc*i* mlx5_vfio_pci\n' \
    > "$root/test/modules/modules.alias"
[ "$(basename "$(readlink "$root/test/sys/bus/pci/devices/0000:04:00.1/driver")")" = mlx5_core ] || fail "the VF is not on mlx5_core to begin with"
# only the paths of the simulation are added to the DaemonSet's args; the rules, the features file and the bus are
# the image's defaults (/etc/vfiod, /etc/kubernetes/node-feature-discovery/features.d, /run/dbus/system_bus_socket)
in_root sh -c "VFIOD_JAR=/test/vfiod-sim-on-installed.jar /usr/local/sbin/vfiod-container ${ds_args[*]} \
    --sysfs-root /test/sys --modules-dir /test/modules --modprobe-dir /test/modprobe.d --state-dir /test/state \
    --runtime-dir /test/run --proc-root /test/host/proc --dev-root /test/host/dev > /test/container.log 2>&1 & echo \$! > /test/container.pid"
system_bus=unix:path=/run/dbus/system_bus_socket
await_vfiod "$system_bus" /test/container.pid /test/container.log "the entrypoint's vfiod"
ok "the entrypoint's bus, polkitd and vfiod run; vfiod owns org.vfiod on $system_bus:"
sed 's/^/    | /' "$root/test/container.log"
for f in "$root"/etc/vfiod/devices.d/*.conf; do
    [ -f "$f" ] && [ ! -L "$f" ] || fail "$f is not a regular file"
done
ok "the rules are regular files in /etc/vfiod/devices.d: $(cd "$root/etc/vfiod/devices.d" && echo *.conf)"
[ "$(basename "$(readlink "$root/test/sys/bus/pci/devices/0000:04:00.1/driver")")" = vfio-pci ] \
    || fail "the VF 0000:04:00.1 (15b3:101e) is not on vfio-pci, as mlx5-vf.conf asks"
grep -q '0000:04:00.1: vfio-pci instead of the variant driver mlx5_vfio_pci, by the driver policy prefer-vfio-pci' "$root/test/container.log" \
    || fail "the log does not say why the VF is on vfio-pci"
ok "mlx5-vf.conf moved the VF 0000:04:00.1 to vfio-pci, not mlx5_vfio_pci (its driver-policy), and the log says why"
features=$root/etc/kubernetes/node-feature-discovery/features.d/vfiod
for _ in $(seq 50); do grep -q 'vfio-15b3-101e.driver=vfio-pci' "$features" 2>/dev/null && break; sleep 0.1; done
grep -q '^vfiod.org/vfio-15b3-101e.driver=vfio-pci$' "$features" || fail "the NFD feature file lacks the VF: $(cat "$features" 2>&1)"
ok "NFD feature file $(sed "s|$root||" <<< "$features"): $(grep -v '^#' "$features" | tr '\n' ' ')"
out=$(in_root /usr/bin/vfioctl list 2>&1) || fail "vfioctl list on the pod's system bus: $out"
grep -q '0000:04:00.1.*vfio-pci' <<< "$out" || fail "vfioctl list: $out"
ok "kubectl exec's view: vfioctl list (the pod's system bus, no --address): $(grep -c '^0000:' <<< "$out") devices"
pid=$(cat "$root/test/container.pid")
kill -TERM "$pid"
for _ in $(seq 900); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
! kill -0 "$pid" 2>/dev/null || fail "the entrypoint's vfiod still runs 90 s after SIGTERM: the entrypoint must exec it"
grep -q 'stopped' "$root/test/container.log" || fail "vfiod did not drain and log its stop on SIGTERM"
: > "$root/test/container.pid"
ok "SIGTERM reached vfiod (the entrypoint execs it) and it stopped"
