# e2e/lib/qemu.sh: host side of the vfiod end-to-end harness (bash; source it).
#
#   source e2e/lib/qemu.sh
#   e2e_boot GUEST_SCRIPT [extra qemu args...]      # boot, run the script in the guest, return its exit code
#
# or, to act on the VM while the script runs (device_add/device_del through the monitor, rendezvous by files):
#   e2e_start GUEST_SCRIPT [extra qemu args...]; e2e_host_wait ready 60; e2e_monitor "device_add ..."; e2e_wait
#
# The guest: one of Debian's kernels (.cache/kernel/<kver>/root, from e2e/setup.sh; E2E_KVER picks it: a version or a
# series, 6.1 or 6.12; default: the first in .cache/kernel/kernels, Debian 12's 6.1) under QEMU TCG on q35 with an emulated VT-d
# (intel-iommu) and an e1000e at 00:03.0. Its root is the host's /usr and /etc over 9p (with a tmpfs overlay),
# see e2e/guest/init. The script runs there with bash as root; /vfiod is the project (read-only) and /results a
# fresh host temp dir (read-write).
#
# Knobs (environment): E2E_KVER (the guest kernel, above), E2E_LOGS (default e2e/logs/<kver>), E2E_NAME (log name; default: script name without .sh), E2E_MACHINE_OPTS (",sata=off,smbus=off"),
# E2E_KERNEL (default: the uncompressed vmlinux), E2E_BIOS (firmware: qboot.rom, or "seabios"), E2E_TIMEOUT (seconds, default 300),
# E2E_SMP (1: faster than 2 on a busy 2-core host), E2E_MEM (2G), E2E_CPU (max), E2E_APPEND (more kernel command line, e.g. "e2e.modules=vfio_pci"),
# E2E_QUIET=1 (do not stream the console), E2E_KEEP=1 (keep the temp dir), E2E_INITRD_MODULES (boot modules),
# E2E_INTERACTIVE=1 (console on this terminal, QEMU in the foreground without timeout, a guest shell at the end).
#
# E2E_ARCH=arm64: the arm64 guest of issue 18 instead (e2e/arm64/setup.sh prepares it under .cache/arm64): Debian 12's
# arm64 kernel with vfio-platform and vfio's no-IOMMU mode built out of tree, under qemu-system-aarch64 -M virt (TCG,
# no IOMMU), its /usr and /etc the arm64 userland in .cache/arm64/rootfs instead of the host's, the 9p shares on
# virtio-pci, the virt machine's virtio-mmio transports free for the tests' -device virtio-*-device.
#
# Results: e2e/logs/<kver>/<name>.console.log (the guest console: kernel, init, the script's output), and
# e2e/logs/<kver>/<name>.results/ (everything the guest left in /results: stdout, stderr, rc, ...).

E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
E2E_TOP=$(cd "$E2E_DIR/.." && pwd)
E2E_ARCH=${E2E_ARCH:-amd64}
if [ "$E2E_ARCH" = arm64 ]; then
    E2E_CACHE=$E2E_TOP/.cache/arm64/e2e
    E2E_KDIR=$E2E_TOP/.cache/arm64/kernel
    E2E_ROOTFS=$E2E_TOP/.cache/arm64/rootfs     # the guest's /usr and /etc
    E2E_BUSYBOX=$E2E_TOP/.cache/arm64/busybox   # busybox-static:arm64, for the initramfs
else
    E2E_CACHE=$E2E_TOP/.cache/e2e
    E2E_KDIR=$E2E_TOP/.cache/kernel
    E2E_ROOTFS=""                               # the host's own /usr and /etc
    E2E_BUSYBOX=/usr/bin/busybox
fi
# boot modules: enough to mount the 9p root; everything else is loaded with modprobe inside the guest
E2E_INITRD_MODULES=${E2E_INITRD_MODULES:-virtio_pci 9pnet_virtio 9p overlay}

e2e_log() { echo "e2e: $*" >&2; }
e2e_now() { date +%s.%N; }
e2e_since() { awk -v a="$1" -v b="$(e2e_now)" 'BEGIN { printf "%.1f", b - a }'; }

