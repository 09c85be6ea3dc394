#!/bin/bash
# Start-up of `vfioctl list` with and without the launcher's JVM flags, against `driverctl list-devices`.
# Needs a running vfiod (e.g. scripts/demo, with DBUS_SYSTEM_BUS_ADDRESS exported) and driverctl installed; only
# runs driverctl list-devices, which reads /sys. Every round runs every command once, in order, so that the
# machine's changing load falls on all of them alike. Prints wall-clock and CPU (user+sys) medians.
#   usage: cli/startup-bench.sh [ROUNDS]     (default 20)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
rounds=${1:-20}
jar=${VFIOCTL_JAR:-$top/cli/target/vfioctl.jar}
work=$(mktemp -d /tmp/vfioctl-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
cp "$jar" "$work/vfioctl.jar"
J=$work/vfioctl.jar
F="-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -XX:-UsePerfData"
# shellcheck disable=SC2086 # F is several options
java $F -XX:ArchiveClassesAtExit="$work/plain.jsa" -jar "$J" list >/dev/null 2>&1
mkdir "$work/cds"
L="env VFIOCTL_JAR=$J VFIOCTL_CDS_DIR=$work/cds $top/cli/src/main/sh/vfioctl"
$L list >/dev/null # records the launcher's archive

names=() cmds=()
add() { names+=("$1"); cmds+=("$2"); }
add "driverctl list-devices"       "driverctl list-devices"
add "java -jar (no flags)"         "java -jar $J list"
add "C1"                           "java -XX:TieredStopAtLevel=1 -jar $J list"
add "C1+SerialGC"                  "java -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -jar $J list"
add "C1+SerialGC-PerfData"         "java $F -jar $J list"
add "AppCDS only"                  "java -XX:SharedArchiveFile=$work/plain.jsa -jar $J list"
add "C1+SerialGC-PerfData+AppCDS"  "java $F -XX:SharedArchiveFile=$work/plain.jsa -jar $J list"
add "launcher list"                "$L list"
add "launcher --help (JVM start)"  "$L --help"

for ((r = 0; r < rounds; r++)); do
    for i in "${!cmds[@]}"; do
        s=$(date +%s%N)
        # shellcheck disable=SC2086 # the command is split into words on purpose
        /usr/bin/time -o "$work/t" -f "%U %S" ${cmds[$i]} >/dev/null 2>"$work/err" || { echo "failed: ${cmds[$i]}"; cat "$work/err"; exit 1; } >&2
        e=$(date +%s%N)
        echo $(((e - s) / 1000000)) >>"$work/wall$i"
        awk '{printf "%d\n", ($1 + $2) * 1000}' "$work/t" >>"$work/cpu$i"
    done
done
median() { sort -n "$1" | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
printf '%-30s %12s %9s %11s\n' command "wall median" "wall min" "cpu median"
for i in "${!cmds[@]}"; do
    printf '%-30s %9s ms %6s ms %8s ms\n' "${names[$i]}" "$(median "$work/wall$i")" "$(sort -n "$work/wall$i" | head -1)" "$(median "$work/cpu$i")"
done
