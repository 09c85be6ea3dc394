#!/usr/bin/env bash
# e2e/setup.sh: prepare this (Debian 12) machine for the end-to-end harness. Idempotent; needs root.
#
#  1. picks the guest kernels: Debian 12's own 6.1 (the package linux-image-amd64 depends on) and the 6.12 that
#     Debian 13 ships, as built for Debian 12 (the newest linux-image-6.12.*+deb12-amd64 apt knows: bookworm-security
#     carries it; if apt knows none, an apt source for bookworm-backports is added and the lists are updated once);
#  2. installs the host tools: QEMU, busybox-static (the initramfs), cpio, kmod (depmod), gcc and the headers of
#     every guest kernel (linux-headers-<kver>, for test modules built out of tree);
#  3. downloads each kernel package into .cache/kernel/ (kept if present), unpacks it into
#     .cache/kernel/<kver>/root/ and runs depmod there; .cache/kernel/kernels lists the kernels, one per line, the
#     default (6.1) first, and .cache/kernel/root is a link to the default kernel's tree;
#  4. prints one line KVER=<version> per kernel, in the order of .cache/kernel/kernels (stdout). A run that prepares
#     one series only (E2E_KERNELS=6.12) keeps the other series' kernel in the list.
#
# Environment: E2E_KERNELS (the series to prepare, default "6.1 6.12"), E2E_KPKG=linux-image-<version> pins the
# 6.1 package instead of asking linux-image-amd64, E2E_KPKG_612 pins the 6.12 one.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
kdir=$top/.cache/kernel
export DEBIAN_FRONTEND=noninteractive
apt=(apt-get -o DPkg::Lock::Timeout=600 -q)
log() { echo "e2e-setup: $*" >&2; }

# apt-cache knows nothing before the first `apt-get update` on a fresh machine; update at most once per run.
updated=
apt_update_once() { [ -n "$updated" ] || { log "apt-get update"; "${apt[@]}" update >&2; updated=1; }; }
known() { apt-cache show "$1" >/dev/null 2>&1; }

# --- which kernels ----------------------------------------------------------------------------------------------
# Debian 12's own kernel: what linux-image-amd64 depends on
pick_61() {
    local p=${E2E_KPKG:-}
    if [ -z "$p" ]; then
        known linux-image-amd64 || apt_update_once
        p=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
        # The lists may name a metapackage version whose image is gone: refresh once and ask again.
        if [ -z "$p" ] || ! known "$p"; then
            apt_update_once
            p=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
        fi
    fi
    [ -n "$p" ] || { log "cannot tell which kernel linux-image-amd64 depends on"; return 1; }
    echo "$p"
}
# the newest linux-image-6.12.<n>+deb12-amd64 (signed image; it holds the modules too)
_newest_612() {
    apt-cache pkgnames linux-image-6.12. 2>/dev/null | grep -E '^linux-image-6\.12\.[0-9]+\+deb12-amd64$' | sort -V | tail -1
}
has_backports() { grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; }
pick_612() {
    local p=${E2E_KPKG_612:-}
    [ -n "$p" ] && { echo "$p"; return 0; }
    p=$(_newest_612)
    if [ -z "$p" ] || ! known "$p"; then
        apt_update_once
        p=$(_newest_612)
    fi
    if [ -z "$p" ] && ! has_backports; then
        log "no linux-image-6.12.*+deb12-amd64 known to apt: adding bookworm-backports"
        cat > /etc/apt/sources.list.d/bookworm-backports.sources <<'SRC'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
        log "apt-get update (bookworm-backports)"
        "${apt[@]}" update >&2
        p=$(_newest_612)
    fi
    [ -n "$p" ] || { log "no linux-image-6.12.*+deb12-amd64 in bookworm-security or bookworm-backports"; return 1; }
    echo "$p"
}
kpkgs=()
for series in ${E2E_KERNELS:-6.1 6.12}; do
    case "$series" in
        6.1) kpkgs+=("$(pick_61)") ;;
        6.12) kpkgs+=("$(pick_612)") ;;
        *) log "unknown kernel series $series (known: 6.1 6.12)"; exit 1 ;;
    esac
done
kvers=()
for p in "${kpkgs[@]}"; do kvers+=("${p#linux-image-}"); done
log "guest kernels: ${kpkgs[*]}"

# --- host packages ----------------------------------------------------------------------------------------------
# scripts/lib/deps.sh's e2e list (the one list, shared with scripts/test and scripts/demo; it says why each is there:
# QEMU and the initramfs tools, and what the vfiod scenarios run in the guest from the host's /usr), and the headers
# of each guest kernel, for test modules built out of tree
. "$top/scripts/lib/deps.sh"
mapfile -t pkgs < <(deps_packages e2e)
for k in "${kvers[@]}"; do pkgs+=("linux-headers-$k"); done
missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    for p in "${missing[@]}"; do known "$p" || { apt_update_once; break; }; done
    log "installing: ${missing[*]}"
    "${apt[@]}" install -y --no-install-recommends "${missing[@]}" >&2
