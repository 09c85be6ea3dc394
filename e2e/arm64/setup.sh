#!/usr/bin/env bash
# e2e/arm64/setup.sh: prepare the arm64 guest of the end-to-end harness (issue 18: a real platform device on a real
# kernel). Idempotent; needs root for the host packages (scripts/lib/deps.sh, purpose arm64). Everything of the
# guest lives under .cache/arm64/ and nothing arm64 is installed on the host:
#
#  1. a private apt configuration for arm64 (.cache/arm64/apt: Debian 12's lists, arch arm64 only; the host's dpkg
#     is not told of a foreign architecture);
#  2. the kernels, as the x86 guests have them: Debian 12's own 6.1 (what linux-image-arm64 depends on) and the
#     6.12 built for Debian 12 (the newest linux-image-6.12.*+deb12-arm64 in bookworm-security), each unpacked into
#     .cache/arm64/kernel/<kver>/root. Debian builds both with VFIO_PLATFORM unset and VFIO_NOIOMMU unset (the log
#     shows each one's own config), so:
#  3. the vfio modules are built out of tree with the cross compiler against Debian's own headers for that kernel
#     (linux-headers-<kver>, its -common, and the host's linux-kbuild of the same version), from the same version's
#     linux-source: vfio (and its type1 backend and virqfd) with no-IOMMU mode, vfio-platform-base and vfio-platform.
#     The upstream fix vfio-platform-reset-required.patch is applied where the source lacks it (6.1: reset_required=0
#     is broken there; 6.12 has it). They go to lib/modules/<kver>/updates/vfio, which depmod prefers over the
#     kernel's own vfio;
#  4. the guest's userland (.cache/arm64/rootfs): the packages below and their dependencies, unpacked with dpkg-deb
#     (no maintainer scripts run: the few things they would do are done here), /bin /sbin /lib merged into /usr;
#  5. the initramfs's busybox (busybox-static:arm64).
#
# Prints one KVER=<version> line per kernel (stdout). Environment: ARM64_KERNELS (the series, default "6.1 6.12"),
# ARM64_KPKG=linux-image-<version>-arm64 (that kernel only). Kernels prepared before stay listed in
# .cache/arm64/kernel/kernels, one per series, 6.1 (the default) first.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
a=$top/.cache/arm64
export DEBIAN_FRONTEND=noninteractive
log() { echo "arm64-setup: $*" >&2; }
t_start=$SECONDS

# --- host tools --------------------------------------------------------------------------------------------------
. "$top/scripts/lib/deps.sh"
if [ -n "$(deps_missing arm64)" ]; then
    [ "$(id -u)" = 0 ] || { log "missing host packages; run: $(deps_install_hint arm64)"; exit 1; }
    ensure_packages arm64
fi

# --- the private apt (arm64 only) --------------------------------------------------------------------------------
mkdir -p "$a/apt/lists/partial" "$a/apt/archives/partial" "$a/apt/etc/apt.conf.d" "$a/apt/etc/preferences.d" \
    "$a/apt/etc/sources.list.d" "$a/debs" "$a/rootfs-debs/partial"
{
    for s in "debian bookworm" "debian bookworm-updates" "debian-security bookworm-security"; do
        echo "deb [arch=arm64 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/${s% *} ${s#* } main"
    done
} > "$a/apt/etc/sources.list"
touch "$a/apt/status"
A=(-q -o "Dir::Etc=$a/apt/etc" -o "Dir::State=$a/apt" -o "Dir::State::Lists=$a/apt/lists"
   -o "Dir::State::status=$a/apt/status" -o "Dir::Cache=$a/apt" -o APT::Architecture=arm64
   -o APT::Architectures::=arm64 -o Debug::NoLocking=1 -o APT::Sandbox::User=root -o APT::Install-Recommends=0)
apt64() { apt-get "${A[@]}" "$@"; }
cache64() { apt-cache "${A[@]}" "$@"; }
updated=
update_once() { [ -n "$updated" ] || { log "apt-get update (arm64 lists)"; apt64 update >&2; updated=1; }; }
# the lists are a day old at most: a kernel or source version may leave the mirror
if [ -z "$(find "$a/apt/lists" -maxdepth 1 -name '*_Packages' -mmin -1440 -print -quit)" ]; then update_once; fi
version_of() { cache64 show "$1" 2>/dev/null | awk '/^Version:/ {print $2; exit}'; }

