#!/usr/bin/env bash
# exporter/bench/startup.sh - a fresh agent against a warm one, with and without the AOT cache
# (issue 18, "Start warm"). Not part of the test suite. Run as root on an otherwise idle machine:
#
#   exporter/bench/startup.sh [REFDIR]
#
# REFDIR: the C reference programs (default: ../shared/reference relative to the repo root), copied
# to a scratch dir and built there. For each repetition and each configuration (CONFIGS):
#   ready     exec of java to /healthz 200 (polled every 10 ms), and the process CPU spent by then
#   fresh     CPU per fanotify event over the first $EVENTS events of churn right after ready
#             (`churn -m $MODE -n $((EVENTS / 2))`, at full rate; every cgroup is one CREATE and one
#             DELETE), measured from ready to the last event applied, as index.sh measures: the
#             whole process (/proc/PID/stat), the reader thread and the JIT compiler threads
#             (schedstat)
#   warm      the same agent after $WARMUP more events of the same churn: the next $EVENTS events
#   fanreader the C reader at the same batching (`fanreader -u -S 1000`), alone, with the same churn
# Configurations, each the deployment's flags (exporter/src/main/dist/jvm.options) plus:
#   none      nothing (the JDK's own CDS archive only: what `java -jar` gets)
#   aot       -XX:AOTCache=exporter/target/cgscope.aot (exporter/scripts/train.sh makes it first
#             when it is missing or older than the jar)
#   cds       -XX:SharedArchiveFile=<a dynamic CDS archive>: classes only, no linking, no profiles
#             (made here by the same training run with -XX:ArchiveClassesAtExit)
#   c1        -XX:TieredStopAtLevel=1: C1 only (cheap compiles, slower code)
#   aot-c1    both
#   aot-eager the AOT cache and -XX:+AOTCompileEagerly (experimental in Java 25: methods the training
#             run had compiled are compiled as soon as they are first called, from their profiles)
# Env: CONFIGS (default "none aot aot-eager cds c1"), REPS (3), EVENTS (30000), WARMUP (150000), MODE (c),
# PORT (19488), CGSCOPE_FLAGS (more cgscope flags; the BPF programs are the default ones),
# WORK (/tmp/cgscope-startup), OUT ($WORK/raw.txt, emptied first). The last lines are medians per configuration
# and the goal's two ratios: fresh/warm CPU per event (goal <= 1.5) and ready time against "none"
# (goal <= 0.5). Every cgroup is created below <cgroup2>/benchlimit.slice and removed on exit.
set -u
top="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
ref_src="${1:-$top/../shared/reference}"
CONFIGS=${CONFIGS:-none aot aot-eager cds c1}
REPS=${REPS:-3}
EVENTS=${EVENTS:-30000}
WARMUP=${WARMUP:-150000}
MODE=${MODE:-c}
PORT=${PORT:-19488}
JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
export JAVA_HOME
JAVA="$JAVA_HOME/bin/java"
WORK=${WORK:-/tmp/cgscope-startup}
OUT=${OUT:-$WORK/raw.txt}
JAR="$top/exporter/target/cgscope.jar"
AOT="$top/exporter/target/cgscope.aot"
OPTIONS="$top/exporter/src/main/dist/jvm.options"
HZ=$(getconf CLK_TCK)

mkdir -p "$WORK"
: >"$OUT"
[ -f "$JAR" ] || { echo "build first: mvn -q -o -DskipTests package" >&2; exit 1; }
rm -rf "$WORK/ref" && cp -r "$ref_src" "$WORK/ref" && (cd "$WORK/ref" && make -s all >/dev/null 2>&1) \
    || { echo "cannot build the reference in $WORK/ref" >&2; exit 1; }
REF="$WORK/ref"

