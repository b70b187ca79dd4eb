#!/usr/bin/env bash
# HTTP API benchmark (not a test): /cgroup/<id> for random ids among N indexed cgroups.
#
# Single jar: against a constant route with a body of the same size, on the same server, in the
# same run:
#   sudo exporter/bench/http-api.sh            # N=10000, 2 rounds of wrk -t2 -c64 -d10s per route
#   N=10000 ROUNDS=3 DURATION=10s exporter/bench/http-api.sh
#
# Paired, before/after: BEFORE_JAR names a second jar (e.g. main's); both run at once on the same
# cgroups, each round measures /cgroup/<id> on both, in alternating order (before-after, then
# after-before) so drift in the machine's load falls on both alike, and prints the ratio
# after/before of requests/s and p99 per round and over all rounds, and of each server's own CPU
# time per request (from /proc/<pid>/stat: far less sensitive to other load on the machine than
# requests/s, which varied by a factor of two between rounds on a machine at load 20):
#   BEFORE_JAR=/tmp/before/exporter/target/cgscope.jar ROUNDS=6 exporter/bench/http-api.sh
#
# Needs root (creates cgroups), wrk, a built exporter/target/cgscope.jar (CGSCOPE_JAR) and a JDK >= 25.
# The constant route is not cgscope's: bench/java/io/cgscope/bench/HttpBench.java runs the agent as the
# jar does and adds GET /bench/constant, the body of /cgroup/<id> sent as a constant. Paired runs
# start both jars as they are (java -jar): they measure /cgroup/<id> alone.
set -euo pipefail
top="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
bench="$top/exporter/bench"
jar="${CGSCOPE_JAR:-$top/exporter/target/cgscope.jar}"
jdk="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}"
java="$jdk/bin/java"
n="${N:-10000}"
rounds="${ROUNDS:-2}"
duration="${DURATION:-10s}"
threads="${THREADS:-2}"
connections="${CONNECTIONS:-64}"

mount="$(awk '{ for (i = 1; i <= NF; i++) if ($i == "-") { if ($(i+1) == "cgroup2" && $4 == "/") print $5; break } }' /proc/self/mountinfo | head -1)"
[ -n "$mount" ] || { echo "no cgroup2 hierarchy mounted" >&2; exit 1; }
parent="$mount/cgscope-bench-$$"
work="$(mktemp -d)"
pids=()

cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  if [ -d "$parent" ]; then find "$parent" -mindepth 1 -maxdepth 1 -type d -print0 | xargs -0 -r rmdir; rmdir "$parent"; fi
  rm -rf "$work"
}
trap cleanup EXIT

echo "creating $n cgroups under $parent" >&2
mkdir "$parent"
# Same name length for all, so every /cgroup/<id> body has nearly the same size.
seq -f "$parent/svc-%06g.service" 1 "$n" | xargs mkdir
stat -c %i "$parent"/svc-*.service > "$work/ids"
constant_id="$(head -1 "$work/ids")"

start() { # jar log [constant]: starts it, sets started_port, appends the JVM's pid to pids (no subshell: cleanup needs them)
  local ready='listening on'
  if [ -n "${3:-}" ]; then # through HttpBench, with GET /bench/constant
    mkdir -p "$work/cls"
    "$jdk/bin/javac" -d "$work/cls" -cp "$1" "$bench/java/io/cgscope/bench/HttpBench.java"
    "$java" -XX:+UseShenandoahGC -Xmx256m -cp "$1:$work/cls" io.cgscope.bench.HttpBench "$constant_id" \
      --web.listen-address=127.0.0.1:0 --bpf.programs= --cgroup.hierarchy=unified 2> "$2" &
    ready='^bench: /bench/constant'
  else
    "$java" -XX:+UseShenandoahGC -Xmx256m -jar "$1" \
      --web.listen-address=127.0.0.1:0 --bpf.programs= --cgroup.hierarchy=unified 2> "$2" &
  fi
  pids+=($!)
  local p
  for _ in $(seq 100); do
    p="$(grep -o 'listening on [^,]*' "$2" | grep -o '[0-9]*$' || true)"
    [ -n "$p" ] && grep -q "$ready" "$2" && { started_port="$p"; return; }
    kill -0 "${pids[-1]}" 2>/dev/null || { cat "$2" >&2; exit 1; }
    sleep 0.1
  done
  echo "cgscope ($1) did not start" >&2; cat "$2" >&2; exit 1
}
if [ -z "${BEFORE_JAR:-}" ]; then start "$jar" "$work/log" constant; else start "$jar" "$work/log"; fi
url="http://127.0.0.1:$started_port"
if [ -n "${BEFORE_JAR:-}" ]; then
  [ -f "$BEFORE_JAR" ] || { echo "BEFORE_JAR=$BEFORE_JAR: no such jar" >&2; exit 1; }
  start "$BEFORE_JAR" "$work/before.log"
  before_url="http://127.0.0.1:$started_port"
fi
sample_size="$(curl -s "$url/cgroup/$(sed -n "$((n / 2))p" "$work/ids")" | wc -c)"
if [ -z "${BEFORE_JAR:-}" ]; then
  const_size="$(curl -s "$url/bench/constant" | wc -c)"
  echo "bodies: constant $const_size bytes, a random id $sample_size bytes" >&2