# e2e_kernels: the prepared guest kernels, one version per line, the default first (e2e/setup.sh writes the list;
# a tree from before it, .cache/kernel/root, counts as one)
e2e_kernels() {
    if [ -s "$E2E_KDIR/kernels" ]; then cat "$E2E_KDIR/kernels"; return 0; fi
    ls "$E2E_KDIR/root/boot" 2>/dev/null | sed -n 's/^vmlinuz-//p' | sort -V | tail -1
}

# e2e_kver_resolve NAME: the prepared kernel NAME means: its full version (6.12.117+deb12-amd64), or a series
# (6.1, 6.12: the first prepared kernel of that series); nothing printed and 1 if none is prepared
e2e_kver_resolve() {
    local k
    for k in $(e2e_kernels); do [ "$k" = "$1" ] && { echo "$k"; return 0; }; done
    for k in $(e2e_kernels); do case "$k" in "$1".*|"$1"-*|"$1"+*) echo "$k"; return 0 ;; esac; done
    return 1
}

# _e2e_select_kernel: E2E_KVER (empty: the default kernel; a series such as 6.12: the prepared one) to a full
# version, and E2E_KROOT to its unpacked tree. E2E_KVER stays as given if no such kernel is prepared (yet).
_e2e_select_kernel() {
    local k
    k=$(e2e_kver_resolve "${E2E_KVER:-$(e2e_kernels | head -1)}") && E2E_KVER=$k
    E2E_KVER=${E2E_KVER:-}
    if [ -n "$E2E_KVER" ] && [ -d "$E2E_KDIR/$E2E_KVER/root" ]; then
        E2E_KROOT=$E2E_KDIR/$E2E_KVER/root
    else
        E2E_KROOT=$E2E_KDIR/root   # the tree before the per-kernel layout
    fi
    # logs per kernel, so that runs on two kernels do not overwrite each other; an E2E_LOGS the caller set stays
    if [ -z "${E2E_LOGS:-}" ] || [ "$E2E_LOGS" = "${_E2E_LOGS_AUTO:-}" ]; then
        E2E_LOGS=$E2E_DIR/logs/${E2E_KVER:-unknown}
        _E2E_LOGS_AUTO=$E2E_LOGS
    fi
}
_e2e_select_kernel

# e2e_kver: the version of the selected guest kernel
e2e_kver() { [ -n "$E2E_KVER" ] && echo "$E2E_KVER"; }

# e2e_require: tools and kernel present, else run e2e/setup.sh (idempotent; apt-get needs root)
e2e_require() {
    _e2e_select_kernel
    if [ "$E2E_ARCH" = arm64 ]; then
        if ! command -v qemu-system-aarch64 >/dev/null || ! [ -x "$E2E_BUSYBOX" ] || [ -z "$E2E_KVER" ] \
            || ! [ -f "$E2E_KROOT/lib/modules/$E2E_KVER/modules.dep.bin" ] || ! [ -x "$E2E_ROOTFS/usr/bin/java" ]; then
            e2e_log "arm64 guest not prepared: running e2e/arm64/setup.sh"
            "$E2E_DIR/arm64/setup.sh" >&2 || return 1
            _e2e_select_kernel
        fi
        export E2E_KVER
        return 0
    fi
    if ! command -v qemu-system-x86_64 >/dev/null || ! [ -x /usr/bin/busybox ] || ! command -v cpio >/dev/null \
        || [ -z "$E2E_KVER" ] || ! [ -f "$E2E_KROOT/lib/modules/$E2E_KVER/modules.dep.bin" ]; then
        e2e_log "host not prepared${E2E_KVER:+ for kernel $E2E_KVER}: running e2e/setup.sh"
        "$E2E_DIR/setup.sh" >&2 || return 1
        _e2e_select_kernel
        [ -f "$E2E_KROOT/lib/modules/$E2E_KVER/modules.dep.bin" ] \
            || { e2e_log "no prepared kernel '$E2E_KVER' (prepared: $(e2e_kernels | tr '\n' ' '))"; return 1; }
    fi
    export E2E_KVER
    if ! command -v python3 >/dev/null; then e2e_log "python3 is needed for e2e_monitor"; fi
}

