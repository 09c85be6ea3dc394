#!/usr/bin/env bash
# The bus benchmark: start-up time, Properties.Get round trips against polkitd, and resident memory of vfiod on a
# private bus over a simulated sysfs with 256 devices (128 IOMMU groups, org.vfiod.bench.ManyDevices) and Debian
# 6.1's real modules.alias and modules.builtin.modinfo. A benchmark, not a timed test: it prints each figure with
# its goal and does not fail on a missed goal. Goals (the issue "Performance"):
#   start: exec of java -> org.vfiod has an owner               <= 600 ms (2 cores)
#   Properties.Get round trip to vfiod                          <= 1.2 x the same call to polkitd, same client
#   resident memory (VmRSS) after start and after the Get load  <= 64 MiB
#
#   bench/run-bus-bench.sh
#   RUNS=5 OTHER_RUNS=2 N=5000 THREADS=8 ROUND_SECONDS=1 START_BUDGET=100 TOTAL_BUDGET=170 bench/run-bus-bench.sh
#   (those are the defaults)
#
# JVM flag sets compared: default (none), launcher (packaging/bin/vfiod itself: its default_opts and the AppCDS
# archive it records on its first run, in a folder of the benchmark's), c1
# (-XX:TieredStopAtLevel=1), serialgc, cds (a dynamic AppCDS archive), recommended, and recommended+caps (the
# recommended set with every other memory cap tried). All are printed in full at the end.
#
# How it measures:
# - start: the bus's NameOwnerChanged for org.vfiod as seen by dbus-monitor (C; subscribed before the launch and
#   asleep in poll() until then; it stamps each message with gettimeofday() when it receives it) minus
#   $EPOCHREALTIME taken by the launching subshell just before it execs java. Nothing polls the bus. The CPU time
#   vfiod used up to then (utime+stime, all threads) is printed too: it moves far less than wall time when others
#   load the machine. Order: one start of every flag set, then default and recommended alternating up to RUNS
#   each, then the others up to OTHER_RUNS each, as far as START_BUDGET allows (column n). The CDS archive comes
#   from one training run with -XX:ArchiveClassesAtExit (start, a few calls, stop), as a postinst could do.
# - RSS: VmRSS from /proc/PID/status, SETTLE seconds after the name appeared, and SETTLE seconds after the Get load.
# - Get: org.vfiod.bench.BusLatency, one JVM with two clients: dbus-java (proxies, what a Java consumer uses) and
#   raw (a blocking AF_UNIX socket and a pre-marshalled message: the least client overhead, so the ratio shows the
#   services' difference most sharply). Each: one connection, a warm-up, then N calls per service in alternating
#   blocks of 500; then THREADS threads with a connection each, 2 alternating rounds of ROUND_SECONDS per service.
#   vfiod answers Get(org.vfiod1.Device, Driver) on /org/vfiod/devices/pci_0000_3a03_3a00_2e0; polkitd
#   Get(org.freedesktop.PolicyKit1.Authority, BackendName). Run against vfiod with the recommended, default and
#   launcher flags, in that order, while TOTAL_BUDGET lasts.
#
# vfiod is sim/target/vfiod-sim.jar: the daemon on the simulated kernel (module sim), same code and command line.
# Needs java 17, dbus-daemon, dbus-monitor, python3; for the polkitd comparison root and /usr/lib/polkit-1/polkitd.
# Builds first if needed (mvn -q -B -DskipTests package -pl bench -am). Never touches this machine's /sys.
# Everything it starts is stopped and its temp folder removed on exit, Ctrl-C included.
set -euo pipefail
export LC_ALL=C

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$top"
RUNS=${RUNS:-5}
OTHER_RUNS=${OTHER_RUNS:-2}
N=${N:-5000}
THREADS=${THREADS:-8}
ROUND_SECONDS=${ROUND_SECONDS:-1}
WARMUP=${WARMUP:-2000}
SETTLE=${SETTLE:-1}
DEVICES=${DEVICES:-256}
START_BUDGET=${START_BUDGET:-100}   # seconds for the starts; no new start after it
TOTAL_BUDGET=${TOTAL_BUDGET:-170}   # seconds after which no further Get-load configuration is started

for tool in java dbus-daemon dbus-monitor python3; do
    command -v "$tool" >/dev/null || { echo "run-bus-bench: $tool is missing" >&2; exit 1; }
