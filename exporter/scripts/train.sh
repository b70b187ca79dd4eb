#!/usr/bin/env bash
# Makes the AOT cache that exporter/target/cgscope (the launcher) starts with: a training run of the
# launcher itself (CGSCOPE_AOT_OUTPUT) under exporter/scripts/training/Training.java's workload, on
# the java the launcher finds; then exporter/target/cgscope.aot and cgscope.aot.id (which jar and which
# java it was made for) beside the jar. README, "Start-up and the AOT cache".
# Run as root (fanotify, BPF, cgroups: created under one parent of the cgroup2 root and removed
# afterwards), after a build. Takes 20-40 s. Usage: exporter/scripts/train.sh [TRAINING_OPTIONS]
# (e.g. --events 100000; see Training.java).
set -euo pipefail
top="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=common.sh
. "$top/exporter/scripts/common.sh"

cgscope_find_jdk
[ "$(id -u)" -eq 0 ] || cgscope_die "train.sh needs root (fanotify, BPF, cgroups)"
target="$top/exporter/target"
[ -x "$target/cgscope" ] && [ -f "$target/cgscope.jar" ] || cgscope_die "build first: mvn -DskipTests package"

work=$(mktemp -d /tmp/cgscope-train.XXXXXX)
trap 'rm -rf "$work"' EXIT
# The agent drops to nobody (--run-as), and the JVM writes the cache as it exits: as nobody.
chown 65534 "$work"
echo "cgscope: training the AOT cache with $JAVA_HOME (agent output: $work/agent.log)" >&2
if ! "$JAVA_HOME/bin/java" "$top/exporter/scripts/training/Training.java" --log "$work/agent.log" "$@" -- \
        env CGSCOPE_AOT_OUTPUT="$work/cgscope.aot" "$target/cgscope" \
        --web.listen-address='127.0.0.1:{port}' --cgroup.hierarchy=unified --run-as=nobody; then
    tail -n 20 "$work/agent.log" >&2
    cgscope_die "training failed"
fi
chown "$(id -u):$(id -g)" "$work/cgscope.aot"
mv "$work/cgscope.aot" "$work/cgscope.aot.id" "$target/"
echo "cgscope: $target/cgscope.aot ($(du -h "$target/cgscope.aot" | cut -f1)) for $(cat "$target/cgscope.aot.id")" >&2
