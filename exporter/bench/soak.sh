#!/usr/bin/env bash
# exporter/bench/soak.sh - soak and footprint benchmarks of issue 7 (not tests). Run as root:
#
#   exporter/bench/soak.sh [REFDIR] [footprint] [churn]
#
# REFDIR: the C reference programs (default: ../shared/reference relative to the repo root), copied
#   to a scratch dir and built there; `churn` is the load generator and the CPU reference.
# JVM flags: those of exporter/deploy/systemd/cgscope.service (CGSCOPE_JAVA_OPTS; $JAVA_OPTS replaces
#   them), LC_ALL=C.UTF-8 and --run-as=nobody as the unit has them.
# footprint  10,000 cgroups under <cgroup2>/cgscope-soak.slice (100 x 100), cgscope with every BPF
#            program; after $SETTLE s (default 30) of settling: $IDLE s (default 60) with no scrape and
#            $IDLE s with a scrape every 15 s; CPU from /proc/PID/stat (utime+stime) as % of one core,
#            RSS (VmRSS) and heap used (jvm_memory_bytes_used{area="heap"}) at the end of each.
# churn      $TOTAL (default 500000) short-lived cgroups at $RATE/s (default 2000; `churn -m c -r`) with
#            --cgroup.retention=$RETENTION (default 1m), plus a mover that puts a task into $MOVER/s
#            (default 50) more cgroups (so the BPF maps fill and must be emptied too); a scrape every
#            15 s; every $EVERY s (default 10) one sample: index live/dead, heap used, RSS, BPF map
#            entries, cgscope's CPU; sampled $AFTER s (default 90) more after the churn ended.
#            The reference: the CPU time of `churn` itself for the same cgroups.
# Output: lines on stdout and in $OUT (default /tmp/cgscope-soak/raw.txt). Everything is removed on exit.
set -u
top="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
ref_src="$top/../shared/reference"
if [ $# -gt 0 ] && [ -d "$1" ]; then ref_src="$1"; shift; fi
sections=("$@")
[ ${#sections[@]} -eq 0 ] && sections=(footprint churn)
JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
UNIT="$top/exporter/deploy/systemd/cgscope.service"
JAVA_OPTS=${JAVA_OPTS:-$(sed -n 's/^Environment="CGSCOPE_JAVA_OPTS=\(.*\)"$/\1/p' "$UNIT")}
[ -n "$JAVA_OPTS" ] || { echo "no CGSCOPE_JAVA_OPTS in $UNIT" >&2; exit 1; }
JAR="$top/exporter/target/cgscope.jar"
WORK=${WORK:-/tmp/cgscope-soak}
OUT=${OUT:-$WORK/raw.txt}
SETTLE=${SETTLE:-30}; IDLE=${IDLE:-60}
TOTAL=${TOTAL:-500000}; RATE=${RATE:-2000}; RETENTION=${RETENTION:-1m}; MOVER=${MOVER:-50}
EVERY=${EVERY:-10}; AFTER=${AFTER:-90}
HZ=$(getconf CLK_TCK)
PARENT=cgscope-soak.slice
mkdir -p "$WORK"
[ -f "$JAR" ] || { echo "build first: mvn -q -o -DskipTests package" >&2; exit 1; }
rm -rf "$WORK/ref" && cp -r "$ref_src" "$WORK/ref" && (cd "$WORK/ref" && make -s churn >/dev/null 2>&1) \
    || { echo "cannot build churn in $WORK/ref" >&2; exit 1; }
REF="$WORK/ref"
CG=$(awk '$9 == "cgroup2" {print $5; exit}' /proc/self/mountinfo)
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

CGS_PID=""; MOVER_PID=""; SCRAPER_PID=""
stop_pid() { [ -n "$1" ] && kill "$1" 2>/dev/null && wait "$1" 2>/dev/null; }
cleanup() {
    stop_pid "$SCRAPER_PID"; SCRAPER_PID=""
    stop_pid "$MOVER_PID"; MOVER_PID=""
    stop_pid "$CGS_PID"; CGS_PID=""
    for _ in 1 2 3 4 5; do  # a task that just exited may keep its cgroup populated a moment
        [ -d "$CG/$PARENT" ] && find "$CG/$PARENT" -depth -type d -exec rmdir {} + 2>/dev/null
        [ -d "$CG/$PARENT" ] || break
        sleep 0.2
    done
    [ -d "$CG/$PARENT" ] && echo "warning: $CG/$PARENT left behind" >&2
    return 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say() { echo "$*" | tee -a "$OUT"; }
metrics() { curl -s --max-time 10 "http://127.0.0.1:$PORT/metrics"; }
# sample NAME_REGEX from a saved body: sum of the matching samples
pick() { awk -v re="^$2" '$0 ~ re {s += $NF} END {printf "%.0f\n", s}' "$1"; }
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss_mb() { awk '/^VmRSS:/ {printf "%.1f\n", $2 / 1024}' "/proc/$1/status"; }

start_cgscope() {  # flags...
    LC_ALL=C.UTF-8 "$JAVA_HOME/bin/java" $JAVA_OPTS -jar "$JAR" --web.listen-address=127.0.0.1:$PORT --run-as=nobody --cgroup.hierarchy=unified "$@" \
        >"$WORK/cgscope.log" 2>&1 &
    CGS_PID=$!
    for _ in $(seq 600); do
        curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && grep -q "dropped privileges" "$WORK/cgscope.log" && return 0
        kill -0 $CGS_PID 2>/dev/null || break
        sleep 0.1
    done
    echo "cgscope did not start:" >&2; cat "$WORK/cgscope.log" >&2; exit 1
}

footprint() {
    mkdir -p "$CG/$PARENT"
    local t0=$(date +%s.%N)
    for g in $(seq 0 99); do mkdir -p "$CG/$PARENT/g$g.slice"; (cd "$CG/$PARENT/g$g.slice" && mkdir $(seq -f 'c%g.scope' 0 99)); done
    say "footprint: $(find "$CG/$PARENT" -mindepth 1 -type d | wc -l) cgroups created in $(echo "$(date +%s.%N) - $t0" | bc) s"
    start_cgscope
    say "footprint: java $JAVA_OPTS; $(grep -o 'mode fanotify[^"]*' "$WORK/cgscope.log"); $(grep -o 'programs attached: [a-z,]*' "$WORK/cgscope.log")"
    metrics >/dev/null
    sleep "$SETTLE"
    for phase in idle scraped; do
        local c0=$(ticks $CGS_PID) w0=$(date +%s.%N) n=0
        if [ $phase = idle ]; then sleep "$IDLE"; else
            while [ $n -lt $((IDLE / 15)) ]; do sleep 15; metrics >/dev/null; n=$((n + 1)); done
        fi
        local c1=$(ticks $CGS_PID) w1=$(date +%s.%N)
        metrics >"$WORK/m.txt"
        say "footprint $phase: cpu_pct_of_one_core=$(echo "scale=3; 100 * ($c1 - $c0) / $HZ / ($w1 - $w0)" | bc)" \
            "over_s=$(echo "$w1 - $w0" | bc) scrapes=$n rss_mb=$(rss_mb $CGS_PID)" \
            "heap_used_mb=$(echo "scale=1; $(pick "$WORK/m.txt" 'jvm_memory_bytes_used\{area="heap"')/1048576" | bc)" \
            "heap_committed_mb=$(echo "scale=1; $(pick "$WORK/m.txt" 'jvm_memory_bytes_committed\{area="heap"')/1048576" | bc)" \
            "index_live=$(pick "$WORK/m.txt" 'cgscope_index_cgroups\{state="live"')" \
            "map_entries_counters=$(pick "$WORK/m.txt" 'cgscope_bpf_map_entries\{map="counters"')" \
            "threads=$(ls /proc/$CGS_PID/task | wc -l)"
    done
    cleanup
}

# A task moved through fresh cgroups, $1 per second: each gets BPF counts (a sleep there switches it out).
mover() {  # exec: the background job's PID is the mover's own, so stopping it by PID stops it
    exec python3 - "$CG/$PARENT" "$1" <<'EOF'
import os, sys, time
base, rate = sys.argv[1], float(sys.argv[2])
home = os.path.join(base, "mover-home")
os.makedirs(home, exist_ok=True)
me = str(os.getpid())
def move(d):
    with open(os.path.join(d, "cgroup.procs"), "w") as f:
        f.write(me)
move(home)
i, t0 = 0, time.monotonic()
while True:
    d = os.path.join(base, "m%d" % i)
    os.mkdir(d); move(d); time.sleep(0.001); move(home); os.rmdir(d)
    i += 1
    time.sleep(max(0, t0 + i / rate - time.monotonic()))
EOF
}

churn() {
    mkdir -p "$CG/$PARENT"
    start_cgscope --cgroup.retention="$RETENTION"
    say "churn: java $JAVA_OPTS --cgroup.retention=$RETENTION; $TOTAL cgroups at $RATE/s (churn -m c) + a mover at $MOVER/s"
    (while sleep 15; do metrics >/dev/null; done) & SCRAPER_PID=$!
    mover "$MOVER" & MOVER_PID=$!
    local w0=$(date +%s.%N) c0=$(ticks $CGS_PID)
    /usr/bin/time -f "churn_cpu_s=%U+%S" "$REF/churn" -m c -n "$TOTAL" -r "$RATE" -p "$PARENT" >"$WORK/churn.txt" 2>&1 &
    local churn_pid=$!
    say "t_s,index_live,index_dead,retention_ended,heap_used_mb,rss_mb,map_entries_counters,map_update_failures,cgscope_cpu_pct"
    local done_at="" last_c=$c0 last_w=$w0
    while :; do
        sleep "$EVERY"
        local w=$(date +%s.%N) c=$(ticks $CGS_PID)
        metrics >"$WORK/m.txt"
        say "$(printf %.0f "$(echo "$w - $w0" | bc)"),$(pick "$WORK/m.txt" 'cgscope_index_cgroups\{state="live"'),$(pick "$WORK/m.txt" 'cgscope_index_cgroups\{state="dead"'),$(pick "$WORK/m.txt" 'cgscope_index_retention_ended_total'),$(echo "scale=1; $(pick "$WORK/m.txt" 'jvm_memory_bytes_used\{area="heap"')/1048576" | bc),$(rss_mb $CGS_PID),$(pick "$WORK/m.txt" 'cgscope_bpf_map_entries\{map="counters"'),$(pick "$WORK/m.txt" 'cgscope_bpf_map_update_failures_total'),$(echo "scale=1; 100 * ($c - $last_c) / $HZ / ($w - $last_w)" | bc)"
        last_c=$c; last_w=$w
        if [ -z "$done_at" ] && ! kill -0 $churn_pid 2>/dev/null; then
            wait $churn_pid; done_at=$w
            stop_pid "$MOVER_PID"; MOVER_PID=""
            say "churn ended: $(cat "$WORK/churn.txt" | tr '\n' ' ')"
            say "cgscope cpu during the churn: $(echo "scale=2; ($c - $c0) / $HZ" | bc) s for $TOTAL cgroups"
        fi
        [ -n "$done_at" ] && [ "$(echo "$w - $done_at > $AFTER" | bc)" = 1 ] && break
    done
    say "churn: cgscope log: $(grep -c 'level=warn\|level=error' "$WORK/cgscope.log") warnings/errors"
    cleanup
}

say "# soak.sh $(date -u +%FT%TZ) on $(uname -r), $(nproc) CPUs, $(awk '/MemTotal/ {printf "%.1f GB", $2/1048576}' /proc/meminfo); load $(cut -d' ' -f1-3 /proc/loadavg)"
for s in "${sections[@]}"; do
    "$s"
done
