#!/usr/bin/env bash
# Builds cgscope if needed, trains its AOT cache once per build, and runs it in the foreground through
# the launcher (exporter/target/cgscope) with the given flags (defaults otherwise).
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

# The AOT cache, once per build (README, "Start-up and the AOT cache"); CGSCOPE_TRAIN=0 skips it.
aot="$top/exporter/target/cgscope.aot"
if [ "${CGSCOPE_TRAIN:-1}" != 0 ] && { [ ! -f "$aot" ] || [ "$jar" -nt "$aot" ]; }; then
    "$top/exporter/scripts/train.sh" || echo "cgscope: training failed: running without the AOT cache" >&2
fi

# The launcher: the JVM flags of exporter/src/main/dist/jvm.options (CGSCOPE_JAVA_OPTS replaces
# them), and the AOT cache when it was made for this jar and this java.
exec "$top/exporter/target/cgscope" "$@"
