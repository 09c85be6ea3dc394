# e2e/lib/vfiod2.sh: host-side helpers for the vfiod scenarios 3-5 (scenario-group.sh, scenario-boot.sh,
# scenario-hotplug.sh). Source it after e2e/lib/qemu.sh. Nothing here touches this machine's /sys: it builds jars,
# boots guests through lib/qemu.sh and prints what the guests measured.

# The guests run a JVM: give them more than the harness's default 300 s (a busy 2-core host halves the speed).
: "${E2E_TIMEOUT:=600}"
export E2E_TIMEOUT

# v2_host_prepare: the harness's prerequisites, and daemon/target/vfiod.jar no older than its sources.
# The guest sees the jar over 9p with cache=loose, so it must be built before the boot. V2_BUILD=0 skips the check.
# The build runs under the same lock as e2e/lib/vfiod.sh's (.cache/e2e/vfiod-build.lock): scenarios started side by
# side never run Maven over each other.
v2_host_prepare() {
    e2e_require || return 1
    local jar=$E2E_TOP/daemon/target/vfiod.jar
    if [ "${V2_BUILD:-1}" != 0 ]; then
        mkdir -p "$E2E_CACHE"
        (
            flock -w 900 9 || { e2e_log "could not take the build lock $E2E_CACHE/vfiod-build.lock"; exit 1; }
            _v2_jar_current && exit 0
            e2e_log "building vfiod.jar (mvn -q -B -DskipTests package -pl daemon -am)"
            cd "$E2E_TOP" && mvn -q -B -DskipTests package -pl daemon -am >&2 || { e2e_log "the Maven build failed"; exit 1; }
        ) 9> "$E2E_CACHE/vfiod-build.lock" || return 1
    fi
    [ -f "$jar" ] || { e2e_log "no $jar: run mvn -q -B -DskipTests package -pl daemon,cli -am"; return 1; }
}
_v2_jar_current() {
    local jar=$E2E_TOP/daemon/target/vfiod.jar
    [ -f "$jar" ] && [ -z "$(find "$E2E_TOP/api/src/main" "$E2E_TOP/daemon/src/main" "$E2E_TOP/api/pom.xml" \
        "$E2E_TOP/daemon/pom.xml" "$E2E_TOP/pom.xml" -newer "$jar" -print -quit 2>/dev/null)" ]
}

# v2_timings NAME...: the guest timings each named run left in e2e/logs/NAME.results/timings
v2_timings() {
    local name kind n d
    for name; do
        [ -f "$E2E_LOGS/$name.results/timings" ] || continue
        [ $# -gt 1 ] && printf '%s\n' "[$name]"
        while IFS=$'\t' read -r kind n d; do
            if [ "$kind" = step ]; then printf '%-52s %6s\n' "step: $n" "$d"; else printf '%-52s %6s\n' "  $n" "$d"; fi
        done < "$E2E_LOGS/$name.results/timings"
    done
}

# v2_report SCENARIO T0 RC [NAME...]: prints the timings (guest steps of the runs NAME..., default SCENARIO) and the
# whole wall time since T0, then `e2e: 1 passed, 0 failed` or `e2e: 0 passed, 1 failed`; returns RC
v2_report() {
    local scenario=$1 t0=$2 rc=$3
    shift 3
    [ $# -gt 0 ] || set -- "$scenario"
    echo "---- $scenario timings (guest steps in seconds; the guest is about 7x slower than the host)"
    v2_timings "$@"
    printf '%-52s %6s\n' "whole $scenario (host wall)" "$(e2e_since "$t0")"
    if [ "$rc" = 0 ]; then echo "e2e: 1 passed, 0 failed"; else echo "e2e: 0 passed, 1 failed (exit $rc)"; fi
    return "$rc"
}
