# e2e/lib/vfiod.sh: host-side helpers for the vfiod scenarios (every scenario but the smoke). Source it
# after e2e/lib/qemu.sh. Everything built here goes under .cache/e2e/ (git-ignored), which the guest sees at
# /vfiod/.cache/e2e/ through the read-only project share. Nothing here touches this machine's /sys.
#
#   vfiod_e2e_jars          daemon/target/vfiod.jar and sim/target/vfiod-sim.jar up to date (mvn package when a
#                           source is newer)
#   vfiod_e2e_vfio_open     .cache/e2e/bin/vfio-open from e2e/src/vfio-open.c (static, so cheap to exec in the guest)
#   vfiod_e2e_variant       the test variant driver e2e/variant/ built against the guest kernel's headers, and a
#                           module tree overlay .cache/e2e/variant/<kver>/tree/ (extra/*.ko + depmod's modules.* files)
#   vfiod_e2e_cds           .cache/e2e/vfiod-app.jsa: a class data sharing archive of vfiod's classes (see below)
#   vfiod_e2e_report NAME   prints the guest's timings (and perf figures) of the scenario NAME
#   vfiod_e2e_prepare       e2e_require, the jars (VFIOD_E2E_BUILD=0 skips the check) and the CDS archive, and
#                           E2E_TIMEOUT 600 s unless set (the guests run a JVM)
#   vfiod_e2e_timings NAME...                 the guest timings each named run left
#   vfiod_e2e_summary SCENARIO T0 RC [NAME...]   those timings, the wall time since T0 and the scenario's last line
#                           (`e2e: 1 passed, 0 failed` or `e2e: 0 passed, 1 failed`); returns RC
#
# Builds take a lock (.cache/e2e/vfiod-build.lock), so two scenarios started at once do not build over each other.

# the variant's build and tree, per guest kernel: .cache/e2e/variant/<kver>/{build,tree}
vfiod_e2e_variant_dir() { echo "$E2E_CACHE/variant/$E2E_KVER"; }

_vfiod_e2e_locked() {   # _vfiod_e2e_locked CMD...: run CMD under the build lock
    mkdir -p "$E2E_CACHE"
    (
        flock -w 900 9 || { e2e_log "could not take the build lock $E2E_CACHE/vfiod-build.lock"; exit 1; }
        "$@"
    ) 9> "$E2E_CACHE/vfiod-build.lock"
}

_vfiod_e2e_jars() {
    local jar=$E2E_TOP/daemon/target/vfiod.jar sim=$E2E_TOP/sim/target/vfiod-sim.jar
    if [ -f "$jar" ] && [ -z "$(find "$E2E_TOP/api/src/main" "$E2E_TOP/daemon/src/main" "$E2E_TOP/daemon/pom.xml" \
            "$E2E_TOP/api/pom.xml" "$E2E_TOP/pom.xml" -newer "$jar" -print -quit 2>/dev/null)" ] \
        && [ -f "$sim" ] && [ -z "$(find "$E2E_TOP/sim/src/main" "$E2E_TOP/sim/pom.xml" -newer "$sim" -print -quit 2>/dev/null)" ]; then
        return 0
    fi
    e2e_log "building the jars (mvn -q -B -DskipTests package -pl daemon,sim,cli -am)"
    (cd "$E2E_TOP" && mvn -q -B -Dstyle.color=never -DskipTests package -pl daemon,sim,cli -am) >&2 || { e2e_log "mvn package failed"; return 1; }
}
vfiod_e2e_jars() { _vfiod_e2e_locked _vfiod_e2e_jars; }

