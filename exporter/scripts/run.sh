#!/usr/bin/env bash
# Builds cgscope if needed and runs it in the foreground with the given flags (defaults otherwise).
# Installs missing Debian packages first (as root). Usage: exporter/scripts/run.sh [flags]
set -euo pipefail
top="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=common.sh
. "$top/exporter/scripts/common.sh"

cgscope_ensure_packages "${CGSCOPE_BUILD_PACKAGES[@]}"
cgscope_find_jdk

jar="$top/exporter/target/cgscope.jar"
# Rebuild when any source, build file or script is newer than the jar.
if [ ! -f "$jar" ] || [ -n "$(find "$top/pom.xml" "$top/exporter/pom.xml" "$top/exporter/src/main" \
        "$top/bpf/pom.xml" "$top/bpf/Makefile" "$top/bpf/src" -newer "$jar" -print -quit)" ]; then
    echo "cgscope: building $jar" >&2
    (cd "$top" && mvn -q -B -DskipTests package) || cgscope_die "build failed"
fi

# The JVM flags of the deployment files (exporter/deploy): see README, "JVM and GC".
# shellcheck disable=SC2086
exec "$JAVA_HOME/bin/java" ${CGSCOPE_JAVA_OPTS:--XX:+UseShenandoahGC -Xms64m -Xmx384m -XX:SoftMaxHeapSize=192m -XX:+UnlockExperimentalVMOptions -XX:ShenandoahControlIntervalMin=50 -XX:ShenandoahControlIntervalMax=100 -XX:-ShenandoahPacing -XX:+ExitOnOutOfMemoryError} \
    -jar "$jar" "$@"