# download NAME=VERSION... into DIR with the arm64 apt (kept if there)
fetch64() {
    local dir=$1 p; shift
    for p; do
        ls "$dir/${p%%=*}_"*.deb >/dev/null 2>&1 && continue
        (cd "$dir" && apt64 download "$p" >&2) || { update_once; (cd "$dir" && apt64 download "$p" >&2); }
    done
}
deb() { ls "$a/debs/${1}_"*.deb | sort -V | tail -1; }

# --- the kernels ---------------------------------------------------------------------------------------------------
# 6.1: what linux-image-arm64 depends on (Debian 12's own); 6.12: the newest linux-image-6.12.<n>+deb12-arm64 the
# lists know (bookworm-security), as the x86 guests' e2e/setup.sh picks them
pick_kernel() {
    local p
    case "$1" in
        6.1) p=$(cache64 depends linux-image-arm64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}') ;;
        6.12) p=$(cache64 pkgnames linux-image-6.12. 2>/dev/null | grep -E '^linux-image-6\.12\.[0-9]+\+deb12-arm64$' | sort -V | tail -1) ;;
        *) log "unknown kernel series $1 (known: 6.1 6.12)"; return 1 ;;
    esac
    [ -n "$p" ] && [ -n "$(version_of "$p")" ] && { echo "$p"; return 0; }
    return 1
}