_vfiod_e2e_vfio_open() {
    local src=$E2E_DIR/src/vfio-open.c out=$E2E_CACHE/bin/vfio-open
    [ -x "$out" ] && [ "$out" -nt "$src" ] && return 0
    mkdir -p "$E2E_CACHE/bin"
    # static: one exec less over 9p (the dynamic loader) costs a lot under TCG; fall back to dynamic linking,
    # which also works, because the guest runs the host's /usr
    gcc -O2 -Wall -static -o "$out.tmp" "$src" 2>/dev/null || gcc -O2 -Wall -o "$out.tmp" "$src" \
        || { e2e_log "cannot compile $src"; return 1; }
    mv "$out.tmp" "$out"
    e2e_log "built $out"
}
vfiod_e2e_vfio_open() { _vfiod_e2e_locked _vfiod_e2e_vfio_open; }

# The variant driver's module tree. It is NOT put into the shared .cache/kernel/root tree: every guest sees that
# one, and with the variant's alias there vfiod would pick vfiod_test_vfio_pci for every e1000e, in every
# scenario. Instead depmod runs here on a small root whose kernel/ is a symlink to the shared tree's, and the
# results (extra/ and modules.*) go to .cache/e2e/variant/<kver>/tree/. scenario-variant's guest lays that over its
# /lib/modules/<kver> with overlayfs (vfiod_variant_tree in e2e/guest/vfiod-lib.sh), so there the guest kernel's
# module tree does hold the module and modprobe, the kernel's request_module and vfiod all see it.
_vfiod_e2e_variant() {
    local kver=$E2E_KVER src=$E2E_DIR/variant vdir
    vdir=$(vfiod_e2e_variant_dir)
    local build=$vdir/build ko=$vdir/build/vfiod_test_vfio_pci.ko tree=$vdir/tree
    local shared=$E2E_KROOT/lib/modules/$kver
    [ -d "/usr/src/linux-headers-$kver" ] || { e2e_log "no /usr/src/linux-headers-$kver (run e2e/setup.sh)"; return 1; }
    if [ ! -f "$ko" ] || [ -n "$(find "$src" -newer "$ko" -type f -print -quit)" ]; then
        e2e_log "building the variant driver against linux-headers-$kver"
        make -s -C "$src" KVER="$kver" OUT="$build" >&2 || { e2e_log "building the variant driver failed"; return 1; }
        touch "$ko"
    fi
    if [ -f "$tree/modules.dep.bin" ] && [ "$tree/modules.dep.bin" -nt "$ko" ] \
        && [ "$tree/modules.dep.bin" -nt "$shared/modules.dep.bin" ]; then
        return 0
    fi
    local root=$vdir/depmod-root m=$vdir/depmod-root/lib/modules/$kver
    rm -rf "$root" "$tree.tmp"
    mkdir -p "$m/extra" "$tree.tmp/extra"
    ln -s "$shared/kernel" "$m/kernel"
    cp "$shared/modules.order" "$shared/modules.builtin" "$shared/modules.builtin.modinfo" "$m/"
    cp "$ko" "$m/extra/"
    depmod -b "$root" "$kver" || { e2e_log "depmod for the variant tree failed"; return 1; }
    grep -q '^alias vfio_pci:v00008086d000010D3sv\*sd\*bc\*sc\*i\* vfiod_test_vfio_pci$' "$m/modules.alias" \
        || { e2e_log "depmod wrote no vfio_ alias for the variant driver"; return 1; }
    cp "$m"/modules.* "$tree.tmp/"
    cp "$ko" "$tree.tmp/extra/"
    rm -rf "$tree" "$root"
    mv "$tree.tmp" "$tree"
    e2e_log "variant module tree: ${tree#$E2E_TOP/} ($(grep -c '^alias vfio_' "$tree/modules.alias") vfio_ aliases)"
}
vfiod_e2e_variant() { _vfiod_e2e_locked _vfiod_e2e_variant; }