# _e2e_modpath NAME: the module's path in modules.dep (names may use - or _)
_e2e_modpath() {
    local pat=${1//[-_]/[-_]}
    grep -E "(^|/)${pat}\.ko(\.[a-z]+)?:" "$E2E_KROOT/lib/modules/$E2E_KVER/modules.dep" | head -1 | cut -d: -f1
}

# e2e_module_order NAME...: paths of the modules and all their dependencies, each dependency before its users
e2e_module_order() {
    local dep=$E2E_KROOT/lib/modules/$E2E_KVER/modules.dep
    local -A seen=()
    local order=()
    _visit() {   # depth first: a module's dependencies go before it
        local rel=$1 deps i
        [ -n "${seen[$rel]:-}" ] && return
        seen[$rel]=1
        # modules.dep lists a module's dependencies with the one to load first last
        read -r -a deps <<< "$(grep -E "^${rel//./\\.}:" "$dep" | cut -d: -f2)"
        for ((i = ${#deps[@]} - 1; i >= 0; i--)); do _visit "${deps[$i]}"; done
        order+=("$rel")
    }
    local m rel
    for m; do
        rel=$(_e2e_modpath "$m")
        [ -n "$rel" ] || { e2e_log "module $m: not in modules.dep of $E2E_KVER (built in?)"; continue; }
        _visit "$rel"
    done
    printf '%s\n' "${order[@]}"
}

# e2e_build_initrd: (re)build the initramfs if an input changed; sets E2E_INITRD
e2e_build_initrd() {
    e2e_require || return 1
    local order key w
    mkdir -p "$E2E_CACHE"
    E2E_INITRD=$E2E_CACHE/initrd-$E2E_KVER.cpio
    # cheap staleness key (this runs before every boot): the inputs' names, sizes and mtimes
    key="$E2E_KVER|$E2E_INITRD_MODULES|$(stat -c '%n:%s:%Y' "$E2E_DIR/guest/init" "$E2E_BUSYBOX" \
        "$E2E_KROOT/lib/modules/$E2E_KVER/modules.dep" | tr '\n' '|')"
    if [ -f "$E2E_INITRD" ] && [ "$(cat "$E2E_INITRD.key" 2>/dev/null)" = "$key" ]; then return 0; fi
    order=$(e2e_module_order $E2E_INITRD_MODULES) || return 1
    w=$(mktemp -d)
    mkdir -p "$w"/{bin,sbin,dev,proc,sys,tmp,etc/e2e,newroot,lib/modules/$E2E_KVER}
    cp "$E2E_BUSYBOX" "$w/bin/busybox"
    cp "$E2E_DIR/guest/init" "$w/init"
    chmod 755 "$w/init" "$w/bin/busybox"
    mknod -m 600 "$w/dev/console" c 5 1
    echo "$E2E_KVER" > "$w/etc/e2e/kver"
    local rel src dst
    : > "$w/etc/e2e/modules.list"
    while read -r rel; do
        [ -n "$rel" ] || continue
        mkdir -p "$w/lib/modules/$E2E_KVER/$(dirname "$rel")"
        # busybox insmod reads plain ELF only ("Invalid ELF header magic" on 6.12's .ko.xz): decompress here
        src=$E2E_KROOT/lib/modules/$E2E_KVER/$rel
        dst=$w/lib/modules/$E2E_KVER/${rel%.ko*}.ko
        case "$rel" in
            *.ko) cp "$src" "$dst" ;;
            *.ko.xz) xz -dc "$src" > "$dst" ;;
            *.ko.zst) zstd -qdc "$src" > "$dst" ;;
            *.ko.gz) gzip -dc "$src" > "$dst" ;;
            *) e2e_log "boot module $rel: unknown compression"; rm -rf "$w"; return 1 ;;
        esac || { e2e_log "cannot decompress $src"; rm -rf "$w"; return 1; }
        echo "/lib/modules/$E2E_KVER/${rel%.ko*}.ko" >> "$w/etc/e2e/modules.list"
    done <<< "$order"
    # uncompressed: unpacking gzip under TCG costs more than reading a few MB more
    # (temp name + rename: boots running in parallel may build at the same time)
    local tmp
    tmp=$(mktemp "$E2E_INITRD.XXXXXX")
    (cd "$w" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) > "$tmp" \
        && mv "$tmp" "$E2E_INITRD" && echo "$key" > "$E2E_INITRD.key"
    local rc=$?
    rm -f "$tmp"
    rm -rf "$w"
    e2e_log "initramfs $E2E_INITRD ($(du -h "$E2E_INITRD" | cut -f1)); boot modules: $(echo "$order" | sed 's|.*/||; s|\.ko.*||' | tr '\n' ' ')"
    return $rc
}