# prepare_kernel PACKAGE: download, unpack, build the vfio modules into its tree, depmod; sets kver
prepare_kernel() {
    local kpkg=$1 kv abi series kbuild root cfg opt b hdr src mods p t
    kver=${kpkg#linux-image-}            # 6.1.0-57-arm64
    kv=$(version_of "$kpkg")             # 6.1.192-3
    abi=${kver%-arm64}                   # 6.1.0-57
    series=${kv%%-*}; series=${series%.*}   # 6.1
    [ -n "$kv" ] || { log "apt knows no $kpkg"; return 1; }
    # the headers' build tools: linux-kbuild-6.1 for 6.1, linux-kbuild-6.12.117+deb12 for 6.12
    kbuild=$(cache64 depends "linux-headers-$kver" | awk '/Depends: linux-kbuild-/ {print $2; exit}')
    kbuild=${kbuild%%:*}
    [ -n "$kbuild" ] || { log "linux-headers-$kver names no linux-kbuild package"; return 1; }
    log "kernel $kpkg $kv"

    fetch64 "$a/debs" "$kpkg=$kv" "linux-headers-$kver=$kv" "linux-headers-$abi-common=$kv" "linux-source-$series=$kv"
    # the build tools of those headers (fixdep, modpost) are the host's: linux-kbuild for amd64, same version
    if ! ls "$a/debs/${kbuild}_${kv}_"*.deb >/dev/null 2>&1; then
        (cd "$a/debs" && apt-get -q -o APT::Sandbox::User=root download "$kbuild=$kv" >&2) \
            || { apt-get -q update >&2; (cd "$a/debs" && apt-get -q -o APT::Sandbox::User=root download "$kbuild=$kv" >&2); }
    fi

    root=$a/kernel/$kver/root
    if [ "$(cat "$root/.unpacked-from" 2>/dev/null)" != "$(basename "$(deb "$kpkg")")" ]; then
        log "unpacking $kpkg"
        rm -rf "$root"; mkdir -p "$root"
        dpkg-deb -x "$(deb "$kpkg")" "$root"
        basename "$(deb "$kpkg")" > "$root/.unpacked-from"
    fi
    cfg=$root/boot/config-$kver
    for opt in CONFIG_VIRTIO_MMIO CONFIG_VFIO CONFIG_VFIO_PLATFORM CONFIG_VFIO_NOIOMMU; do
        log "Debian's $kver: $(grep -E "^(# )?$opt[= ]" "$cfg")"
    done

    # the vfio modules
    b=$a/build/$kver
    hdr=$b/hdr
    if [ ! -f "$hdr/.done" ]; then
        log "unpacking the headers and kbuild of $kver"
        rm -rf "$hdr"; mkdir -p "$hdr"
        for p in "linux-headers-$kver" "linux-headers-$abi-common" "$kbuild"; do dpkg-deb -x "$(deb "$p")" "$hdr"; done
        # the arm64 headers include the common part by its installed path: point it at ours
        echo "include $hdr/usr/src/linux-headers-$abi-common/Makefile" > "$hdr/usr/src/linux-headers-$kver/Makefile"
        touch "$hdr/.done"
    fi
    src=$b/src
    if [ ! -f "$src/.done" ]; then
        log "extracting drivers/vfio from linux-source-$series"
        rm -rf "$src"; mkdir -p "$src"
        dpkg-deb --fsys-tarfile "$(deb "linux-source-$series")" | tar -xO "./usr/src/linux-source-$series.tar.xz" \
            | tar -xJ -C "$src" --strip-components=1 "linux-source-$series/drivers/vfio"
        for p in "$here"/*.patch; do
            # a fix the source already has (a later kernel) is skipped
            if patch -d "$src" -p1 -R --dry-run -s -f < "$p" >/dev/null 2>&1; then
                log "$(basename "$p"): already in linux-source-$series"
            else
                patch -d "$src" -p1 -s < "$p" && log "applied $(basename "$p")"
            fi
        done
        touch "$src/.done"
    fi
    mods=$root/lib/modules/$kver
    if [ ! -f "$mods/updates/vfio/vfio-platform.ko" ] || [ -n "$(find "$src" "$here" -newer "$mods/updates/vfio/vfio-platform.ko" -name '*.[ch]' -print -quit)" ] \
        || [ "$here/setup.sh" -nt "$mods/updates/vfio/vfio-platform.ko" ]; then
        log "building vfio (no-IOMMU mode), vfio-platform-base and vfio-platform for $kver"
        t=$SECONDS
        # The kernel's own Makefiles under drivers/vfio, with the configuration Debian did not choose given on the command
        # line: no-IOMMU mode (the C code tests the macro, so it goes to the compiler too) and vfio-platform; the
        # drivers Debian does build (vfio-pci, fsl-mc, mdev) are left out, the kernel's own modules stay for them.
        make -s -C "$hdr/usr/src/linux-headers-$kver" M="$src/drivers/vfio" ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu- \
            -j"$(nproc)" KCFLAGS=-DCONFIG_VFIO_NOIOMMU=1 CONFIG_VFIO_NOIOMMU=y CONFIG_VFIO_PLATFORM=m \
            CONFIG_VFIO_PLATFORM_BASE=m CONFIG_VFIO_AMBA= CONFIG_VFIO_PCI= CONFIG_VFIO_PCI_CORE= CONFIG_VFIO_MDEV= \
            CONFIG_VFIO_FSL_MC= CONFIG_VFIO_CDX= CONFIG_VFIO_IOMMU_SPAPR_TCE= CONFIG_VFIO_SPAPR_EEH= modules 2>&1 \
            | grep -v -e '^Skipping BTF' >&2 || true
        rm -rf "$mods/updates/vfio"; mkdir -p "$mods/updates/vfio"
        find "$src/drivers/vfio" -name '*.ko' -exec cp {} "$mods/updates/vfio/" \;
        [ -f "$mods/updates/vfio/vfio-platform.ko" ] || { log "the build made no vfio-platform.ko"; return 1; }
        log "built in $((SECONDS - t)) s: $(cd "$mods/updates/vfio" && echo *.ko)"
    fi
    if [ ! -f "$mods/modules.dep.bin" ] || [ -n "$(find "$mods" -name '*.ko*' -newer "$mods/modules.dep.bin" -print -quit)" ]; then
        log "depmod $kver"
        depmod -b "$root" "$kver"
    fi
}
kvers=()
if [ -n "${ARM64_KPKG:-}" ]; then
    kpkgs=("$ARM64_KPKG")
else
    kpkgs=()
    for series in ${ARM64_KERNELS:-6.1 6.12}; do
        p=$(pick_kernel "$series") || { update_once; p=$(pick_kernel "$series"); } \
            || { log "no arm64 kernel of series $series in the lists"; exit 1; }
        kpkgs+=("$p")
    done
fi
for p in "${kpkgs[@]}"; do prepare_kernel "$p"; kvers+=("$kver"); done
fetch64 "$a/debs" busybox-static

# --- busybox for the initramfs -------------------------------------------------------------------------------------
if [ ! -x "$a/busybox" ]; then
    rm -rf "$a/bb"; dpkg-deb -x "$(deb busybox-static)" "$a/bb"; cp "$a/bb/bin/busybox" "$a/busybox"; rm -rf "$a/bb"
fi

# --- the guest's userland ------------------------------------------------------------------------------------------
# What the guest scripts run (e2e/guest/lib.sh, vfiod-lib.sh): bash and the usual tools, kmod's modprobe, a Java 17
# runtime for vfiod, dbus-daemon, busctl (systemd), polkitd.
ROOTFS_PKGS=(base-files base-passwd libc-bin bash coreutils grep sed mawk findutils diffutils gzip tar util-linux
    procps kmod openjdk-17-jre-headless dbus-daemon dbus-bin systemd polkitd)
rfs=$a/rootfs
key="$(printf '%s ' "${ROOTFS_PKGS[@]}")|$(stat -c %Y "$here/setup.sh")"
if [ "$(cat "$rfs/.key" 2>/dev/null)" != "$key" ]; then
    t=$SECONDS
    log "downloading the guest's packages and their dependencies"
    apt64 -o "Dir::Cache::archives=$a/rootfs-debs" install --download-only -y "${ROOTFS_PKGS[@]}" >&2 \
        || { update_once; apt64 -o "Dir::Cache::archives=$a/rootfs-debs" install --download-only -y "${ROOTFS_PKGS[@]}" >&2; }
    rm -rf "$rfs.tmp"; mkdir -p "$rfs.tmp"
    # only the newest version of each package the cache holds
    for d in $(ls "$a"/rootfs-debs/*.deb | sort -V | awk -F/ '{n=$NF; sub(/_.*/, "", n); last[n]=$0} END {for (n in last) print last[n]}'); do
        dpkg-deb -x "$d" "$rfs.tmp"
    done
    # Debian 12's merged /usr: the guest's /bin, /sbin, /lib are links into /usr (e2e/guest/init), and so are ours
    for d in bin sbin lib; do
        if [ -d "$rfs.tmp/$d" ] && [ ! -L "$rfs.tmp/$d" ]; then
            mkdir -p "$rfs.tmp/usr/$d"; cp -a "$rfs.tmp/$d/." "$rfs.tmp/usr/$d/"; rm -rf "${rfs:?}.tmp/$d"
        fi
    done
    # what the maintainer scripts would have done, for what the guest runs:
    # base-passwd's users and groups, and the system users of dbus and polkitd
    cp "$rfs.tmp/usr/share/base-passwd/passwd.master" "$rfs.tmp/etc/passwd"
    cp "$rfs.tmp/usr/share/base-passwd/group.master" "$rfs.tmp/etc/group"
    echo 'messagebus:x:100:101::/nonexistent:/usr/sbin/nologin' >> "$rfs.tmp/etc/passwd"
    echo 'polkitd:x:101:102:polkit:/nonexistent:/usr/sbin/nologin' >> "$rfs.tmp/etc/passwd"
    printf 'messagebus:x:101:\npolkitd:x:102:\n' >> "$rfs.tmp/etc/group"
    : > "$rfs.tmp/etc/shadow"; chmod 640 "$rfs.tmp/etc/shadow"
    # java on the PATH (update-alternatives)
    ln -sf ../lib/jvm/java-17-openjdk-arm64/bin/java "$rfs.tmp/usr/bin/java"
    # polkitd's state folder
    mkdir -p "$rfs.tmp/var/lib/polkit-1"
    rm -rf "$rfs"; mv "$rfs.tmp" "$rfs"
    echo "$key" > "$rfs/.key"
    log "guest userland: $(ls "$a"/rootfs-debs/*.deb | wc -l) packages, $(du -sh "$a/rootfs-debs" | cut -f1) downloaded, $(du -sh "$rfs" | cut -f1) unpacked, in $((SECONDS - t)) s"
fi

# the list lib/qemu.sh reads (E2E_KVER picks one, the first is the default): one kernel per series, 6.1 first; a run
# for another series (ARM64_KPKG) keeps the one prepared before
declare -A by_series=()
series_of() { local v=${1%%[-+]*}; echo "${v%.*}"; }   # 6.1.0-57-arm64 -> 6.1, 6.12.117+deb12-arm64 -> 6.12
while read -r k; do
    [ -n "$k" ] && [ -f "$a/kernel/$k/root/lib/modules/$k/updates/vfio/vfio-platform.ko" ] && by_series[$(series_of "$k")]=$k
done < <(cat "$a/kernel/kernels" 2>/dev/null)
for k in "${kvers[@]}"; do by_series[$(series_of "$k")]=$k; done
for k in $(printf '%s\n' "${!by_series[@]}" | sort -V); do echo "${by_series[$k]}"; done > "$a/kernel/kernels"
log "ready in $((SECONDS - t_start)) s: kernels $(tr '\n' ' ' < "$a/kernel/kernels")$(qemu-system-aarch64 --version | head -1)"
sed 's/^/KVER=/' "$a/kernel/kernels"