# A JVM under TCG loads about 40 classes a second, and vfiod loads 2,500 before it is ready: 25-40 s in the guest.
# An AppCDS archive (JDK 17: -XX:ArchiveClassesAtExit, a dynamic archive on top of the JDK's classes.jsa) lets the
# guest map them instead. It is made here by running vfiod once on the host, on a private bus over a simulated sysfs
# (the demo's SampleMachine, from sim/target/vfiod-sim.jar: nothing touches this machine's /sys), calling Resolve,
# and stopping it with SIGTERM. It is the guest's jar, vfiod.jar with the real kernel: over a tree that is not /sys
# it has no device events, and the calls made here write nothing.
# The JVM accepts an archive only for the same JDK and the same class path, jar mtime and size included, so the
# guest runs the jar under this host path too (vfiod_start links it to /vfiod), and the archive is remade whenever
# the jar is newer. A stale or refused archive costs nothing: -Xshare:auto falls back to loading the classes.
VFIOD_E2E_CDS=$E2E_CACHE/vfiod-app.jsa
_vfiod_e2e_cds() {
    local jar=$E2E_TOP/daemon/target/vfiod.jar
    [ -f "$VFIOD_E2E_CDS" ] && [ "$VFIOD_E2E_CDS" -nt "$jar" ] && [ "$(cat "$VFIOD_E2E_CDS.jar" 2>/dev/null)" = "$jar" ] && return 0
    command -v dbus-daemon >/dev/null && command -v busctl >/dev/null || { e2e_log "no dbus-daemon/busctl: no CDS archive"; return 0; }
    local w bus pid i ok=0
    w=$(mktemp -d /tmp/vfiod-e2e-cds.XXXXXX)
    java -cp "$E2E_TOP/sim/target/vfiod-sim.jar" org.vfiod.daemon.sim.SampleMachine "$w/sys" >/dev/null || { rm -rf "$w"; return 0; }
    mkdir -p "$w/modules" "$w/modprobe.d"
    echo 'alias vfio_pci:v*d*sv*sd*bc*sc*i* vfio_pci' > "$w/modules/modules.alias"
    sed -e "s|@SOCKET@|$w/bus.sock|" -e "s|@POLICY@|$E2E_TOP/packaging/dbus/org.vfiod.conf|" \
        "$E2E_TOP/packaging/dbus/private-bus.conf.in" > "$w/bus.conf"
    dbus-daemon --config-file="$w/bus.conf" --fork --print-pid=1 > "$w/dbus.pid" || { rm -rf "$w"; return 0; }
    bus=unix:path=$w/bus.sock
    for ((i = 0; i < 50; i++)); do [ -S "$w/bus.sock" ] && break; sleep 0.1; done
    rm -f "$VFIOD_E2E_CDS.tmp"
    # the guest's JVM flags (the archive must be made and used with the same GC)
    java -XX:ArchiveClassesAtExit="$VFIOD_E2E_CDS.tmp" -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -jar "$jar" \
        --bus-address "$bus" --sysfs-root "$w/sys" --modules-dir "$w/modules" --modprobe-dir "$w/modprobe.d" \
        --config-dir "$w/etc" --state-dir "$w/state" --runtime-dir "$w/run" > "$w/vfiod.log" 2>&1 &
    pid=$!
    for ((i = 0; i < 600; i++)); do grep -q 'vfiod ready on' "$w/vfiod.log" && { ok=1; break; }; kill -0 $pid 2>/dev/null || break; sleep 0.1; done
    # a call or two, so the classes of a method call are in the archive too
    [ $ok = 1 ] && busctl --address="$bus" call org.vfiod /org/vfiod org.vfiod1.Manager Resolve s \
        pci:v00008086d000010D3sv00008086sd00000000bc02sc00i00 >/dev/null 2>&1
    [ $ok = 1 ] && busctl --address="$bus" get-property org.vfiod /org/vfiod org.vfiod1.Manager Version >/dev/null 2>&1
    kill -TERM $pid 2>/dev/null
    wait $pid
    kill "$(cat "$w/dbus.pid")" 2>/dev/null
    if [ $ok = 1 ] && [ -s "$VFIOD_E2E_CDS.tmp" ]; then
        mv "$VFIOD_E2E_CDS.tmp" "$VFIOD_E2E_CDS"
        echo "$jar" > "$VFIOD_E2E_CDS.jar"
        e2e_log "CDS archive for vfiod: ${VFIOD_E2E_CDS#$E2E_TOP/} ($(du -h "$VFIOD_E2E_CDS" | cut -f1))"
    else
        e2e_log "could not make a CDS archive for vfiod (the guest loads its classes the slow way); log: $w/vfiod.log"
        rm -f "$VFIOD_E2E_CDS.tmp"
        return 0
    fi
    rm -rf "$w"
}
vfiod_e2e_cds() { _vfiod_e2e_locked _vfiod_e2e_cds; }

