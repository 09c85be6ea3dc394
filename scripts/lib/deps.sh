# scripts/lib/deps.sh: the one list of the Debian 12 packages that vfiod's scripts need, by purpose, and
# ensure_packages, which installs what is missing. Sourced (bash) by scripts/demo, scripts/test (and so by .ci/run,
# which only calls scripts/test) and e2e/setup.sh.
#
#   deps_packages PURPOSE...      the packages of these purposes, once each, one a line
#   deps_missing PURPOSE...       those of them that are not installed
#   deps_install_hint PURPOSE...  the one command that installs what is missing (empty when nothing is)
#   ensure_packages PURPOSE...    as root: `apt-get update` (once per run, and only when something is missing),
#                                 then install what is missing; fails if apt does. Not root: installs nothing,
#                                 returns 1 when something is missing (the caller says what it skips)
#
# Purposes: build (compile and the unit tests), demo, it (the D-Bus integration tests), e2e (the QEMU end-to-end
# scenarios; e2e/setup.sh adds the headers of the kernels it picks), arm64 (the host's tools for the arm64 guest of
# e2e/run-all.sh --arch arm64), deb (build, install and test the package, on Debian 12 and in a Debian 13 chroot:
# debootstrap), k8s (the manifests' check), cockpit (the page's browser test).

# The JDK and Maven; libudev1 for the udev binding, udev for hwdb.bin (UdevHardwareNamesTest fails under CI without
# it); ip (iproute2) and unshare (util-linux) for the kernel checks and the real-uevent tests.
DEPS_BUILD=(openjdk-17-jdk-headless maven libudev1 udev iproute2 util-linux)
# dbus-daemon for the private bus, busctl (systemd) to wait for vfiod and for the calls the demo prints, polkitd to
# authorize them, gdbus (libglib2.0-bin) for the one gdbus call it prints.
DEPS_DEMO=(dbus-daemon systemd polkitd libglib2.0-bin)
# The same, and dbus-send (dbus-bin) for calls gdbus would check against the introspection, setpriv (util-linux) for
# callers as other users, python3 for WatchdogIT's datagram reader, useradd (passwd) for scripts/setup-test-system.
# getfacl (acl) checks the ACLs vfiod puts on VFIO nodes; virsh (libvirt) writes the domain XML the libvirt hook's
# test feeds it, and python3-gi runs the hook and the Gio client.
DEPS_IT=(dbus-daemon dbus-bin systemd polkitd libglib2.0-bin util-linux python3 passwd procps
    acl libvirt-daemon-system libvirt-clients python3-gi)
# The host's tools (QEMU, busybox-static and cpio for the initramfs, kmod for depmod, gcc/make/libc6-dev for test
# modules, xz-utils, zstd and binutils to unpack vmlinux (6.1: xz, 6.12: zstd) and 6.12's .ko.xz boot modules,
# python3 for the monitor helper), and what the guests run from the host's /usr: dbus-daemon, polkitd, gdbus,
# libudev1, driverctl (the comparison), ip, mkfs.ext4, python3-dbus, getfacl (acl) and setpriv (util-linux) for the
# grant scenario, libvirtd and virsh for the libvirt scenario, systemd and dbus (the system bus unit) for the
# scenario with systemd as PID 1.
DEPS_E2E=(qemu-system-x86 busybox-static cpio kmod gcc libc6-dev make xz-utils zstd binutils python3
    dbus-daemon polkitd libglib2.0-bin libudev1 driverctl iproute2 e2fsprogs python3-dbus acl util-linux
    libvirt-daemon-system libvirt-clients systemd dbus)
# e2e/arm64/setup.sh (the arm64 guest: e2e/run-all.sh --arch arm64): QEMU for aarch64, the cross compiler for the
# vfio modules Debian's arm64 kernels do not build (vfio-platform, vfio with no-IOMMU mode), cpio for the initramfs,
# kmod for depmod, xz-utils to unpack the kernel source, patch for the fix 6.1's vfio-platform lacks. The guest's own
# arm64 packages (kernel, headers, source, JRE, dbus, polkitd) are not installed on the host: the script downloads
# and unpacks them under .cache/arm64.
DEPS_ARM64=(qemu-system-arm gcc-aarch64-linux-gnu make cpio kmod xz-utils patch python3)
# build-deb.sh: dpkg-deb, gzip, python3, unzip, lintian, systemd-analyze (systemd), and git (the maintainer and the
# date come from the last commit); test-deb.sh installs the .deb, so its Depends are here too (a Java 17 runtime comes
# with the JDK above): dbus, polkitd, udev, kmod.
DEPS_DEB=(dpkg gzip python3 unzip lintian systemd git dbus polkitd udev kmod debootstrap)
# deploy/kubernetes/check-manifests: the manifests (YAML) against JSON schemas.
DEPS_K8S=(python3 python3-yaml python3-jsonschema)
# packaging/cockpit/test-cockpit.sh: Cockpit's web server, bridge and shell (its PatternFly CSS), Chromium with its
# WebDriver, and Selenium to drive it.
DEPS_COCKPIT=(cockpit-ws cockpit-bridge cockpit-system chromium chromium-driver python3-selenium dbus-daemon polkitd)

deps_packages() {
    local purpose
    for purpose; do
        case $purpose in
            build) printf '%s\n' "${DEPS_BUILD[@]}" ;;
            demo) printf '%s\n' "${DEPS_DEMO[@]}" ;;
            it) printf '%s\n' "${DEPS_IT[@]}" ;;
            e2e) printf '%s\n' "${DEPS_E2E[@]}" ;;
            arm64) printf '%s\n' "${DEPS_ARM64[@]}" ;;
            deb) printf '%s\n' "${DEPS_DEB[@]}" ;;
            k8s) printf '%s\n' "${DEPS_K8S[@]}" ;;
            cockpit) printf '%s\n' "${DEPS_COCKPIT[@]}" ;;
            *) echo "deps.sh: no such purpose: $purpose (build, demo, it, e2e, arm64, deb, k8s, cockpit)" >&2; return 2 ;;
        esac
    done | awk '!seen[$0]++'
}

deps_installed() {
    dpkg-query -W -f='${Status}\n' "$1" 2>/dev/null | grep -q '^install ok installed$'
}

deps_missing() {
    local list p
    list=$(deps_packages "$@") || return
    for p in $list; do
        deps_installed "$p" || echo "$p"
    done
}

deps_install_hint() {
    local missing
    missing=$(deps_missing "$@") || return
    [ -z "$missing" ] || echo "sudo apt-get install --no-install-recommends" $missing
}

# `apt-get update` at most once per run, even across scripts: the first one exports that it ran.
deps_apt_update_once() {
    [ -n "${VFIOD_APT_UPDATED:-}" ] && return 0
    echo "deps: apt-get update" >&2
    apt-get -o DPkg::Lock::Timeout=600 -q update >&2
    export VFIOD_APT_UPDATED=1
}

ensure_packages() {
    local missing
    missing=$(deps_missing "$@") || return 2
    [ -z "$missing" ] && return 0
    [ "$(id -u)" = 0 ] || return 1
    deps_apt_update_once
    echo "deps: installing" $missing >&2
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 -q install -y --no-install-recommends $missing >&2
}
