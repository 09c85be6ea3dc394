#!/usr/bin/env bash
# Runs AliasIndexBenchmark with short settings (about a minute on 2 cores), keeps JMH's JSON result and prints
# the figures against the goals: build < 50 ms, resolve < 2 µs. Five 1 s warm-up iterations, not three: the
# naive baseline allocates a lot per call and needs them to settle; a fixed 1 GiB heap keeps GC sizing out of it.
#
#   bench/run-alias-bench.sh [extra JMH options...]
#   RESULT=/tmp/alias.json bench/run-alias-bench.sh
#
# Build the jar first: mvn -q -pl bench -am package -DskipTests
set -euo pipefail

bench_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
jar="$bench_dir/target/benchmarks.jar"
aliases="$(cd "$bench_dir/../daemon/src/test/resources/debian-6.1" 2>/dev/null && pwd || true)"
result="${RESULT:-$bench_dir/target/alias-bench.json}"

if [[ ! -f "$jar" ]]; then
    echo "run-alias-bench: $jar is missing; build it with: mvn -q -pl bench -am package -DskipTests" >&2
    exit 1
fi
mkdir -p "$(dirname "$result")"

jvm_args=()
[[ -n "$aliases" ]] && jvm_args=(-jvmArgsAppend "-Dvfiod.aliases=$aliases")

# the working folder is bench/, so the benchmark's default ../daemon/... also resolves
cd "$bench_dir"
java -jar "$jar" 'org\.vfiod\.bench\.AliasIndexBenchmark\.' \
    -f 1 -wi 5 -w 1s -i 5 -r 1s \
    -jvmArgsAppend -Xms1g -jvmArgsAppend -Xmx1g \
    "${jvm_args[@]}" \
    -rf json -rff "$result" "$@"

python3 - "$result" <<'PY'
import json, sys

NS = {"ns/op": 1.0, "us/op": 1e3, "\u00b5s/op": 1e3, "ms/op": 1e6, "s/op": 1e9}
scores = {}
for r in json.load(open(sys.argv[1])):
    name = r["benchmark"].rsplit(".", 1)[1]
    m = r["primaryMetric"]
    unit = NS[m["scoreUnit"]]
    err = m.get("scoreError")
    err = float(err) * unit if isinstance(err, (int, float)) or (isinstance(err, str) and err != "NaN") else float("nan")
    scores[name] = (float(m["score"]) * unit, err)

def show(label, key, scale, unit, goal=None):
    if key not in scores:
        print(f"{label:<34} (not run)")
        return
    v, e = scores[key]
    line = f"{label:<34} {v / scale:12.3f} {unit:<3} \u00b1 {e / scale:.3f}"
    if goal is not None:
        line += f"   goal {goal:g} {unit}: {'OK' if v / scale <= goal else 'MISSED'}"
    print(line)

print()
print(f"alias index, real Debian 6.1.0-56-amd64 files ({sys.argv[1]})")
show("build index", "buildIndex", 1e6, "ms", 50)
show("  floor: read modules.alias only", "readModulesAliasOnly", 1e6, "ms")
show("resolve (warm index)", "resolve", 1e3, "\u00b5s", 2)
show("naive baseline per lookup", "naiveResolvePerLookup", 1e3, "\u00b5s")
show("libvirt-style baseline per lookup", "libvirtStyleResolvePerLookup", 1e3, "\u00b5s")
if "resolve" in scores:
    r = scores["resolve"][0]
    for label, key in (("naive", "naiveResolvePerLookup"), ("libvirt-style", "libvirtStyleResolvePerLookup")):
        if key in scores:
            print(f"ratio {label} baseline / resolve: {scores[key][0] / r:,.0f}x")
if "buildIndex" in scores and "naiveResolvePerLookup" in scores:
    print(f"building the index costs {scores['buildIndex'][0] / scores['naiveResolvePerLookup'][0]:.2f} naive lookups")
PY