else
  echo "bodies: a random id $sample_size bytes (after), $(curl -s "$before_url/cgroup/$(sed -n "$((n / 2))p" "$work/ids")" | wc -c) (before)" >&2
fi

run() { # duration mode [url] -> RESULT line
  wrk -t"$threads" -c"$connections" -d"$1" --latency -s "$bench/cgroup-ids.lua" "${3:-$url}" -- "$work/ids" "$2" | grep '^RESULT'
}
field() { sed -n "s/.* $1=\([0-9.]*\).*/\1/p"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; } # the JVM's user + system CPU, clock ticks
measure() { # duration url pid -> RESULT line plus cpu_us_per_req: the server's own CPU per request
  local t0 t1 line
  t0="$(ticks "$3")"; line="$(run "$1" ids "$2")"; t1="$(ticks "$3")"
  echo "$line cpu_us_per_req=$(awk -v t="$((t1 - t0))" -v hz="$(getconf CLK_TCK)" -v n="$(echo "$line" | field requests)" \
    'BEGIN { printf "%.1f", t * 1e6 / hz / n }')"
}

if [ -n "${BEFORE_JAR:-}" ]; then
  echo "warm-up" >&2
  run 5s ids "$before_url" > /dev/null
  run 5s ids > /dev/null
  echo "# $(date -u +%Y-%m-%dT%H:%MZ) $(uname -r) $(nproc) CPUs; wrk -t$threads -c$connections -d$duration; $n cgroups; /cgroup/<id>, after = $jar, before = $BEFORE_JAR"
  sum_a=0 sum_b=0 ratios=() cpu=()
  for r in $(seq "$rounds"); do
    if [ $((r % 2)) -eq 1 ]; then b="$(measure "$duration" "$before_url" "${pids[1]}")"; a="$(measure "$duration" "$url" "${pids[0]}")"
    else a="$(measure "$duration" "$url" "${pids[0]}")"; b="$(measure "$duration" "$before_url" "${pids[1]}")"; fi
    echo "round $r before: $b"
    echo "round $r after:  $a"
    rr="$(ratio "$(echo "$a" | field rps)" "$(echo "$b" | field rps)")"
    rp="$(ratio "$(echo "$a" | field p99_us)" "$(echo "$b" | field p99_us)")"
    rc="$(ratio "$(echo "$a" | field cpu_us_per_req)" "$(echo "$b" | field cpu_us_per_req)")"
    echo "round $r ratio after/before: requests/s $rr (goal >= 0.95), p99 $rp, server CPU per request $rc (goal <= 1.05)"
    cpu+=("$rc")
    sum_a="$(awk -v s="$sum_a" -v x="$(echo "$a" | field requests)" 'BEGIN { print s + x }')"
    sum_b="$(awk -v s="$sum_b" -v x="$(echo "$b" | field requests)" 'BEGIN { print s + x }')"
    ratios+=("$rr")
  done
  printf '%s\n' "${ratios[@]}" | sort -n | awk '{ v[NR] = $1; s += $1 } END { printf "per-round requests/s ratios: mean %.3f, median %.3f, min %.3f, max %.3f\n", s / NR, (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2), v[1], v[NR] }'
  printf '%s\n' "${cpu[@]}" | sort -n | awk '{ v[NR] = $1; s += $1 } END { printf "per-round server CPU per request ratios: mean %.3f, median %.3f, min %.3f, max %.3f\n", s / NR, (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2), v[1], v[NR] }'
  echo "all rounds: requests after/before = $(ratio "$sum_a" "$sum_b") (goal >= 0.95)"
  exit 0
fi

echo "warm-up" >&2
run 5s constant > /dev/null
run 5s ids > /dev/null

echo "# $(date -u +%Y-%m-%dT%H:%MZ) $(uname -r) $(nproc) CPUs; wrk -t$threads -c$connections -d$duration; $n cgroups"
ratio_rps=() ratio_p99=()
for r in $(seq "$rounds"); do
  c="$(run "$duration" constant)"; i="$(run "$duration" ids)"
  echo "round $r constant: $c"
  echo "round $r ids:      $i"
  rr="$(awk -v a="$(echo "$i" | field rps)" -v b="$(echo "$c" | field rps)" 'BEGIN { printf "%.3f", a / b }')"
  rp="$(awk -v a="$(echo "$i" | field p99_us)" -v b="$(echo "$c" | field p99_us)" 'BEGIN { printf "%.3f", a / b }')"
  echo "round $r ratio: requests/s ids/constant = $rr (goal >= 0.8), p99 ids/constant = $rp (goal <= 1.25)"
  ratio_rps+=("$rr"); ratio_p99+=("$rp")
done
printf '%s\n' "${ratio_rps[@]}" | awk '{ s += $1 } END { printf "mean requests/s ratio: %.3f\n", s / NR }'
printf '%s\n' "${ratio_p99[@]}" | awk '{ s += $1 } END { printf "mean p99 ratio: %.3f\n", s / NR }'