fi

# --- kernel packages: download (unless cached), unpack, depmod ---------------------------------------------------
mkdir -p "$kdir"
# A tree from before the per-kernel layout (.cache/kernel/root a directory) moves to .cache/kernel/<kver>/root,
# test modules under extra/ included.
if [ -d "$kdir/root" ] && [ ! -L "$kdir/root" ]; then
    old=$(ls "$kdir/root/boot" 2>/dev/null | sed -n 's/^vmlinuz-//p' | sort -V | tail -1)
    if [ -n "$old" ] && [ ! -e "$kdir/$old/root" ]; then
        log "moving the tree of $old to .cache/kernel/$old/root"
        mkdir -p "$kdir/$old"
        mv "$kdir/root" "$kdir/$old/root"
    else
        rm -rf "$kdir/root"
    fi
fi
prepare_kernel() {
    local kpkg=$1 kver=${1#linux-image-} deb root stamp mods
    deb=$(ls "$kdir/${kpkg}_"*_amd64.deb 2>/dev/null | sort -V | tail -1 || true)
    if [ -z "$deb" ]; then
        known "$kpkg" || apt_update_once
        log "downloading $kpkg"
        # (as root: _apt cannot write into a folder of the work tree)
        (cd "$kdir" && "${apt[@]}" -o APT::Sandbox::User=root download "$kpkg" >&2)
        deb=$(ls "$kdir/${kpkg}_"*_amd64.deb | sort -V | tail -1)
    fi
    root=$kdir/$kver/root
    stamp=$root/.unpacked-from
    # A tree unpacked before this script wrote stamps is adopted as is (it may hold test modules under extra/).
    [ -f "$root/boot/vmlinuz-$kver" ] && [ ! -f "$stamp" ] && basename "$deb" > "$stamp"
    if [ ! -f "$root/boot/vmlinuz-$kver" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$(basename "$deb")" ]; then
        log "unpacking $(basename "$deb")"
        rm -rf "$root.tmp"
        mkdir -p "$kdir/$kver"
        dpkg-deb -x "$deb" "$root.tmp"
        rm -rf "$root"
        mv "$root.tmp" "$root"
        basename "$deb" > "$stamp"
    fi
    # Debian's package ships no modules.dep*; depmod again whenever a module (e.g. one added under extra/) is newer.
    # (6.1 ships .ko, 6.12 .ko.xz: kmod reads both)
    mods=$root/lib/modules/$kver
    if [ ! -f "$mods/modules.dep.bin" ] || [ -n "$(find "$mods" -name '*.ko*' -newer "$mods/modules.dep.bin" -print -quit)" ]; then
        log "depmod $kver"
        depmod -b "$root" "$kver"
    fi
    [ -r "$root/boot/vmlinuz-$kver" ] || { log "no vmlinuz in $root/boot"; return 1; }
    # the guest's modprobe is the host's kmod: it must read the kernel's compressed modules itself (kmod 30: +XZ +ZSTD)
    local z
    for z in xz zst; do
        if [ -n "$(find "$mods" -name "*.ko.$z" -print -quit)" ] && ! kmod --version | grep -qi "+${z%t}"; then
            log "kernel $kver ships .ko.$z modules, and this kmod cannot read them: $(kmod --version | tail -1)"; return 1
        fi
    done
    log "ready: kernel $root/boot/vmlinuz-$kver"
}
for p in "${kpkgs[@]}"; do prepare_kernel "$p"; done
# the list the harness reads (lib/qemu.sh: E2E_KVER picks one; the first is the default), and the default's tree
# where it was before the per-kernel layout
# A run that prepared some series only (E2E_KERNELS=6.12) keeps the other series' kernel from the list; a series'
# newly prepared kernel replaces its older one. One per series, in version order: 6.1 (the default) first.
declare -A by_series=()
series_of() { local v=${1%%[-+]*}; echo "${v%.*}"; }   # 6.1.0-57-amd64 -> 6.1, 6.12.117+deb12-amd64 -> 6.12
while read -r k; do
    [ -n "$k" ] && [ -f "$kdir/$k/root/boot/vmlinuz-$k" ] && by_series[$(series_of "$k")]=$k
done < <(cat "$kdir/kernels" 2>/dev/null)
for k in "${kvers[@]}"; do by_series[$(series_of "$k")]=$k; done
mapfile -t listed < <(printf '%s\n' "${!by_series[@]}" | sort -V)
for i in "${!listed[@]}"; do listed[$i]=${by_series[${listed[$i]}]}; done
printf '%s\n' "${listed[@]}" > "$kdir/kernels.tmp" && mv "$kdir/kernels.tmp" "$kdir/kernels"
ln -sfn "${listed[0]}/root" "$kdir/root"
log "ready: $(qemu-system-x86_64 --version | head -1); kernels: ${listed[*]}"
for k in "${listed[@]}"; do echo "KVER=$k"; done
