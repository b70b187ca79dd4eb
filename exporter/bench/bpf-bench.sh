#!/usr/bin/env bash
# BPF and metrics benchmarks (not tests; they never fail a build on timing). As root, from anywhere:
#   exporter/bench/bpf-bench.sh [switch] [mapread] [scrape] [top] [scrape-user]   (default: the first four)
# Builds the C reference (../shared/reference, copied to a scratch dir) and cgscope (mvn -o package
# + test-compile), then runs each pair in the same invocation so the ratios compare like with like.
# Output: results on stdout, raw lines also in $OUT (default /tmp/cgscope-bpf-bench.txt).
set -euo pipefail
top="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=../scripts/common.sh
. "$top/exporter/scripts/common.sh"
cgscope_find_jdk
REF_SRC="${REF_SRC:-$top/../shared/reference}"
[ -d "$REF_SRC" ] || REF_SRC=/work/shared/reference
SCRATCH="${SCRATCH:-/tmp/cgscope-bpf-bench}"
OUT="${OUT:-/tmp/cgscope-bpf-bench.txt}"
ROUNDTRIPS="${ROUNDTRIPS:-50000}"
REPEATS="${REPEATS:-11}"
sections=("$@")
[ ${#sections[@]} -gt 0 ] || sections=(switch mapread scrape top)

mkdir -p "$SCRATCH"
rm -rf "$SCRATCH/ref" && cp -r "$REF_SRC" "$SCRATCH/ref" && chmod -R u+w "$SCRATCH/ref"
make -s -C "$SCRATCH/ref" bpfcost cg.bpf.o >/dev/null
gcc -O2 -Wall -o "$SCRATCH/pingpong" "$top/exporter/bench/pingpong.c"
(cd "$top" && mvn -q -o -DskipTests package) # -DskipTests still compiles the benchmark mains
CP="$top/exporter/target/cgscope.jar:$top/exporter/target/test-classes"
JAVA=("$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -XX:+UseShenandoahGC -Xmx1g -cp "$CP")

{
echo "# $(date -u +%FT%TZ) $(uname -r) $(nproc) CPUs, load: $(cut -d' ' -f1-3 /proc/loadavg)"
for s in "${sections[@]}"; do
    case "$s" in
    switch)
        echo "## reference: bpfcost switch -n $ROUNDTRIPS -r $REPEATS (single counter cg.bpf.o)"
        (cd "$SCRATCH/ref" && ./bpfcost switch -n "$ROUNDTRIPS" -r "$REPEATS")
        echo "## cgscope: SwitchCostBench (all four features attached)"
        "${JAVA[@]}" io.cgscope.bench.SwitchCostBench "$SCRATCH/pingpong" "$ROUNDTRIPS" "$REPEATS"
        ;;
    mapread)
        echo "## reference: bpfcost mapread -e 10000 -r 21"
        (cd "$SCRATCH/ref" && ./bpfcost mapread -e 10000 -r 21)
        echo "## cgscope: MapReadBench 10000 21"
        "${JAVA[@]}" io.cgscope.bench.MapReadBench 10000 21
        ;;
    scrape)
        echo "## cgscope: ScrapeBench 10000 15"
        # Serial GC here: System.gc() is then a full, synchronous collection, so heap deltas are exact.
        "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -XX:+UseSerialGC -Xmx1g -cp "$CP" io.cgscope.bench.ScrapeBench 10000 15
        echo "## cgscope: ScrapeBench 10000 15 containers (Kubernetes paths, workload labels, gzip)"
        "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -XX:+UseSerialGC -Xmx2g -cp "$CP" io.cgscope.bench.ScrapeBench 10000 15 containers
        ;;
    top)
        echo "## cgscope: TopBench 10000 $REPEATS (the live page's /api/top against /metrics, same server)"
        "${JAVA[@]}" io.cgscope.bench.TopBench 10000 "$REPEATS"
        ;;
    scrape-user)
        echo "## cgscope: ScrapeBench 10000 15 systemd user (with a user program in ebpf_exporter's format)"
        "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -XX:+UseSerialGC -Xmx1g \
            -Dcgscope.test-bpf="$top/exporter/target/test-bpf" -cp "$CP" io.cgscope.bench.ScrapeBench 10000 15 systemd user
        ;;
    *) echo "unknown section $s" >&2; exit 2 ;;
    esac
done
} 2>&1 | tee "$OUT"
