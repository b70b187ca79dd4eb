#!/usr/bin/env bash
# The cgroupfs collectors' cost (not a test; it never fails on timing). As root, from anywhere:
#   exporter/bench/cgroupfs.sh [collect] [scrape]        (default: both)
# collect: CgroupFsBench, cgscope's collect() against the C reference (cgroupfs-read.c) reading the same
#          files of the same cgroups, alternating in ROUNDS rounds of PASSES passes, in one run; and the
#          share of one core a scrape every 15 s takes.
# scrape:  CgroupFsBench scrape: a whole scrape of the cgroupfs families against the bare serializer.
# N (default 10000) empty cgroups per family wherever this host has the family's files (here: pressure in
# cgroup2, cpu, memory, blkio and pids in their v1 hierarchies, memory inside this process's own memory
# cgroup); FAMILIES (default pressure,cpu,memory,io,pids) selects. Setting up 10,000 v1 memory cgroups takes
# about 4 minutes here (mkdir of a memcg is slow), and as long to remove; each costs some 30 KB of kernel memory.
# Output: results on stdout, raw lines also in $OUT (default /tmp/cgscope-cgroupfs-bench.txt).
set -euo pipefail
top="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=../scripts/common.sh
. "$top/exporter/scripts/common.sh"
cgscope_find_jdk
SCRATCH="${SCRATCH:-/tmp/cgscope-cgroupfs-bench}"
OUT="${OUT:-/tmp/cgscope-cgroupfs-bench.txt}"
N="${N:-10000}"
PASSES="${PASSES:-5}"
ROUNDS="${ROUNDS:-5}"
FAMILIES="${FAMILIES:-pressure,cpu,memory,io,pids}"
sections=("$@")
[ ${#sections[@]} -gt 0 ] || sections=(collect scrape)

mkdir -p "$SCRATCH"
gcc -O2 -Wall -o "$SCRATCH/cgroupfs-read" "$top/exporter/bench/cgroupfs-read.c"
(cd "$top" && mvn -q -o -DskipTests package) # -DskipTests still compiles the benchmark mains
CP="$top/exporter/target/cgscope.jar:$top/exporter/target/test-classes"
JAVA=("$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -XX:+UseShenandoahGC -Xmx1g -cp "$CP")

{
echo "# $(date -u +%FT%TZ) $(uname -r) $(nproc) CPUs, load: $(cut -d' ' -f1-3 /proc/loadavg)"
for s in "${sections[@]}"; do
    case "$s" in
    collect)
        echo "## CgroupFsBench $N per family ($FAMILIES), $ROUNDS rounds of $PASSES passes"
        "${JAVA[@]}" io.cgscope.bench.CgroupFsBench "$SCRATCH/cgroupfs-read" "$N" "$PASSES" "$ROUNDS" "$FAMILIES"
        ;;
    scrape)
        echo "## CgroupFsBench scrape $N 15 $FAMILIES"
        "${JAVA[@]}" io.cgscope.bench.CgroupFsBench scrape "$N" 15 "$FAMILIES"
        ;;
    *) echo "unknown section $s" >&2; exit 2 ;;
    esac
done
} 2>&1 | tee "$OUT"