# vfiod_e2e_report NAME: the guest's step and command timings, and its perf table if it wrote one
vfiod_e2e_report() {
    local res=$E2E_LOGS/$1.results kind n d
    printf '%-52s %7s\n' "QEMU start to /init (host clock)" "${E2E_BOOT_TO_INIT:-?}"
    printf '%-52s %7s\n' "kernel boot to /init (guest uptime)" "${E2E_GUEST_INIT_UPTIME:-?}"
    [ -f "$res/timings" ] && while IFS=$'\t' read -r kind n d; do
        if [ "$kind" = step ]; then printf '%-52s %7s\n' "step: $n" "$d"; else printf '%-52s %7s\n' "  $n" "$d"; fi
    done < "$res/timings"
    if [ -f "$res/perf.txt" ]; then
        echo "---- performance (guest wall clock; written by the guest to ${res#$E2E_TOP/}/perf.txt)"
        cat "$res/perf.txt"
    fi
}

# The hang-test modules of e2e/edu/ (vfiod_test_edu: a host driver for QEMU's edu device whose remove() and probe()
# can hang; vfiod_test_slow_init: a module whose init sleeps), built against the headers of the guest kernel
# $E2E_KVER, and their module tree overlay .cache/e2e/edu/<kver>/tree/ (extra/*.ko + depmod's modules.* files), made
# as the variant's is (see _vfiod_e2e_variant): a small depmod root whose kernel/ links to the shared tree's, so the
# shared tree never holds them. One tree per kernel version, so that the guests of several kernels each find theirs
# at /vfiod/.cache/e2e/edu/$(uname -r)/tree.
#   vfiod_e2e_edu           builds both modules and the tree when a source or the shared tree is newer
VFIOD_E2E_EDU=$E2E_CACHE/edu
_vfiod_e2e_edu() {
    local kver=$E2E_KVER src=$E2E_DIR/edu
    local build=$VFIOD_E2E_EDU/$kver/build tree=$VFIOD_E2E_EDU/$kver/tree
    local shared=$E2E_KROOT/lib/modules/$kver ko m kos=()
    [ -d "/usr/src/linux-headers-$kver" ] || { e2e_log "no /usr/src/linux-headers-$kver (run e2e/setup.sh)"; return 1; }
    for m in vfiod_test_edu vfiod_test_slow_init; do kos+=("$build/$m.ko"); done
    local stale=0
    for ko in "${kos[@]}"; do
        if [ ! -f "$ko" ] || [ -n "$(find "$src" -newer "$ko" -type f -print -quit)" ]; then stale=1; fi
    done
    if [ $stale = 1 ]; then
        e2e_log "building the hang-test modules (e2e/edu) against linux-headers-$kver"
        make -s -C "$src" KVER="$kver" OUT="$build" >&2 || { e2e_log "building e2e/edu failed"; return 1; }
        touch "${kos[@]}"
    fi
    if [ -f "$tree/modules.dep.bin" ] && [ "$tree/modules.dep.bin" -nt "${kos[0]}" ] && [ "$tree/modules.dep.bin" -nt "${kos[1]}" ] \
        && [ "$tree/modules.dep.bin" -nt "$shared/modules.dep.bin" ]; then
        return 0
    fi
    local root=$VFIOD_E2E_EDU/$kver/depmod-root
    local mdir=$root/lib/modules/$kver
    rm -rf "$root" "$tree.tmp"
    mkdir -p "$mdir/extra" "$tree.tmp/extra"
    ln -s "$shared/kernel" "$mdir/kernel"
    cp "$shared/modules.order" "$shared/modules.builtin" "$shared/modules.builtin.modinfo" "$mdir/"
    cp "${kos[@]}" "$mdir/extra/"
    depmod -b "$root" "$kver" || { e2e_log "depmod for the edu tree failed"; return 1; }
    grep -q '^alias pci:v00001234d000011E8sv\*sd\*bc\*sc\*i\* vfiod_test_edu$' "$mdir/modules.alias" \
        || { e2e_log "depmod wrote no alias for vfiod_test_edu"; return 1; }
    cp "$mdir"/modules.* "$tree.tmp/"
    cp "${kos[@]}" "$tree.tmp/extra/"
    rm -rf "$tree" "$root"
    mv "$tree.tmp" "$tree"
    e2e_log "edu module tree: ${tree#$E2E_TOP/}"
}
vfiod_e2e_edu() { _vfiod_e2e_locked _vfiod_e2e_edu; }
# vfiod_e2e_prepare: what a vfiod scenario needs on the host before its boot. The guest sees the jar over 9p with
# cache=loose, so it must be built before the boot. VFIOD_E2E_BUILD=0 skips the build check.
vfiod_e2e_prepare() {
    : "${E2E_TIMEOUT:=600}"   # a JVM under TCG on a busy 2-core host needs more than the harness's 300 s
    export E2E_TIMEOUT
    e2e_require || return 1
    if [ "${VFIOD_E2E_BUILD:-1}" != 0 ]; then vfiod_e2e_jars || return 1; fi
    [ -f "$E2E_TOP/daemon/target/vfiod.jar" ] || { e2e_log "no daemon/target/vfiod.jar: run mvn -q -B -DskipTests package -pl daemon,sim,cli -am"; return 1; }
    vfiod_e2e_cds   # optional: a class data archive: vfiod starts about a third faster in the guest
}