CGS_PID=""
cleanup() {
    [ -n "$CGS_PID" ] && kill "$CGS_PID" 2>/dev/null && wait "$CGS_PID" 2>/dev/null
    "$REF/churn" -m clean -x -q >/dev/null 2>&1 || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say() { echo "$*" | tee -a "$OUT"; }
now() { date +%s.%N; }
events_total() {
    curl -s --max-time 5 "http://127.0.0.1:$PORT/metrics?name%5B%5D=cgscope_index_events_total" \
        | awk '/^cgscope_index_events_total/ {s += $NF} END {printf "%.0f\n", s}'
}
proc_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# CPU of the threads whose name matches $2, in clock ticks, from schedstat (exact nanoseconds)
threads_ticks() {
    local t s=0
    for t in /proc/"$1"/task/*; do
        # shellcheck disable=SC2254 # $2 is a pattern
        case $(cat "$t/comm" 2>/dev/null) in $2) s=$(awk -v s="$s" -v hz="$HZ" '{printf "%.3f", s + $1 * hz / 1e9}' "$t/schedstat") ;; esac
    done
    echo "$s"
}
cpu_now() { echo "$(proc_ticks "$CGS_PID") $(threads_ticks "$CGS_PID" 'cgscope-fanotif') $(threads_ticks "$CGS_PID" 'C[12] CompilerThre*')"; }

# Waits until the event counter stops moving for 0.5 s; the CPU counters are saved at each change
# (the harness's own polling after the last event is not cgscope's work).
settle() {
    local last cur stable_since
    last=$(events_total); cpu_now >"$WORK/at_last"; stable_since=$(now)
    while :; do
        sleep 0.05
        cur=$(events_total)
        if [ "$cur" != "$last" ]; then last=$cur; cpu_now >"$WORK/at_last"; stable_since=$(now)
        elif [ "$(echo "$(now) - $stable_since > 0.5" | bc)" = 1 ]; then break; fi
    done
    echo "$last"
}

flags_of() {  # the JVM flags of a configuration, beyond jvm.options
    case $1 in
        none) echo "" ;;
        aot) echo "-XX:AOTCache=$AOT" ;;
        cds) echo "-XX:SharedArchiveFile=$WORK/cds.jsa" ;;
        c1) echo "-XX:TieredStopAtLevel=1" ;;
        aot-c1) echo "-XX:AOTCache=$AOT -XX:TieredStopAtLevel=1" ;;
        aot-eager) echo "-XX:AOTCache=$AOT -XX:+AOTCompileEagerly" ;;
        *) echo "unknown configuration $1" >&2; exit 2 ;;
    esac
}

# One window of $1 events of churn: prints "events=N cpu_us=... reader_us=... jit_us=..." per event
window() {
    local e0 e1 p0 r0 c0 p1 r1 c1
    e0=$(events_total); read -r p0 r0 c0 <<<"$(cpu_now)"
    "$REF/churn" -m "$MODE" -n $(( $1 / 2 )) -q >/dev/null
    e1=$(settle); read -r p1 r1 c1 <"$WORK/at_last"
    local ev=$((e1 - e0))
    awk -v ev="$ev" -v hz="$HZ" -v p0="$p0" -v p1="$p1" -v r0="$r0" -v r1="$r1" -v c0="$c0" -v c1="$c1" \
        'BEGIN {printf "events=%d cpu_us_per_event=%.2f reader_us_per_event=%.2f jit_us_per_event=%.2f", ev,
            (p1 - p0) * 1e6 / hz / ev, (r1 - r0) * 1e6 / hz / ev, (c1 - c0) * 1e6 / hz / ev}'
}

run_config() {  # run_config CONFIG REP
    local c=$1 r=$2 t0 ready_s ready_cpu fresh warm
    "$REF/churn" -m clean -q >/dev/null 2>&1
    t0=$(now)
    # shellcheck disable=SC2046
    "$JAVA" "@$OPTIONS" $(flags_of "$c") -jar "$JAR" --web.listen-address=127.0.0.1:$PORT --cgroup.hierarchy=unified ${CGSCOPE_FLAGS:-} \
        >"$WORK/cgscope-$c.log" 2>&1 &
    CGS_PID=$!
    until curl -s -o /dev/null -w '%{http_code}' --max-time 1 "http://127.0.0.1:$PORT/healthz" 2>/dev/null | grep -q 200; do
        kill -0 "$CGS_PID" 2>/dev/null || { echo "cgscope died ($c)" >&2; cat "$WORK/cgscope-$c.log" >&2; exit 1; }
        sleep 0.01
    done
    ready_s=$(echo "$(now) - $t0" | bc)
    ready_cpu=$(proc_ticks "$CGS_PID")
    fresh=$(window "$EVENTS")
    "$REF/churn" -m "$MODE" -n $(( WARMUP / 2 )) -q >/dev/null
    settle >/dev/null
    warm=$(window "$EVENTS")
    kill "$CGS_PID"; wait "$CGS_PID" 2>/dev/null; CGS_PID=""
    say "startup config=$c rep=$r ready_ms=$(echo "$ready_s * 1000" | bc | xargs printf %.0f) ready_cpu_ms=$((ready_cpu * 1000 / HZ)) fresh: $fresh warm: $warm"
}

fanreader_run() {  # fanreader_run REP
    rm -f "$WORK/ready"
    "$REF/churn" -m clean -q >/dev/null 2>&1
    "$REF/fanreader" -u -S 1000 -t 2 -w "$WORK/ready" >"$WORK/fr.out" 2>&1 &
    local fr=$!
    while [ ! -e "$WORK/ready" ]; do sleep 0.01; done
    "$REF/churn" -m "$MODE" -n $(( EVENTS / 2 )) -q >/dev/null
    wait $fr
    say "startup fanreader rep=$1 $(grep '^fanreader ' "$WORK/fr.out" | grep -o ' events=[0-9]*\|cpu_us_per_event=[0-9.]*' | tr '\n' ' ')"
}

# The caches: the AOT cache for this jar and this java (train.sh), and a dynamic CDS archive made
# by the same training workload.
case " $CONFIGS " in *" aot"*)
    if [ ! -f "$AOT" ] || [ "$JAR" -nt "$AOT" ]; then "$top/exporter/scripts/train.sh" || exit 1; fi ;;
esac
case " $CONFIGS " in *" cds "*)
    if [ ! -f "$WORK/cds.jsa" ] || [ "$JAR" -nt "$WORK/cds.jsa" ]; then
        mkdir -p "$WORK/cds" && chown 65534 "$WORK/cds"  # written at exit, after the drop to nobody
        "$JAVA" "$top/exporter/scripts/training/Training.java" --log "$WORK/cds-training.log" -- \
            "$JAVA" "@$OPTIONS" -XX:ArchiveClassesAtExit="$WORK/cds/cds.jsa" -jar "$JAR" \
            --web.listen-address='127.0.0.1:{port}' --cgroup.hierarchy=unified --run-as=nobody || exit 1
        mv "$WORK/cds/cds.jsa" "$WORK/cds.jsa"
    fi ;;
esac

say "env date=$(date -Is) nproc=$(nproc) kernel=$(uname -r) commit=$(git -C "$top" rev-parse --short HEAD) java=$("$JAVA" -version 2>&1 | sed -n 's/.*build \([^,)]*\).*/\1/p' | head -1) configs=\"$CONFIGS\" reps=$REPS events=$EVENTS warmup=$WARMUP mode=$MODE loadavg=\"$(cut -d' ' -f1-3 /proc/loadavg)\""
for r in $(seq 1 "$REPS"); do
    fanreader_run "$r"
    for c in $CONFIGS; do run_config "$c" "$r"; done
done
"$REF/churn" -m clean -q >/dev/null 2>&1

# Medians per configuration, and the goal's ratios.
awk '
function median(list,   n, a, i, j, t) { n = split(list, a, " "); for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
function field(line, name,   m) { return match(line, name "=[0-9.]+") ? substr(line, RSTART + length(name) + 1, RLENGTH - length(name) - 1) : "" }
/^startup fanreader/ { fr = fr " " field($0, "cpu_us_per_event") }
/^startup config=/ {
    match($0, /config=[^ ]+/); c = substr($0, RSTART + 7, RLENGTH - 7)
    split($0, parts, "warm:"); split(parts[1], fp, "fresh:")
    seen[c] = 1; ready[c] = ready[c] " " field($0, "ready_ms"); rcpu[c] = rcpu[c] " " field($0, "ready_cpu_ms")
    fresh[c] = fresh[c] " " field(fp[2], "cpu_us_per_event"); warm[c] = warm[c] " " field(parts[2], "cpu_us_per_event")
    fjit[c] = fjit[c] " " field(fp[2], "jit_us_per_event")
}
END {
    f = median(fr); printf "summary fanreader cpu_us_per_event=%.2f\n", f
    base = ("none" in seen) ? median(ready["none"]) : 0
    for (c in seen) {
        printf "summary config=%s ready_ms=%.0f ready_cpu_ms=%.0f fresh_us_per_event=%.2f (jit %.2f) warm_us_per_event=%.2f fresh/warm=%.2fx (goal <= 1.5) fresh/fanreader=%.2fx warm/fanreader=%.2fx",
            c, median(ready[c]), median(rcpu[c]), median(fresh[c]), median(fjit[c]), median(warm[c]),
            median(fresh[c]) / median(warm[c]), median(fresh[c]) / f, median(warm[c]) / f
        if (base > 0) printf " ready/none=%.2fx (goal <= 0.5)", median(ready[c]) / base
        printf "\n"
    }
}' "$OUT" | sort | tee -a "$OUT"