done

# ---- build (if needed) and take private copies of the jars: a concurrent build cannot swap them mid-run ----------
stale() { [ ! -f "$1" ] || [ -n "$(find "${@:2}" -name '*.java' -newer "$1" -print -quit)" ]; }
if stale sim/target/vfiod-sim.jar api daemon sim || stale bench/target/benchmarks.jar api daemon sim bench; then
    echo "building..."
    # others may build in the same tree: retry once; if it still fails, use the jars there are
    if ! mvn -q -B -DskipTests package -pl bench -am && { sleep 5; ! mvn -q -B -DskipTests package -pl bench -am; }; then
        [ -f sim/target/vfiod-sim.jar ] && [ -f bench/target/benchmarks.jar ] || { echo "run-bus-bench: build failed" >&2; exit 1; }
        echo "run-bus-bench: build failed; using the existing jars" >&2
    fi
fi

began=$SECONDS   # the budgets count from here, without the build
work=$(mktemp -d /tmp/vfiod-busbench.XXXXXX)
chmod 755 "$work"   # polkitd drops to user polkitd and must reach the bus socket in here
pids=()
vf_pid=
cleanup() {
    set +e
    if [ -n "$vf_pid" ]; then kill -KILL "$vf_pid" 2>/dev/null; wait "$vf_pid" 2>/dev/null; fi
    exec 3<&-
    for ((i=${#pids[@]}-1; i>=0; i--)); do
        kill "${pids[$i]}" 2>/dev/null
        wait "${pids[$i]}" 2>/dev/null
    done
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cp sim/target/vfiod-sim.jar bench/target/benchmarks.jar "$work/"
jar="$work/vfiod-sim.jar"

# ---- the machine: simulated sysfs, the real alias files, a private bus, polkitd, the watcher -----------------------
java -XX:TieredStopAtLevel=1 -cp "$work/benchmarks.jar" org.vfiod.bench.ManyDevices "$work/sys" "$DEVICES" >/dev/null
mkdir -p "$work/modules" "$work/modprobe.d" "$work/host/proc" "$work/host/dev"
data=daemon/src/test/resources/debian-6.1
gzip -dc "$data/modules.alias.gz" > "$work/modules/modules.alias"
gzip -dc "$data/modules.builtin.modinfo.gz" > "$work/modules/modules.builtin.modinfo"

sed -e "s|@SOCKET@|$work/bus.sock|" -e "s|@POLICY@|$top/packaging/dbus/org.vfiod.conf|" \
    packaging/dbus/private-bus.conf.in > "$work/bus.conf"
dbus-daemon --config-file="$work/bus.conf" --nofork --print-address=1 > "$work/address" 2> "$work/dbus.log" &
pids+=($!)
for _ in $(seq 100); do [ -s "$work/address" ] && break; sleep 0.05; done
[ -s "$work/address" ] || { echo "run-bus-bench: dbus-daemon did not start" >&2; cat "$work/dbus.log" >&2; exit 1; }
address="unix:path=$work/bus.sock"

polkit=yes
if [ "$(id -u)" != 0 ] || [ ! -x /usr/lib/polkit-1/polkitd ]; then
    polkit=no
    echo "polkitd comparison skipped: needs root and /usr/lib/polkit-1/polkitd"
else
    DBUS_SYSTEM_BUS_ADDRESS=$address /usr/lib/polkit-1/polkitd --no-debug > "$work/polkitd.log" 2>&1 < /dev/null &
    pids+=($!)
    for _ in $(seq 150); do
        busctl --address="$address" status org.freedesktop.PolicyKit1 >/dev/null 2>&1 && break
        sleep 0.2
    done
    if ! busctl --address="$address" status org.freedesktop.PolicyKit1 >/dev/null 2>&1; then
        polkit=no
        echo "polkitd comparison skipped: polkitd did not get its name on the private bus"
        if ! kill -0 "${pids[-1]}" 2>/dev/null; then echo "  (it exited)"; fi
        tail -5 "$work/polkitd.log"
    fi
fi

# dbus-monitor -> a python filter -> fd 3: one line per change of org.vfiod's owner, "ACQ|REL <time> <owner>"
cat > "$work/watch.py" <<'PY'
import re, sys
head = re.compile(r'^(signal|method call|method return|error) time=(\d+\.\d+) .*member=(\w+)')
cur, ready = None, False
while True:
    line = sys.stdin.readline()
    if not line:
        break
    m = head.match(line)
    if m:
        cur = [m.group(2), m.group(3), []]
        if cur[1] == 'NameLost' and not ready:   # BecomeMonitor done: the match is in place
            ready = True
            print('READY', flush=True)
        continue
    s = line.strip()
    if cur and s.startswith('string "'):
        cur[2].append(s[8:-1])
        if cur[1] == 'NameOwnerChanged' and len(cur[2]) == 3 and cur[2][0] == 'org.vfiod':
            print('ACQ' if cur[2][2] else 'REL', cur[0], cur[2][2] or '-', flush=True)
PY
mkfifo "$work/monitor.fifo" "$work/events.fifo"
dbus-monitor --address "$address" \
    "type='signal',sender='org.freedesktop.DBus',interface='org.freedesktop.DBus',member='NameOwnerChanged',arg0='org.vfiod'" \
    > "$work/monitor.fifo" 2> "$work/monitor.err" &
pids+=($!)
python3 -u "$work/watch.py" < "$work/monitor.fifo" > "$work/events.fifo" &
pids+=($!)
exec 3< "$work/events.fifo"
read -r -t 10 -u 3 ev _ || { echo "run-bus-bench: dbus-monitor did not start" >&2; cat "$work/monitor.err" >&2; exit 1; }

# ---- starting and stopping vfiod ------------------------------------------------------------------------------------
clk=$(getconf CLK_TCK)
results="$work/results.tsv"
: > "$results"

# start_vfiod FLAGS...: launches, waits for the name; sets vf_pid, start_ms, cpu_ms. Returns 1 if it never came up.
start_vfiod() {
    local cmd=(java "$@" -jar "$jar")
    # LAUNCHER: packaging/bin/vfiod itself, with its own flags and its AppCDS archive in $work/cds
    [ "${1:-}" = LAUNCHER ] && cmd=(env -u VFIOD_JAVA_OPTS VFIOD_JAR="$jar" VFIOD_CDS_DIR="$work/cds" bash "$top/packaging/bin/vfiod")
    ( printf '%s\n' "$EPOCHREALTIME" > "$work/t0"
      exec "${cmd[@]}" --bus-address "$address" --sysfs-root "$work/sys" --modules-dir "$work/modules" \
          --modprobe-dir "$work/modprobe.d" --config-dir "$work/etc" --state-dir "$work/state" --runtime-dir "$work/run" --proc-root "$work/host/proc" --dev-root "$work/host/dev" --log-level warn \
          > "$work/vfiod.log" 2>&1 ) &
    vf_pid=$!
    local ev t owner
    if ! read -r -t 60 -u 3 ev t owner || [ "$ev" != ACQ ]; then
        echo "vfiod did not take its name (flags: $*); its log:" >&2
        tail -20 "$work/vfiod.log" >&2
        stop_vfiod
        return 1
    fi
    local stat
    stat=$(cut -d' ' -f14,15 "/proc/$vf_pid/stat")
    cpu_ms=$(( (${stat% *} + ${stat#* }) * 1000 / clk ))
    start_ms=$(python3 -c "print(round(($t - $(<"$work/t0")) * 1000))")
}

rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$vf_pid/status"; }

# stop_vfiod [TICKS]: SIGTERM, then SIGKILL after TICKS x 50 ms (default 200)
stop_vfiod() {
    [ -n "$vf_pid" ] || return 0
    kill -TERM "$vf_pid" 2>/dev/null || true
    for _ in $(seq "${1:-200}"); do kill -0 "$vf_pid" 2>/dev/null || break; sleep 0.05; done
    kill -KILL "$vf_pid" 2>/dev/null || true
    wait "$vf_pid" 2>/dev/null || true
    vf_pid=
    # drain the REL of this run (there is none if the name never came)
    local ev _t _o
    while read -r -t 2 -u 3 ev _t _o; do [ "$ev" = REL ] && break; done || true
}

# ---- the JVM flag sets ----------------------------------------------------------------------------------------------
# "launcher" runs packaging/bin/vfiod; its flags are read from it only to print them
launcher_opts=$(sed -n 's/^default_opts="\(.*\)"$/\1/p' packaging/bin/vfiod 2>/dev/null || true)
jsa="$work/vfiod.jsa"
gc_jit="-XX:+UseSerialGC -XX:TieredStopAtLevel=1"
rest="-XX:TrimNativeHeapInterval=1000 -Xshare:auto -Djna.tmpdir=/tmp"
recommended_base="$gc_jit -Xss512k -Xms12m -Xmx128m $rest"

# ---- CDS: one training run writes the archive (start, some calls, stop), as a package's postinst would ----------
echo "training run for the CDS archive..."
# shellcheck disable=SC2086
if start_vfiod -XX:ArchiveClassesAtExit="$jsa" $recommended_base; then
    busctl --address="$address" get-property org.vfiod /org/vfiod/devices/pci_0000_3a03_3a00_2e0 org.vfiod1.Device Driver >/dev/null || true
    busctl --address="$address" call org.vfiod /org/vfiod org.freedesktop.DBus.ObjectManager GetManagedObjects >/dev/null || true
    busctl --address="$address" call org.vfiod /org/vfiod org.vfiod1.Manager Rebind 'sa{sv}' 0000:03:00.0 2 dry-run b true group b true >/dev/null 2>&1 || true
    stop_vfiod 600   # the archive is written at exit
fi
# the launcher records its own archive the same way: its first run, stopped, writes $work/cds/vfiod.jsa
mkdir -p "$work/cds"
if start_vfiod LAUNCHER; then
    busctl --address="$address" call org.vfiod /org/vfiod org.freedesktop.DBus.ObjectManager GetManagedObjects >/dev/null || true
    stop_vfiod 600
fi
if [ -s "$jsa" ]; then
    cds="-XX:SharedArchiveFile=$jsa"
    echo "CDS archive: $(( $(stat -c %s "$jsa") / 1024 )) KiB"
else
    cds=
    echo "no CDS archive was written; the cds configurations run without it"
fi

declare -A flags runs
labels=(default launcher c1 serialgc cds recommended "recommended+caps")
flags["default"]=""
flags["launcher"]="LAUNCHER"
flags["c1"]="-XX:TieredStopAtLevel=1"
flags["serialgc"]="-XX:+UseSerialGC"
flags["cds"]="$cds"
flags["recommended"]="$recommended_base $cds"
flags["recommended+caps"]="$gc_jit -Xss256k -Xms12m -Xmx32m -XX:MaxMetaspaceSize=32m -XX:ReservedCodeCacheSize=16m -XX:CICompilerCount=1 $rest $cds"
if [ -z "$launcher_opts" ]; then
    echo "packaging/bin/vfiod has no default_opts: the launcher configuration is skipped"
    labels=(default c1 serialgc cds recommended "recommended+caps")
fi
run_order=(default recommended launcher c1 serialgc cds "recommended+caps")
for l in "${labels[@]}"; do runs[$l]=$OTHER_RUNS; done
runs[default]=$RUNS
runs[recommended]=$RUNS
runs[launcher]=$RUNS
for l in "${labels[@]}"; do
    shown=${flags[$l]}
    [ "$shown" = LAUNCHER ] && shown="packaging/bin/vfiod as shipped: $launcher_opts, plus its own AppCDS archive (recorded by its first run)"
    printf 'flags\t%s\t%s\n' "$l" "$shown" >> "$results"
done
printf 'polkit\t%s\n' "$polkit" >> "$results"
printf 'load_before\t%s\n' "$(cut -d' ' -f1-3 /proc/loadavg)" >> "$results"

# ---- start-up and RSS after start -----------------------------------------------------------------------------------
# the schedule, in order of importance, so that the time budget cuts the least important first: one round of every
# set; then default and recommended, alternating, up to RUNS each; then the other sets up to OTHER_RUNS each
schedule=()
for l in "${run_order[@]}"; do [ -n "${runs[$l]:-}" ] && schedule+=("$l"); done
for ((r = 2; r <= RUNS; r++)); do schedule+=(default recommended launcher); done
for ((r = 2; r <= OTHER_RUNS; r++)); do
    for l in "${run_order[@]}"; do
        [ -n "${runs[$l]:-}" ] && [ "$l" != default ] && [ "$l" != recommended ] && [ "$l" != launcher ] && schedule+=("$l")
    done
done
start_began=$SECONDS
echo "start-up: ${#schedule[@]} starts planned..."
done_starts=0
for l in "${schedule[@]}"; do
    if (( done_starts > 0 && SECONDS - start_began > START_BUDGET )); then
        echo "start-up: time budget of ${START_BUDGET}s used up after $done_starts of ${#schedule[@]} starts"
        break
    fi
    done_starts=$((done_starts + 1))
    # shellcheck disable=SC2086
    start_vfiod ${flags[$l]} || { printf 'start_fail\t%s\n' "$l" >> "$results"; continue; }
    sleep "$SETTLE"
    printf 'start\t%s\t%s\t%s\t%s\n' "$l" "$start_ms" "$cpu_ms" "$(rss_kib)" >> "$results"
    stop_vfiod
done

# ---- Get round trips and throughput, then RSS after that load -----------------------------------------------------
polkit_opt=()
[ "$polkit" = yes ] || polkit_opt=(--no-polkit)
for l in recommended default launcher; do
    [ -n "${runs[$l]:-}" ] || continue
    if (( SECONDS - began > TOTAL_BUDGET )); then
        echo "Get load with $l flags skipped: the time budget of ${TOTAL_BUDGET}s is used up"
        continue
    fi
    echo "Get load against vfiod with $l flags..."
    # shellcheck disable=SC2086
    start_vfiod ${flags[$l]} || { printf 'load_fail\t%s\n' "$l" >> "$results"; continue; }
    sleep "$SETTLE"
    rss0=$(rss_kib)
    java -cp "$work/benchmarks.jar" org.vfiod.bench.BusLatency --address "$address" "${polkit_opt[@]}" \
        --n "$N" --warmup "$WARMUP" --threads "$THREADS" --seconds "$ROUND_SECONDS" > "$work/latency.out" 2>&1 \
        || { echo "BusLatency failed:" >&2; tail -20 "$work/latency.out" >&2; }
    sleep "$SETTLE"
    rss1=$(rss_kib)
    anon1=$(awk '/^RssAnon:/ {print $2}' "/proc/$vf_pid/status")
    printf 'load_rss\t%s\t%s\t%s\t%s\n' "$l" "$rss0" "$rss1" "$anon1" >> "$results"
    awk -v l="$l" '$1 == "RESULT" { $1 = ""; print "get\t" l "\t" substr($0, 2) }' "$work/latency.out" >> "$results"
    stop_vfiod
done
printf 'load_after\t%s\n' "$(cut -d' ' -f1-3 /proc/loadavg)" >> "$results"
printf 'elapsed\t%s\n' "$((SECONDS - began))" >> "$results"

# ---- summary --------------------------------------------------------------------------------------------------------
python3 - "$results" "$DEVICES" "$(nproc)" "$jar" <<'PY'
import statistics as st, sys
from collections import defaultdict

rows = [l.rstrip('\n').split('\t') for l in open(sys.argv[1])]
devices, cores = sys.argv[2], sys.argv[3]
flags, order, starts, fails = {}, [], defaultdict(list), defaultdict(int)
load_rss, get, meta = {}, defaultdict(dict), {}
for r in rows:
    k = r[0]
    if k == 'flags':
        flags[r[1]] = r[2]; order.append(r[1])
    elif k == 'start':
        starts[r[1]].append((int(r[2]), int(r[3]), int(r[4])))
    elif k in ('start_fail', 'load_fail'):
        fails[r[1]] += 1
    elif k == 'load_rss':
        load_rss[r[1]] = (int(r[2]), int(r[3]), int(r[4]))
    elif k == 'get':
        f = r[2].split()
        kind, client, target = f[0], f[1], f[2]
        kv = dict(x.split('=') for x in f[3:])
        get[r[1]][(kind, client, target)] = {a: float(b) for a, b in kv.items()}
    else:
        meta[k] = r[1] if len(r) > 1 else ''

MIB = 1024.0
GET_ORDER = ('default', 'launcher', 'recommended')
def ok(v, goal): return 'OK' if v <= goal else 'MISSED'

print()
print(f"vfiod bus benchmark: {devices} simulated devices, Debian 6.1 modules.alias, {cores} cores, "
      f"load average {meta.get('load_before')} before, {meta.get('load_after')} after")
print()
print("Start: exec of java -> org.vfiod owned (goal <= 600 ms); RSS (VmRSS) after start (goal <= 64 MiB)")
print("(median and min of n starts; cpu = CPU time of vfiod, all threads, until the name; +/- = median vs default)")
print(f"{'JVM flags':<18} {'n':>2} {'median ms':>9} {'min ms':>7} {'+/-':>5} {'cpu ms':>7} {'+/-':>5} {'RSS MiB':>8}  goals")
def med_of(l, i):
    return st.median([x[i] for x in starts[l]]) if starts.get(l) else None
base, base_cpu = med_of('default', 0), med_of('default', 1)
for l in order:
    s = starts.get(l)
    if not s:
        print(f"{l:<18}  (not run{', failed' if fails[l] else ''})"); continue
    med, mn, cpu = med_of(l, 0), min(x[0] for x in s), med_of(l, 1)
    rss = med_of(l, 2) / MIB
    rel = f"{(med - base) / base * 100:+.0f}%" if base else ''
    relc = f"{(cpu - base_cpu) / base_cpu * 100:+.0f}%" if base_cpu else ''
    print(f"{l:<18} {len(s):>2} {med:>9.0f} {mn:>7.0f} {rel:>5} {cpu:>7.0f} {relc:>5} {rss:>8.1f}  "
          f"start {ok(med, 600)}, RSS {ok(rss, 64)}{'  (' + str(fails[l]) + ' failed)' if fails[l] else ''}")
print()

def lat(l, client, target):
    return get.get(l, {}).get(('latency', client, target))
def thr(l, client, target):
    return get.get(l, {}).get(('throughput', client, target))

print("Properties.Get round trip, N calls per service, alternating blocks, same client and connection "
      "(goal: vfiod <= 1.2 x polkitd)")
if meta.get('polkit') != 'yes':
    print("  (polkitd comparison skipped: not root, or no polkitd)")
print(f"{'vfiod flags':<12} {'client':<10} {'service':<8} {'mean us':>8} {'p50 us':>7} {'p99 us':>8}   ratio vfiod/polkitd (mean, p50, p99), mean difference")
for l in GET_ORDER:
    for client in ('dbus-java', 'raw'):
        v, p = lat(l, client, 'vfiod'), lat(l, client, 'polkitd')
        for name, x in (('vfiod', v), ('polkitd', p)):
            if not x: continue
            tail = ''
            if name == 'polkitd' and v:
                rm, r50, r99 = v['mean_us'] / x['mean_us'], v['p50_us'] / x['p50_us'], v['p99_us'] / x['p99_us']
                tail = (f"   {rm:.2f}x, {r50:.2f}x, {r99:.2f}x, {v['mean_us'] - x['mean_us']:+.0f} us  "
                        f"goal (mean) {ok(rm, 1.2)}")
            print(f"{l:<12} {client:<10} {name:<8} {x['mean_us']:>8.1f} {x['p50_us']:>7.1f} {x['p99_us']:>8.1f}{tail}")
print()
print("Throughput, concurrent clients each with its own connection, calls/s in total")
for l in GET_ORDER:
    for client in ('dbus-java', 'raw'):
        v, p = thr(l, client, 'vfiod'), thr(l, client, 'polkitd')
        if not v: continue
        line = f"{l:<12} {client:<10} {int(v['threads'])} clients: vfiod {v['calls_per_s']:>7.0f}/s"
        if p:
            line += f"   polkitd {p['calls_per_s']:>7.0f}/s   vfiod/polkitd {v['calls_per_s'] / p['calls_per_s']:.2f}x"
        print(line)
print()
print("RSS around the Get load (goal <= 64 MiB)")
for l in GET_ORDER:
    if l in load_rss:
        a, b, anon = load_rss[l]
        print(f"{l:<12} after start {a / MIB:6.1f} MiB {ok(a / MIB, 64):<6}  after the Get load {b / MIB:6.1f} MiB "
              f"{ok(b / MIB, 64):<6}  (of which anonymous {anon / MIB:.1f} MiB)")
print()
print("JVM flag sets ($WORK is the temp folder; vfiod.jsa is the archive of the training run):")
for l in order:
    print(f"  {l:<18} {flags[l].replace(sys.argv[4].rsplit('/', 1)[0], '$WORK') or '(none)'}")
print(f"\nfinished in {meta.get('elapsed')} s")
PY
