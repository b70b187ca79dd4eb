# Shared by run.sh and test.sh: find a JDK >= 25, install missing Debian packages.
# Sourced, not executed.

cgscope_die() {
    echo "cgscope: $*" >&2
    exit 1
}

# The feature release of a JDK home ("25" for 25.0.3), or nothing.
cgscope_jdk_major() {
    local release="$1/release" v
    [ -x "$1/bin/java" ] && [ -x "$1/bin/javac" ] || return 0
    if [ -r "$release" ]; then
        v=$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$release")
    else
        v=$("$1/bin/java" -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -1)
    fi
    echo "$v"
}

# Sets JAVA_HOME to a JDK >= 25: JAVA_HOME itself when new enough, else the newest under /usr/lib/jvm.
cgscope_find_jdk() {
    local best="" best_major=0 d m
    if [ -n "${JAVA_HOME:-}" ]; then
        m=$(cgscope_jdk_major "$JAVA_HOME")
        if [ -n "$m" ] && [ "$m" -ge 25 ]; then
            export JAVA_HOME
            return 0
        fi
    fi
    for d in /usr/lib/jvm/*; do
        [ -d "$d" ] && [ ! -L "$d" ] || continue
        m=$(cgscope_jdk_major "$d")
        if [ -n "$m" ] && [ "$m" -ge 25 ] && [ "$m" -gt "$best_major" ]; then
            best="$d"
            best_major="$m"
        fi
    done
    [ -n "$best" ] || cgscope_die "no JDK >= 25 found (JAVA_HOME is ${JAVA_HOME:-unset}, none under /usr/lib/jvm): install one, e.g. Temurin 25"
    export JAVA_HOME="$best"
}

# Installs the named Debian packages that are not installed yet (needs root).
cgscope_ensure_packages() {
    local missing=() p
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    [ "$(id -u)" -eq 0 ] || cgscope_die "missing Debian packages: ${missing[*]} (run as root, or: apt-get install ${missing[*]})"
    echo "cgscope: installing ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    # A silent mirror fails within a minute or two (apt's default: 120 s per stall, 3 retries).
    local apt_opts=(-o Acquire::http::Timeout=30 -o Acquire::Retries=2)
    apt-get "${apt_opts[@]}" update -qq >/dev/null || cgscope_die "apt-get update failed"
    apt-get "${apt_opts[@]}" install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
        || cgscope_die "apt-get install ${missing[*]} failed"
}

# What building cgscope needs: Maven, make (bpf/ and exporter/examples/ are built by Makefiles), and the BPF
# toolchain (clang, llvm-strip, bpftool, libbpf headers) and libbpf itself.
CGSCOPE_BUILD_PACKAGES=(maven make clang llvm libbpf-dev libbpf1 bpftool)

export MAVEN_OPTS="${MAVEN_OPTS:---sun-misc-unsafe-memory-access=allow}"
# Java encodes file names with the locale's charset; cgroup names are mostly UTF-8.
export LC_ALL="${LC_ALL:-C.UTF-8}"
