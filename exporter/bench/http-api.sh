#!/usr/bin/env bash
# HTTP API benchmark (not a test): /cgroup/<id> for random ids among N indexed cgroups against a
# constant route with a body of the same size, on the same server, in the same run.
#
#   sudo exporter/bench/http-api.sh            # N=10000, 2 rounds of wrk -t2 -c64 -d10s per route
#   N=10000 ROUNDS=3 DURATION=10s exporter/bench/http-api.sh
#
# Needs root (creates cgroups), wrk, a built exporter/target/cgscope.jar and a JDK >= 25.
# The constant route is not cgscope's: bench/java/io/cgscope/bench/HttpBench.java runs the agent as the
# jar does and adds GET /bench/constant, the body of /cgroup/<id> sent as a constant.
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
pid=""

cleanup() {
  if [ -n "$pid" ]; then kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
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

mkdir "$work/cls"
"$jdk/bin/javac" -d "$work/cls" -cp "$jar" "$bench/java/io/cgscope/bench/HttpBench.java"
"$java" -XX:+UseShenandoahGC -Xmx256m -cp "$jar:$work/cls" io.cgscope.bench.HttpBench "$constant_id" \
  --web.listen-address=127.0.0.1:0 --bpf.programs= --cgroup.hierarchy=unified 2> "$work/log" &
pid=$!
for _ in $(seq 100); do
  port="$(grep -o 'listening on [^,]*' "$work/log" | grep -o '[0-9]*$' || true)"
  [ -n "$port" ] && grep -q '^bench: /bench/constant' "$work/log" && break
  kill -0 "$pid" 2>/dev/null || { cat "$work/log" >&2; exit 1; }
  sleep 0.1
done
[ -n "$port" ] && grep -q '^bench: /bench/constant' "$work/log" \
  || { echo "cgscope did not start" >&2; cat "$work/log" >&2; exit 1; }
url="http://127.0.0.1:$port"
const_size="$(curl -s "$url/bench/constant" | wc -c)"
sample_size="$(curl -s "$url/cgroup/$(sed -n "$((n / 2))p" "$work/ids")" | wc -c)"
echo "bodies: constant $const_size bytes, a random id $sample_size bytes" >&2

run() { # mode -> RESULT line
  wrk -t"$threads" -c"$connections" -d"$1" --latency -s "$bench/cgroup-ids.lua" "$url" -- "$work/ids" "$2" | grep '^RESULT'
}
echo "warm-up" >&2
run 5s constant > /dev/null
run 5s ids > /dev/null

field() { sed -n "s/.* $1=\([0-9.]*\).*/\1/p"; }
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