# e2e_build_kernel: sets E2E_KERNEL. Debian's bzImage is compressed (6.1: xz, 6.12: zstd), and unpacking it under TCG
# costs seconds per boot, so boot the uncompressed vmlinux (QEMU loads an ELF kernel through its PVH entry;
# CONFIG_PVH=y). Falls back to the bzImage when no vmlinux can be had. E2E_KERNEL set by the caller wins.
e2e_build_kernel() {
    [ -n "${E2E_KERNEL:-}" ] && return 0
    # Debian's arm64 vmlinuz is the plain Image: nothing to unpack
    [ "$E2E_ARCH" = arm64 ] && { E2E_KERNEL=$E2E_KROOT/boot/vmlinuz-$E2E_KVER; return 0; }
    local z=$E2E_KROOT/boot/vmlinuz-$E2E_KVER out=$E2E_CACHE/vmlinux-$E2E_KVER off magic unz
    E2E_KERNEL=$z
    if [ -s "$out" ] && [ "$out" -nt "$z" ]; then E2E_KERNEL=$out; return 0; fi
    mkdir -p "$E2E_CACHE"
    for magic in 'xz|\xfd7zXZ\x00' 'zstd|\x28\xb5\x2f\xfd'; do
        off=$(LC_ALL=C grep -obUaP "${magic#*|}" "$z" | head -1 | cut -d: -f1)
        [ -n "$off" ] && { unz=${magic%%|*}; break; }
    done
    [ -n "$off" ] && command -v "$unz" >/dev/null || { e2e_log "booting the compressed kernel (no xz/zstd payload, or no $unz)"; return 0; }
    local tmp
    tmp=$(mktemp "$out.XXXXXX")
    tail -c +$((off + 1)) "$z" | "$unz" -dc > "$tmp" 2>/dev/null   # both complain about the bytes after the payload
    # PVH entry = ELF note type 0x12 (XEN_ELFNOTE_PHYS32_ENTRY)
    if [ "$(head -c 4 "$tmp" | od -An -tx1 | tr -d ' ')" = 7f454c46 ] \
        && readelf -n "$tmp" 2>/dev/null | grep -q 'Unknown note type: (0x00000012)'; then
        mv "$tmp" "$out"; E2E_KERNEL=$out
        e2e_log "uncompressed kernel ($unz): $out"
    else
        rm -f "$tmp"; e2e_log "no PVH-bootable vmlinux in $z; booting the bzImage"
    fi
}