# vfiod_e2e_timings NAME...: the guest timings each named run left in $E2E_LOGS/NAME.results/timings
vfiod_e2e_timings() {
    local name kind n d
    for name; do
        [ -f "$E2E_LOGS/$name.results/timings" ] || continue
        [ $# -gt 1 ] && printf '%s\n' "[$name]"
        while IFS=$'\t' read -r kind n d; do
            if [ "$kind" = step ]; then printf '%-52s %7s\n' "step: $n" "$d"; else printf '%-52s %7s\n' "  $n" "$d"; fi
        done < "$E2E_LOGS/$name.results/timings"
    done
}

# vfiod_e2e_summary SCENARIO T0 RC [NAME...]: prints the timings (guest steps of the runs NAME..., default SCENARIO)
# and the whole wall time since T0, then `e2e: 1 passed, 0 failed` or `e2e: 0 passed, 1 failed`; returns RC
vfiod_e2e_summary() {
    local scenario=$1 t0=$2 rc=$3
    shift 3
    [ $# -gt 0 ] || set -- "$scenario"
    echo "---- $scenario timings (guest steps in seconds; the guest is about 7x slower than the host; kernel $E2E_KVER)"
    vfiod_e2e_timings "$@"
    printf '%-52s %7s\n' "whole $scenario (host wall)" "$(e2e_since "$t0")"
    if [ "$rc" = 0 ]; then echo "e2e: 1 passed, 0 failed"; else echo "e2e: 0 passed, 1 failed (exit $rc)"; fi
    return "$rc"
}
