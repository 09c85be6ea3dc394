#!/usr/bin/env bash
# e2e/setup.sh: prepare this (Debian 12) machine for the end-to-end harness. Idempotent; needs root.
#
#  1. installs the host tools: QEMU, busybox-static (the initramfs), cpio, kmod (depmod), gcc and the headers of
#     the guest kernel (for test modules built out of tree);
#  2. downloads the Debian kernel package that linux-image-amd64 depends on into .cache/kernel/ (kept if present),
#     unpacks it into .cache/kernel/root/ and runs depmod there;
#  3. prints the kernel version (last line of stdout: KVER=<version>).
#
# Environment: E2E_KPKG=linux-image-<version> pins the kernel package instead of asking linux-image-amd64.
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

# --- which kernel -----------------------------------------------------------------------------------------------
kpkg=${E2E_KPKG:-}
if [ -z "$kpkg" ]; then
    known linux-image-amd64 || apt_update_once
    kpkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
    # The lists may name a metapackage version whose image is gone: refresh once and ask again.
    if [ -z "$kpkg" ] || ! known "$kpkg"; then
        apt_update_once
        kpkg=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
    fi
fi
[ -n "$kpkg" ] || { log "cannot tell which kernel linux-image-amd64 depends on"; exit 1; }
kver=${kpkg#linux-image-}
log "guest kernel: $kpkg"

# --- host packages ----------------------------------------------------------------------------------------------
# scripts/lib/deps.sh's e2e list (the one list, shared with scripts/test and scripts/demo; it says why each is there:
# QEMU and the initramfs tools, and what the vfiod scenarios run in the guest from the host's /usr), and the headers
# of the guest kernel, for test modules built out of tree
. "$top/scripts/lib/deps.sh"
mapfile -t pkgs < <(deps_packages e2e)
pkgs+=("linux-headers-$kver")
missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    for p in "${missing[@]}"; do known "$p" || { apt_update_once; break; }; done
    log "installing: ${missing[*]}"
    "${apt[@]}" install -y --no-install-recommends "${missing[@]}" >&2
fi

# --- kernel package: download (unless cached), unpack, depmod ----------------------------------------------------
mkdir -p "$kdir"
deb=$(ls "$kdir/${kpkg}_"*_amd64.deb 2>/dev/null | sort -V | tail -1 || true)
if [ -z "$deb" ]; then
    known "$kpkg" || apt_update_once
    log "downloading $kpkg"
    # (as root: _apt cannot write into a folder of the work tree)
    (cd "$kdir" && "${apt[@]}" -o APT::Sandbox::User=root download "$kpkg" >&2)
    deb=$(ls "$kdir/${kpkg}_"*_amd64.deb | sort -V | tail -1)
fi
root=$kdir/root
stamp=$root/.unpacked-from
# A tree unpacked before this script wrote stamps is adopted as is (it may hold test modules under extra/).
[ -f "$root/boot/vmlinuz-$kver" ] && [ ! -f "$stamp" ] && basename "$deb" > "$stamp"
if [ ! -f "$root/boot/vmlinuz-$kver" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$(basename "$deb")" ]; then
    log "unpacking $(basename "$deb")"
    rm -rf "$root.tmp"
    dpkg-deb -x "$deb" "$root.tmp"
    rm -rf "$root"
    mv "$root.tmp" "$root"
    basename "$deb" > "$stamp"
fi
# Debian's package ships no modules.dep*; depmod again whenever a module (e.g. one added under extra/) is newer.
mods=$root/lib/modules/$kver
if [ ! -f "$mods/modules.dep.bin" ] || [ -n "$(find "$mods" -name '*.ko*' -newer "$mods/modules.dep.bin" -print -quit)" ]; then
    log "depmod $kver"
    depmod -b "$root" "$kver"
fi
[ -r "$root/boot/vmlinuz-$kver" ] || { log "no vmlinuz in $root/boot"; exit 1; }
log "ready: $(qemu-system-x86_64 --version | head -1); kernel $root/boot/vmlinuz-$kver"
echo "KVER=$kver"