# e2e_start GUEST_SCRIPT [extra qemu args...]: boot in the background. Sets E2E_RUN_NAME, E2E_RUN (temp dir),
# E2E_RESULTS (its results/, the guest's /results), E2E_MONITOR (HMP unix socket), E2E_PID, E2E_CONSOLE.
e2e_start() {
    local script=${1:?usage: e2e_start GUEST_SCRIPT [qemu args...]}
    shift
    [ -f "$script" ] || { e2e_log "no such script: $script"; return 2; }
    e2e_build_initrd || return 1
    e2e_build_kernel
    E2E_RUN_NAME=${E2E_NAME:-$(basename "$script" .sh)}
    E2E_RUN=$(mktemp -d /tmp/vfiod-e2e.XXXXXX)
    E2E_RESULTS=$E2E_RUN/results
    E2E_MONITOR=$E2E_RUN/monitor.sock
    mkdir -p "$E2E_RESULTS" "$E2E_LOGS"
    cp "$script" "$E2E_RESULTS/run.sh"
    E2E_CONSOLE=$E2E_LOGS/$E2E_RUN_NAME.console.log
    : > "$E2E_CONSOLE"
    local ro=security_model=none,readonly=on,multidevs=remap
    local append="console=ttyS0 panic=-1 quiet loglevel=4 intel_iommu=on iommu=pt mitigations=off"
    append+=" tsc=reliable no_timer_check cryptomgr.notests 8250.nr_uarts=1"
    # The guest's clock on the HPET, not the TSC: under TCG the kernel calibrates the TSC against the HPET at boot
    # ("Unable to calibrate against PIT"), and on a loaded host that calibration came out several times too low, so
    # the guest's clock ran 4-10x fast (36 s of uptime in a 9 s boot, "soft lockup ... stuck for 21s", timeouts in
    # vfiod and the scenarios firing early). The HPET counts QEMU's own clock, so guest time is real time.
    append+=" clocksource=hpet"
    local interactive=${E2E_INTERACTIVE:-0}
    [ "$interactive" = 1 ] && append+=" e2e.shell=1"
    append+=" ${E2E_APPEND:-}"
    # firmware: qboot (in qemu-system-data) only does what a -kernel boot needs and saves 1-5 s over SeaBIOS
    # under TCG; E2E_BIOS=seabios for QEMU's default, or a path
    local bios=${E2E_BIOS:-/usr/share/qemu/qboot.rom}
    [ "$bios" = seabios ] && bios=""
    [ -z "$bios" ] || [ -f "$bios" ] || { [ -z "${E2E_BIOS:-}" ] && bios=""; }
    if [ "$E2E_ARCH" = arm64 ]; then
        _e2e_arm64_cmd "$interactive"
        E2E_QEMU_CMD+=("$@")
        printf '%q ' "${E2E_QEMU_CMD[@]}" > "$E2E_RUN/qemu.cmd"
        _e2e_launch "$interactive"
        return
    fi
    E2E_QEMU_CMD=(
        qemu-system-x86_64 -name "vfiod-e2e-$E2E_RUN_NAME" -nodefaults -no-user-config -display none -no-reboot
        -machine "q35,accel=tcg,kernel-irqchip=split${E2E_MACHINE_OPTS-,sata=off,smbus=off}" ${bios:+-bios "$bios"}
        -device intel-iommu,intremap=on
        -cpu "${E2E_CPU:-max}" -smp "${E2E_SMP:-1}" -m "${E2E_MEM:-2G}"
        -kernel "$E2E_KERNEL" -initrd "$E2E_INITRD" -append "$append"
        -serial chardev:console
        -monitor "unix:$E2E_MONITOR,server=on,wait=off"
        -device e1000e,addr=03.0,romfile=   # no PXE option ROM for the firmware to run at every boot
    )
    if [ "$interactive" = 1 ]; then
        # the console on this terminal (and in the log); the guest gives a shell after the script (e2e.shell=1)
        E2E_QEMU_CMD+=(-chardev "stdio,id=console,signal=off,logfile=$E2E_CONSOLE")
    else
        E2E_QEMU_CMD+=(-chardev "file,id=console,path=$E2E_CONSOLE")
    fi
    # The 9p shares sit on one multifunction slot, 00:1e.0-4, so slots 04-1d stay free for the tests' devices.
    local i=0 share tag path opts
    for share in "usr|/usr|$ro" "etc|/etc|$ro" "kmods|$E2E_KROOT/lib/modules|$ro" "vfiod|$E2E_TOP|$ro" \
                 "results|$E2E_RESULTS|security_model=none,multidevs=remap"; do
        IFS='|' read -r tag path opts <<< "$share"
        E2E_QEMU_CMD+=(-fsdev "local,id=fs-$tag,path=$path,$opts"
                       -device "virtio-9p-pci,fsdev=fs-$tag,mount_tag=$tag,addr=1e.$i,multifunction=on")
        i=$((i + 1))
    done
    E2E_QEMU_CMD+=("$@")
    printf '%q ' "${E2E_QEMU_CMD[@]}" > "$E2E_RUN/qemu.cmd"
    _e2e_launch "$interactive"
}

