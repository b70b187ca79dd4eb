#!/usr/bin/env bash
# exporter/bench/index.sh - the index benchmarks of issue 3 ("Benchmark (not a test)").
# Not part of the test suite. Run as root on an otherwise idle-ish machine:
#
#   exporter/bench/index.sh [REFDIR] [section ...]
#
# REFDIR: the C reference programs (default: ../shared/reference relative to the repo root).
#   It is copied to a scratch dir and built there (make all), as its README asks.
# Sections (default: all, in this order):
#   events    CPU us per event: cgscope (JVM process CPU from /proc/PID/stat, the reader thread and the
#             GC threads from schedstat) vs `fanreader -u -S 1000` (same 1 ms batching, same unlimited
#             queue), each alone with its own `churn -m a|b|c|d -T $SECS` at full rate, $REPS repetitions:
#             fanreader before cgscope starts, cgscope, fanreader after cgscope stopped; each cgscope run
#             is compared with the mean of the fanreader runs of its mode and repetition.
#             cgscope is warmed up first ($WARMUP s, default 20, of churn a, b, c and d each; C2 was
#             still compiling index code after 30 s; then 300 scrapes, see warm_scrapes). Also:
#             the lag after churn stops (last change of cgscope's event counters after churn exits,
#             polled every 50 ms) and whether the index counts equal what churn created (live back
#             to baseline, dead grew by exactly the number of created cgroups).
#   paired    as events, but one warmed cgscope stays up and each of its runs is paired with fanreader
#             runs of the same mode right before and after it (cgscope's mark removed meanwhile; see
#             sec_paired). Same output lines, so index-summary.py reads both.
#   overflow  60 s of `churn -m c -T 60` with --fanotify.unlimited-queue=false: overflows and re-syncs.
#   sweep     10k and 50k cgroups (churn -m keep): `sweep -m gd -r 7` vs cgscope's Sweeper in a fresh
#             JVM (IndexBench sweep: cold = 1st run, warm = median of the rest) and cgscope's start-up
#             to "index ready" (launch to cgscope_index_following 1 on /metrics, and the
#             cgscope_index_last_sweep_duration_seconds it reports), plus cgscope's heap with them.
#   heap      heap bytes per indexed cgroup: IndexBench heap 100k and 200k (fresh JVM, full GC, class
#             histogram), with the deployment's Shenandoah and with ZGC and G1 for comparison.
# Env: REPS (default 3), SECS (default 5), MODES (default "a b c d"), CGSCOPE_FLAGS (extra flags for
# cgscope, e.g. --cgroup.retention=5s to keep the index small), PORT (default 19486), JAVA_OPTS (default: the deployment's flags,
# @exporter/src/main/dist/jvm.options). Output: raw lines on stdout and in $OUT (default /tmp/cgscope-bench/raw.txt).
# Every cgroup is created below <cgroup2>/benchlimit.slice and removed on exit (churn -m clean -x).
set -u
top="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
ref_src="${1:-$top/../shared/reference}"
[ $# -gt 0 ] && shift
sections=("$@")
[ ${#sections[@]} -eq 0 ] && sections=(events overflow sweep heap)
REPS=${REPS:-3}
SECS=${SECS:-5}
PORT=${PORT:-19486}
JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
JAVA="$JAVA_HOME/bin/java"
JAVA_OPTS=${JAVA_OPTS:-@$top/exporter/src/main/dist/jvm.options}  # the deployment's flags
WORK=${WORK:-/tmp/cgscope-bench}
OUT=${OUT:-$WORK/raw.txt}
JAR="$top/exporter/target/cgscope.jar"
HZ=$(getconf CLK_TCK)

mkdir -p "$WORK"
[ -f "$JAR" ] || { echo "build first: mvn -q -o -DskipTests package" >&2; exit 1; }
rm -rf "$WORK/ref" && cp -r "$ref_src" "$WORK/ref" && (cd "$WORK/ref" && make -s all >/dev/null 2>&1) \
    || { echo "cannot build the reference in $WORK/ref" >&2; exit 1; }
REF="$WORK/ref"
mkdir -p "$WORK/cls"
"$JAVA_HOME/bin/javac" -d "$WORK/cls" -cp "$JAR" "$top/exporter/bench/java/io/cgscope/bench/IndexBench.java" || exit 1
CG=$(awk '$9 == "cgroup2" && $4 == "/" {print $5; exit}' /proc/self/mountinfo)

CGS_PID=""
cleanup() {
    [ -n "$CGS_PID" ] && kill "$CGS_PID" 2>/dev/null && wait "$CGS_PID" 2>/dev/null
    for p in $(jobs -p); do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
    "$REF/churn" -m clean -x -q >/dev/null 2>&1 || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say() { echo "$*" | tee -a "$OUT"; }
metrics() { curl -s --max-time 5 "http://127.0.0.1:$PORT/metrics"; }
# metric NAME_REGEX: sum of the matching samples
metric() { metrics | awk -v re="^$1" '$0 ~ re {s += $NF} END {printf "%.0f\n", s}'; }
# polled every 50 ms while settling: the filtered scrape collects only the index's own family
events_total() {
    curl -s --max-time 5 "http://127.0.0.1:$PORT/metrics?name%5B%5D=cgscope_index_events_total" \
        | awk '/^cgscope_index_events_total/ {s += $NF} END {printf "%.0f\n", s}'
}
# thread_ticks PID: "tid comm|ticks" per thread, sorted (for a per-thread breakdown)
thread_ticks() {
    local t
    for t in /proc/"$1"/task/*; do echo "${t##*/} $(cat "$t/comm")|$(sched_ticks "$t")"; done | sort
}
# other_threads BEFORE AFTER EVENTS: the threads besides the reader that used 0.01 us/event or more, most first
other_threads() {
    join -t'|' "$1" "$2" | awk -F'|' -v ev="$3" -v hz="$HZ" '$1 !~ / cgscope-fanotif$/ && $3 > $2 {
        sub(/^[0-9]+ /, "", $1); gsub(/ /, "_", $1); printf "%.2f %s\n", ($3 - $2) * 1e6 / hz / ev, $1 }' \
        | sort -rn | awk '$1 >= 0.01 {printf "%s=%s ", $2, $1}'
}
proc_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# Per-thread CPU comes from /proc/PID/task/TID/schedstat (nanoseconds on CPU, exact): the
# utime+stime of a thread's own stat file are tick samples, and they missed most of the GC workers'
# short bursts here (0.2 us/event shown against 1-2.6 us/event in schedstat). The process total
# (proc_ticks) is exact either way: the kernel scales it to the group's runtime.
# Values below are in clock ticks (1/HZ s), like proc_ticks, for the same arithmetic.
sched_ticks() { awk -v hz="$HZ" '{printf "%.3f\n", $1 * hz / 1e9}' "$1/schedstat"; }
reader_ticks() {  # the fanotify reader thread (comm is cut to 15 characters)
    local t
    for t in /proc/"$1"/task/*; do
        [ "$(cat "$t/comm")" = "cgscope-fanotif" ] && { sched_ticks "$t"; return; }
    done
    echo 0
}
gc_ticks() {  # the collector's threads (ZGC: Z*, G1: G1*/GC*, Shenandoah*, and the VM thread)
    local t s=0 c
    for t in /proc/"$1"/task/*; do
        c=$(cat "$t/comm")
        case $c in Z*|G1*|GC*|Shenandoah*|"VM Thread") s=$(echo "$s + $(sched_ticks "$t")" | bc) ;; esac
    done
    echo $s
}
now() { date +%s.%N; }
# The harness scrapes cgscope around every run (counters before and after, the settle polling):
# with the scrape path still being compiled, C2 spent up to 2.7 us per event of a window on it
# (PrintCompilation: prometheus-client and netty methods, 2026-11-26). A deployed agent is scraped
# every 15-30 s and compiled that path long ago, so the warm-up scrapes it too.
warm_scrapes() {
    local i
    for i in $(seq 1 300); do metrics >/dev/null; events_total >/dev/null; done
}

start_cgscope() {  # start_cgscope [flags]; sets CGS_PID, START_S (launch to following)
    local t0; t0=$(now)
    # shellcheck disable=SC2086
    "$JAVA" $JAVA_OPTS -jar "$JAR" --bpf.programs= --web.listen-address=127.0.0.1:$PORT ${CGSCOPE_FLAGS:-} "$@" \
        >"$WORK/cgscope.log" 2>&1 &
    CGS_PID=$!
    until metrics 2>/dev/null | grep -q '^cgscope_index_following 1'; do
        kill -0 "$CGS_PID" 2>/dev/null || { echo "cgscope died" >&2; cat "$WORK/cgscope.log" >&2; exit 1; }
        sleep 0.01
    done
    START_S=$(echo "$(now) - $t0" | bc)
}
stop_cgscope() { kill "$CGS_PID"; wait "$CGS_PID" 2>/dev/null; CGS_PID=""; }

churn_args() {  # the churn command line per mode
    case $1 in
        a) echo "-m a -n 20000 -T $SECS" ;;
        b) echo "-m b -n 20000 -F 10 -T $SECS" ;;
        c) echo "-m c -T $SECS" ;;
        d) echo "-m d -F 1 -T $SECS" ;;
    esac
}

# waits until cgscope's event counters stop moving (unchanged for 0.5 s); prints the lag in ms
# from $1 (churn end) to the last change
# With CGS_PID set, cgscope's CPU counters are also saved at each change seen ($WORK/at_last.*), so
# a measurement can end at the last event applied rather than after 0.5 s of the harness's polling.
settle() {
    local end=$1 last cur t_last
    last=$(events_total); t_last=$(now)
    local stable_since=$t_last
    save_at_last
    while :; do
        sleep 0.05
        cur=$(events_total)
        if [ "$cur" != "$last" ]; then last=$cur; t_last=$(now); stable_since=$t_last; save_at_last
        elif [ "$(echo "$(now) - $stable_since > 0.5" | bc)" = 1 ]; then break; fi
    done
    echo "$(echo "($t_last - $end) * 1000" | bc | awk '{printf "%.0f", ($1 < 0 ? 0 : $1)}')"
}

save_at_last() {
    [ -n "$CGS_PID" ] || return 0
    echo "$(proc_ticks "$CGS_PID") $(reader_ticks "$CGS_PID") $(gc_ticks "$CGS_PID")" >"$WORK/at_last.cpu"
    thread_ticks "$CGS_PID" >"$WORK/at_last.threads"
}

# fanreader alone (no cgscope process at all) with its own churn of mode $1; prints its result line
fanreader_run() {  # fanreader_run MODE REP PHASE
    rm -f "$WORK/ready"
    "$REF/fanreader" -u -S 1000 -t 2 -w "$WORK/ready" >"$WORK/fr.out" 2>&1 &
    local fr=$!
    while [ ! -e "$WORK/ready" ]; do sleep 0.01; done
    local fr_churn; fr_churn=$("$REF/churn" $(churn_args "$1"))
    wait $fr
    say "events mode=$1 rep=$2 fanreader: phase=$3 churn_$(echo "$fr_churn" | grep -o 'cgroups_per_s=[0-9]*') $(grep '^fanreader ' "$WORK/fr.out" | grep -o ' events=[0-9]*\|events_per_s=[0-9]*\|cpu_s=[0-9.]*\|cpu_us_per_event=[0-9.]*\|overflows=[0-9]*\|peak_backlog_bytes=[0-9]*' | tr '\n' ' ')"
}

measure_cgscope() {  # measure_cgscope MODE REP: one churn run of MODE with cgscope following it
    local m=$1 r=$2
    local gc0 gc1 e0 p0 t0 live0 dead0 e1 p1 t1 live1 dead1 lag
    e0=$(events_total); live0=$(metric 'cgscope_index_cgroups\{state="live"'); dead0=$(metric 'cgscope_index_cgroups\{state="dead"')
    p0=$(proc_ticks "$CGS_PID"); t0=$(reader_ticks "$CGS_PID"); gc0=$(gc_ticks "$CGS_PID")
    thread_ticks "$CGS_PID" >"$WORK/threads0"
    local g_out; g_out=$("$REF/churn" $(churn_args $m))
    local end; end=$(now)
    lag=$(settle "$end")
    # CPU up to the last change seen: the harness's own polling after it is not cgscope's work
    read -r p1 t1 gc1 <"$WORK/at_last.cpu"
    cp "$WORK/at_last.threads" "$WORK/threads1"
    e1=$(events_total); live1=$(metric 'cgscope_index_cgroups\{state="live"'); dead1=$(metric 'cgscope_index_cgroups\{state="dead"')
    local created; created=$(echo "$g_out" | sed -n 's/.* cgroups=\([0-9]*\).*/\1/p')
    local ev=$((e1 - e0))
    say "events mode=$m rep=$r churn: $(echo "$g_out" | grep -o 'cgroups=[0-9]*\|cgroups_per_s=[0-9]*' | tr '\n' ' ')"
    say "events mode=$m rep=$r cgscope: events=$ev cpu_s=$(echo "($p1 - $p0) / $HZ" | bc -l | xargs printf %.2f) cpu_us_per_event=$(echo "($p1 - $p0) * 1000000 / $HZ / $ev" | bc -l | xargs printf %.2f) reader_us_per_event=$(echo "($t1 - $t0) * 1000000 / $HZ / $ev" | bc -l | xargs printf %.2f) gc_us_per_event=$(echo "($gc1 - $gc0) * 1000000 / $HZ / $ev" | bc -l | xargs printf %.2f) size=$((live1 + dead1)) lag_ms=$lag created=$created dead_delta=$((dead1 - dead0)) live_delta=$((live1 - live0))"
    say "events mode=$m rep=$r cgscope_other_threads_us_per_event: $(other_threads "$WORK/threads0" "$WORK/threads1" "$ev")"
}

sec_events() {
    "$REF/churn" -m clean -q >/dev/null 2>&1
    # One reader at a time, and the other not even present: fanreader runs before cgscope starts and
    # after it stopped, and each cgscope run is compared with the mean of the fanreader runs of the
    # same mode and repetition before and after it. (A stopped cgscope next to fanreader was not
    # neutral: its unlimited queue kept growing and slowed every mkdir, fanreader's churn fell from
    # about 14.5k to 9.5-13k cgroups/s and its CPU per event rose by up to 50 %. Two readers running
    # at once on 2 CPUs disturbed each other too: fanreader alone 5.7-6.1 us/event, next to cgscope 3.3-4.6.)
    for r in $(seq 1 "$REPS"); do
        for m in ${MODES:-a b c d}; do fanreader_run "$m" "$r" before; done
    done
    start_cgscope
    say "events cgscope_start_s=$START_S"
    local idle0 idle1; idle0=$(proc_ticks "$CGS_PID"); sleep 5; idle1=$(proc_ticks "$CGS_PID")
    say "events cgscope_idle_cpu_ms_per_s=$(echo "($idle1 - $idle0) * 1000 / $HZ / 5" | bc -l | xargs printf %.2f)"
    for m in a b c d; do "$REF/churn" $(churn_args $m | sed "s/-T $SECS/-T ${WARMUP:-20}/") >/dev/null; done  # JIT warm-up
    warm_scrapes
    settle "$(now)" >/dev/null
    for r in $(seq 1 "$REPS"); do
        for m in ${MODES:-a b c d}; do
            measure_cgscope "$m" "$r"
        done
    done
    say "events final $(metrics | grep -E '^cgscope_index_(overflows|resyncs|unresolved|malformed|reader_restarts|child_ids)_total' | tr '\n' ' ')"
    stop_cgscope
    for r in $(seq 1 "$REPS"); do
        for m in ${MODES:-a b c d}; do fanreader_run "$m" "$r" after; done
    done
}

# The paired form of "events": one cgscope (in IndexBench serve, the same agent as the jar runs) is
# started and warmed up once, and each of its runs sits between two fanreader runs of the same mode
# seconds before and after it. While fanreader runs, cgscope's reader is held and its fanotify group
# closed (no mark: the kernel queues nothing for it); then it places a new mark and re-syncs. So both
# readers meet the machine as it is within the same half minute, rather than minutes apart (this
# VM's speed drifts between minutes: at 22:50 on 2026-11-25 a whole block of cgscope runs came out
# 12-47 % slower in every mode than the same code's runs half an hour before, while the fanreader
# runs before and after the block did not move).
start_cgscope_paired() {
    rm -f "$WORK/ctl" && mkfifo "$WORK/ctl"
    # shellcheck disable=SC2086
    "$JAVA" $JAVA_OPTS --enable-native-access=ALL-UNNAMED -cp "$JAR:$WORK/cls" io.cgscope.bench.IndexBench serve \
        --bpf.programs= --web.listen-address=127.0.0.1:$PORT ${CGSCOPE_FLAGS:-} \
        <"$WORK/ctl" >"$WORK/serve.out" 2>"$WORK/cgscope.log" &
    CGS_PID=$!
    exec 7>"$WORK/ctl"
    until metrics 2>/dev/null | grep -q '^cgscope_index_following 1'; do
        kill -0 "$CGS_PID" 2>/dev/null || { echo "cgscope died" >&2; cat "$WORK/cgscope.log" >&2; exit 1; }
        sleep 0.01
    done
}
ctl() {  # ctl pause|resume: the command, then its acknowledgement ("paused", "resumed")
    local n; n=$(( $(grep -c "^${1}d$" "$WORK/serve.out") + 1 ))
    echo "$1" >&7
    until [ "$(grep -c "^${1}d$" "$WORK/serve.out")" -ge "$n" ]; do sleep 0.01; done
}
resume_cgscope() {  # until the reader has placed its new mark and re-synced
    local r0; r0=$(metric cgscope_index_reader_restarts_total)
    ctl resume
    until [ "$(metric cgscope_index_reader_restarts_total)" -gt "$r0" ] \
        && metrics | grep -q '^cgscope_index_following 1'; do sleep 0.02; done
}

sec_paired() {
    "$REF/churn" -m clean -q >/dev/null 2>&1
    start_cgscope_paired
    say "events paired=1 (fanreader runs right before and after each cgscope run, cgscope unmarked meanwhile)"
    for m in a b c d; do "$REF/churn" $(churn_args $m | sed "s/-T $SECS/-T ${WARMUP:-20}/") >/dev/null; done  # JIT warm-up
    settle "$(now)" >/dev/null
    # The resume path too, before measuring: without this, C2 was busy in the window after the first
    # resume (up to 6.5 us per event, mode a rep 1), likely recompiling what the resume's exception
    # path had deoptimized.
    local i
    for i in 1 2 3; do ctl pause; resume_cgscope; "$REF/churn" -m c -T 3 >/dev/null; done
    for m in a b c d; do "$REF/churn" $(churn_args $m | sed "s/-T $SECS/-T 5/") >/dev/null; done
    warm_scrapes
    settle "$(now)" >/dev/null
    for r in $(seq 1 "$REPS"); do
        for m in ${MODES:-a b c d}; do
            ctl pause
            fanreader_run "$m" "$r" before
            resume_cgscope
            measure_cgscope "$m" "$r"
            ctl pause
            fanreader_run "$m" "$r" after
            resume_cgscope
        done
    done
    say "events final $(metrics | grep -E '^cgscope_index_(overflows|resyncs|unresolved|malformed|reader_restarts|child_ids)_total' | tr '\n' ' ')"
    echo quit >&7
    exec 7>&-
    wait "$CGS_PID" 2>/dev/null
    CGS_PID=""
}

sec_overflow() {
    for r in $(seq 1 "$REPS"); do
        start_cgscope --no-fanotify.unlimited-queue
        "$REF/churn" -m c -T 5 >/dev/null  # warm-up
        settle "$(now)" >/dev/null
        local o0; o0=$(metric cgscope_index_overflows_total)
        local out; out=$("$REF/churn" -m c -T 60)
        local lag; lag=$(settle "$(now)")
        say "overflow rep=$r $(echo "$out" | grep -o 'cgroups=[0-9]*\|cgroups_per_s=[0-9]*' | tr '\n' ' ')overflows=$(( $(metric cgscope_index_overflows_total) - o0 )) resyncs=$(metric cgscope_index_resyncs_total) lag_ms=$lag $(metrics | grep -E '^(cgscope_index_cgroups|jvm_gc_collection_seconds_(sum|count))' | tr -d ' ' | tr '\n' ' ')"
        stop_cgscope
    done
}

sec_sweep() {
    "$REF/churn" -m clean -q >/dev/null 2>&1
    for n in 10000 50000; do
        "$REF/churn" -m keep -n $n -q >/dev/null
        for r in $(seq 1 "$REPS"); do
            say "sweep n=$n rep=$r C: $("$REF/sweep" -m gd -r 7 | tr -s ' ')"
            "$JAVA" $JAVA_OPTS --enable-native-access=ALL-UNNAMED -cp "$JAR:$WORK/cls" io.cgscope.bench.IndexBench sweep 11 \
                | sed "s/^/sweep n=$n rep=$r /" | tee -a "$OUT"
            start_cgscope
            local heap; heap=$(jcmd "$CGS_PID" GC.heap_info 2>/dev/null | tr -s ' ' | head -3 | tr '\n' ' ')
            say "sweep n=$n rep=$r cgscope_start_to_ready_s=$START_S last_sweep_s=$(metrics | awk '/^cgscope_index_last_sweep_duration_seconds/ {print $2}') live=$(metric 'cgscope_index_cgroups\{state="live"') heap: $heap"
            stop_cgscope
        done
    done
    "$REF/churn" -m clean -q >/dev/null 2>&1
}

sec_heap() {
    local gc n
    for gc in "-XX:+UseShenandoahGC" "-XX:+UseZGC" "-XX:+UseG1GC"; do
        for n in 100000 200000; do
            "$JAVA" $gc -Xmx512m --enable-native-access=ALL-UNNAMED -cp "$JAR:$WORK/cls" io.cgscope.bench.IndexBench heap $n \
                | sed "s/^/heap gc=$gc n=$n /" | tee -a "$OUT"
        done
    done
}

{
    echo "env date=$(date -Is) nproc=$(nproc) cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs | tr ' ' _) kernel=$(uname -r) cgroup2=$CG commit=$(git -C "$top" rev-parse --short HEAD) java_opts=\"$JAVA_OPTS\" reps=$REPS secs=$SECS loadavg=\"$(cut -d' ' -f1-3 /proc/loadavg)\""
} | tee -a "$OUT"
for s in "${sections[@]}"; do "sec_$s"; done