# _e2e_arm64_cmd INTERACTIVE: E2E_QEMU_CMD for the arm64 guest (E2E_ARCH=arm64). The virt machine has no IOMMU here
# (its SMMUv3 would cover PCI only, never the virtio-mmio platform devices), so vfio runs in no-IOMMU mode. The
# generic timer counts QEMU's clock, so none of the x86 guest's clock troubles (clocksource=hpet) apply.
# -cpu max,pauth-impdef=on: QEMU's own pointer-authentication hash instead of the architected QARMA, which costs much
# more under TCG.
_e2e_arm64_cmd() {
    local interactive=$1 ro=security_model=none,readonly=on,multidevs=remap
    local append="console=ttyAMA0 panic=-1 quiet loglevel=4 mitigations=off cryptomgr.notests"
    [ "$interactive" = 1 ] && append+=" e2e.shell=1"
    append+=" ${E2E_APPEND:-}"
    E2E_QEMU_CMD=(
        qemu-system-aarch64 -name "vfiod-e2e-$E2E_RUN_NAME" -nodefaults -no-user-config -display none -no-reboot
        -machine "virt,accel=tcg${E2E_MACHINE_OPTS-}"
        -cpu "${E2E_CPU:-max,pauth-impdef=on}" -smp "${E2E_SMP:-1}" -m "${E2E_MEM:-2G}"
        -kernel "$E2E_KERNEL" -initrd "$E2E_INITRD" -append "$append"
        -serial chardev:console
        -monitor "unix:$E2E_MONITOR,server=on,wait=off"
    )
    if [ "$interactive" = 1 ]; then
        E2E_QEMU_CMD+=(-chardev "stdio,id=console,signal=off,logfile=$E2E_CONSOLE")
    else
        E2E_QEMU_CMD+=(-chardev "file,id=console,path=$E2E_CONSOLE")
    fi
    # the shares on virtio-pci (the virt machine's PCIe), so that every virtio-mmio device is a test's
    local share tag path opts
    for share in "usr|$E2E_ROOTFS/usr|$ro" "etc|$E2E_ROOTFS/etc|$ro" "kmods|$E2E_KROOT/lib/modules|$ro" \
                 "vfiod|$E2E_TOP|$ro" "results|$E2E_RESULTS|security_model=none,multidevs=remap"; do
        IFS='|' read -r tag path opts <<< "$share"
        E2E_QEMU_CMD+=(-fsdev "local,id=fs-$tag,path=$path,$opts" -device "virtio-9p-pci,fsdev=fs-$tag,mount_tag=$tag")
    done
}

# _e2e_launch INTERACTIVE: run E2E_QEMU_CMD (under timeout, in the background) and stream its console
_e2e_launch() {
    local interactive=$1
    E2E_T0=$(e2e_now)
    e2e_log "$E2E_RUN_NAME: booting (timeout ${E2E_TIMEOUT:-300}s; console: ${E2E_CONSOLE#$E2E_TOP/})"
    if [ "$interactive" = 1 ]; then
        # in the foreground, no timeout; e2e_wait only collects
        "${E2E_QEMU_CMD[@]}" 2> "$E2E_RUN/qemu.out"
        local qrc=$?
        (exit $qrc) & E2E_PID=$!
        true & E2E_TAIL_PID=$!
        return 0
    fi
    timeout -k 5 "${E2E_TIMEOUT:-300}" "${E2E_QEMU_CMD[@]}" > "$E2E_RUN/qemu.out" 2>&1 &
    E2E_PID=$!
    # a host script that is interrupted takes its VM along (unless the caller has its own EXIT trap)
    if [ -z "$(trap -p EXIT)" ]; then
        trap e2e_kill EXIT
        [ -n "$(trap -p INT)" ] || trap 'exit 130' INT
        [ -n "$(trap -p TERM)" ] || trap 'exit 143' TERM
    fi
    # stream the console; note the host time at which /init started
    (
        tail -n +1 -s 0.2 -f --pid=$E2E_PID "$E2E_CONSOLE" 2>/dev/null | while IFS= read -r line; do
            line=${line%$'\r'}
            case "$line" in *"] init: stage 1"*) [ -f "$E2E_RUN/t-init" ] || e2e_since "$E2E_T0" > "$E2E_RUN/t-init" ;; esac
            [ "${E2E_QUIET:-0}" = 1 ] || printf '  | %s\n' "$line" >&2
        done
    ) &
    E2E_TAIL_PID=$!
}

# e2e_wait: wait for the VM started by e2e_start; collect the results; return the guest script's exit code
# (124: QEMU killed at the timeout; 125: the guest reported no exit code).
e2e_wait() {
    local qrc rc wall
    wait "$E2E_PID"; qrc=$?
    wait "$E2E_TAIL_PID" 2>/dev/null
    wall=$(e2e_since "$E2E_T0")
    local out=$E2E_LOGS/$E2E_RUN_NAME.results
    rm -rf "$out"; cp -r "$E2E_RESULTS" "$out"
    # an e1000e without a netdev is what we want (no network), so QEMU's "has no peer" warning is noise
    if grep -qv 'has no peer$' "$E2E_RUN/qemu.out"; then
        e2e_log "QEMU said:"; grep -v 'has no peer$' "$E2E_RUN/qemu.out" | sed 's/^/  qemu| /' >&2
    fi
    cp "$E2E_RUN/qemu.out" "$out/qemu.out"
    cp "$E2E_RUN/qemu.cmd" "$out/qemu.cmd"
    if [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; then
        e2e_log "$E2E_RUN_NAME: TIMEOUT after ${E2E_TIMEOUT:-300}s; QEMU killed"
        rc=124
    elif [ -f "$E2E_RESULTS/rc" ]; then
        rc=$(cat "$E2E_RESULTS/rc")
    else
        [ -f "$E2E_RESULTS/init-error" ] && e2e_log "guest init: $(cat "$E2E_RESULTS/init-error")"
        e2e_log "$E2E_RUN_NAME: the guest reported no exit code (QEMU exit $qrc)"
        rc=125
    fi
    E2E_WALL=$wall   # for callers
    E2E_BOOT_TO_INIT=$(cat "$E2E_RUN/t-init" 2>/dev/null || echo "?")
    E2E_GUEST_INIT_UPTIME=$(sed -n 's/^\[e2e \([0-9.]*\)s\] init: stage 1.*/\1/p' "$E2E_CONSOLE" | head -1)
    e2e_log "$E2E_RUN_NAME: exit $rc; wall ${wall}s (QEMU start to /init: ${E2E_BOOT_TO_INIT}s host, ${E2E_GUEST_INIT_UPTIME:-?}s guest uptime); logs: ${out#$E2E_TOP/}/"
    [ "${E2E_KEEP:-0}" = 1 ] && e2e_log "kept $E2E_RUN" || rm -rf "$E2E_RUN"
    return "$rc"
}

# e2e_kill: stop the VM of the last e2e_start, if it still runs (timeout passes the TERM on to QEMU)
e2e_kill() {
    [ -n "${E2E_PID:-}" ] && kill -0 "$E2E_PID" 2>/dev/null && kill "$E2E_PID" 2>/dev/null
    return 0
}

# e2e_boot GUEST_SCRIPT [extra qemu args...]: e2e_start + e2e_wait
e2e_boot() {
    e2e_start "$@" || return $?
    e2e_wait
}

# e2e_monitor COMMAND: one HMP command on the running VM's monitor; prints the answer
e2e_monitor() {
    local py=python3
    [ -x /usr/bin/python3 ] && py=/usr/bin/python3   # not a pyenv shim: it starts much faster
    "$py" - "$E2E_MONITOR" "$*" <<'PY'
import socket, sys, time
path, cmd = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
for _ in range(50):
    try:
        s.connect(path); break
    except OSError:
        time.sleep(0.1)
else:
    sys.exit("e2e_monitor: cannot connect to " + path)
s.settimeout(30)
def until_prompt():
    buf = b""
    while not buf.endswith(b"(qemu) "):
        chunk = s.recv(65536)
        if not chunk:
            break
        buf += chunk
    return buf.decode(errors="replace")
until_prompt()                      # banner
s.sendall(cmd.encode() + b"\n")
out = until_prompt()
import re
out = re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", out).replace("\r", "")
lines = out.split("\n")[1:]          # drop the echoed command
if lines and lines[-1].endswith("(qemu) "):
    lines = lines[:-1]
print("\n".join(lines))
PY
}

# Rendezvous with the guest through the results share (see e2e/guest/lib.sh: e2e_signal_host / e2e_wait_host).
# e2e_host_wait NAME [TIMEOUT]: wait until the guest said NAME; fails if the VM ended or the time ran out.
e2e_host_wait() {
    local f=$E2E_RESULTS/guest.$1 end=$((SECONDS + ${2:-120}))
    while [ ! -e "$f" ]; do
        kill -0 "$E2E_PID" 2>/dev/null || { e2e_log "VM ended before the guest said $1"; return 1; }
        [ $SECONDS -lt $end ] || { e2e_log "timeout waiting for the guest to say $1"; return 1; }
        sleep 0.2
    done
}
# e2e_host_signal NAME: tell the guest NAME (its e2e_wait_host NAME returns)
e2e_host_signal() { touch "$E2E_RESULTS/host.$1"; }
