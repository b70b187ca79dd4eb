#!/usr/bin/env bash
# Builds cgscope's container image without a Docker daemon (README, "Container image"):
#   layer 1  a root file system from Debian packages: mmdebstrap --variant=extract of libbpf1 and what
#            it depends on (glibc, libelf, zlib, libgcc), the C.UTF-8 locale, /etc/passwd and group;
#            no shell, no package manager, no compiler: every executable is pruned
#   layer 2  a Java runtime made by jlink with the modules cgscope uses, at /opt/java
#   layer 3  the jar, at /opt/cgscope/cgscope.jar
#   layer 4  the AOT cache, /opt/cgscope/cgscope.aot, trained with that runtime and that jar in a
#            chroot of layers 1-3 (Training.java's workload), or given with --aot-cache
# Layers are tar files made with GNU tar (sorted, every mtime SOURCE_DATE_EPOCH, owner 0:0) and
# assembled into an OCI layout by umoci; the same inputs give the same layer digests. The
# entrypoint is java with the flags of exporter/src/main/dist/jvm.options. Outputs:
#   exporter/target/image/oci                        the OCI image layout (tag: the version)
#   exporter/target/image/cgscope-VERSION.oci.tar    the same as an OCI archive
#   exporter/target/image/digests                    the manifest's and each layer's digest
#   exporter/target/image/cgscope.aot                the AOT cache (an input of --aot-cache)
#   podman's image store (containers-storage)        ghcr.io/cgscope/cgscope:VERSION (--no-load: not)
# Needs root (chroot, mounts, cgroups, BPF for the training run) and Debian's package archive.
# Usage: exporter/scripts/image.sh [--aot-cache FILE] [--training-events N] [--out DIR] [--no-load]
#        [--keep-work]
# --aot-cache FILE: use this cache (from an earlier build with the same inputs) instead of training
# one: a training run measures a running program, so no two caches are the same bytes; with the same
# cache, the same inputs give the same image. --training-events N: the training's length (200,000).
# Env: SOURCE_DATE_EPOCH (default: the time of the last commit), SUITE (default bookworm), MIRROR
# (default: mmdebstrap's, deb.debian.org with the suite's updates and security), MIRROR_TIMEOUT (the
# root file system's step fails after it: 240 s), CONTAINERS_STORAGE_CONF (skopeo's: another image
# store to load into, as ContainerImageIT does).
set -euo pipefail
top="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=common.sh
. "$top/exporter/scripts/common.sh"

REPOSITORY=ghcr.io/cgscope/cgscope
SOURCE_URL=https://github.com/cgscope/cgscope
# jdeps (--print-module-deps) also names java.desktop (SnakeYAML's bean introspection, which the
# web config's plain maps never reach) and java.compiler (annotation types of Vert.x and Error
# Prone that nothing reads at run time); without them the runtime is 60 MB instead of 80. The image
# check below and the image test run the agent on this runtime (TLS and basic auth included).
MODULES=java.base,java.logging,java.management,java.naming,jdk.jfr,jdk.management,jdk.unsupported
# What the agent links besides glibc: libbpf (the BPF programs); its dependencies come along.
PACKAGES=libc6,libbpf1,libc-bin
SUITE=${SUITE:-bookworm}
MIRROR=${MIRROR:-}
MIRROR_TIMEOUT=${MIRROR_TIMEOUT:-240}

aot_input="" out="$top/exporter/target/image" load=1 keep=0 training=()
while [ $# -gt 0 ]; do
    case "$1" in
        --aot-cache) aot_input=$(readlink -f "$2"); shift 2 ;;
        --training-events) training=(--events "$2"); shift 2 ;;
        --out) out=$(readlink -m "$2"); shift 2 ;;
        --no-load) load=0; shift ;;
        --keep-work) keep=1; shift ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "image.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
done
[ -z "$aot_input" ] || [ -s "$aot_input" ] || cgscope_die "--aot-cache: no such file"
[ "$(id -u)" -eq 0 ] || cgscope_die "image.sh needs root (chroot and mounts for the training run)"

cgscope_ensure_packages "${CGSCOPE_BUILD_PACKAGES[@]}" mmdebstrap umoci skopeo podman
cgscope_find_jdk
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git -C "$top" log -1 --format=%ct 2>/dev/null || echo 0)}
created=$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%dT%H:%M:%SZ)

jar="$top/exporter/target/cgscope.jar"
if [ ! -f "$jar" ] || [ -n "$(find "$top/pom.xml" "$top/exporter/pom.xml" "$top/exporter/src/main" \
        "$top/bpf/pom.xml" "$top/bpf/Makefile" "$top/bpf/src" -newer "$jar" -print -quit)" ]; then
    echo "cgscope: building $jar" >&2
    (cd "$top" && mvn -q -B -DskipTests package) || cgscope_die "build failed"
fi
version=$(sed -n 's/^version=//p' "$top/exporter/target/classes/io/cgscope/build.properties")
revision=$(git -C "$top" rev-parse HEAD 2>/dev/null || echo unknown)
image="$REPOSITORY:$version"

# The JVM flags, one place: jvm.options, read as java reads an argument file (# to the end of the
# line is a comment; no quotes).
mapfile -t jvm_flags < <(sed 's/#.*//' "$top/exporter/src/main/dist/jvm.options" | tr -s ' \t' '\n\n' | grep -v '^$')
grep -q "[\"']" <<<"${jvm_flags[*]}" && cgscope_die "jvm.options: quotes are not supported"
entrypoint=(/opt/java/bin/java "${jvm_flags[@]}" -XX:AOTCache=/opt/cgscope/cgscope.aot -jar /opt/cgscope/cgscope.jar)
# The DaemonSet's flags: the host's cgroup2 hierarchy is mounted at /host/cgroup, the runtimes' bundles and
# kubelet's log directories under /host; the drop to nobody.
cmd=(--web.listen-address=:9486 --cgroup.root=/host/cgroup --workload.runtime-dirs=/host/run/containerd/io.containerd.runtime.v2.task,/host/run/containers/storage/overlay-containers --workload.pod-logs-dir=/host/var/log/pods --workload.container-logs-dir=/host/var/log/containers --run-as=65534)

work=$(mktemp -d /tmp/cgscope-image.XXXXXX)
# --one-file-system: should a step die with something still mounted below $work, rm stops there.
cleanup() { [ "$keep" = 1 ] && echo "cgscope: work directory kept: $work" >&2 || rm -rf --one-file-system "$work"; }
trap cleanup EXIT
say() { echo "cgscope: image: $* (at ${SECONDS} s)" >&2; }

# --- layer 1: the Debian root file system -------------------------------------------------------
say "root file system from Debian $SUITE ($PACKAGES and their dependencies)"
base="$work/base"
# Debian's mirror is the one part of the build that may hang on a machine whose network is down or
# filtered: apt gives up on a server that accepts and stays silent after 20 s and one retry (its
# defaults: 120 s, three retries, for each file), and the whole step after MIRROR_TIMEOUT seconds.
# Measured against a silent server: mmdebstrap fails after 83 s; an unreachable one: at once.
mirror_status=0
timeout --kill-after=10 "$MIRROR_TIMEOUT" mmdebstrap --quiet --mode=root --variant=extract --include="$PACKAGES" \
    --aptopt='Acquire::http::Timeout "20"' --aptopt='Acquire::https::Timeout "20"' --aptopt='Acquire::Retries "1"' \
    --extract-hook='mkdir -p "$1/var/lib/dpkg/status.d" && for deb in "$1"/var/cache/apt/archives/*.deb; do p=$(dpkg-deb -f "$deb" Package); dpkg-deb -f "$deb" Package Version Architecture Source > "$1/var/lib/dpkg/status.d/$p"; done' \
    "$SUITE" "$base" ${MIRROR:+"$MIRROR"} </dev/null >&2 || mirror_status=$?
case $mirror_status in
    0) ;;
    124|137) cgscope_die "mmdebstrap did not finish within $MIRROR_TIMEOUT s: is Debian's mirror (${MIRROR:-deb.debian.org}) reachable?" ;;
    *) cgscope_die "mmdebstrap failed (status $mirror_status, output above): it needs Debian's mirror (${MIRROR:-deb.debian.org})" ;;
esac
# Keep the libraries, glibc's C.UTF-8 locale, the copyright files and the package list (one file per
# package in /var/lib/dpkg/status.d, as distroless images keep it, for scanners); drop every
# executable (libc-bin's tools, ldconfig), the device nodes, dpkg's, apt's and the host's files.
rm -rf "${base:?}"/dev/* "$base"/etc/apt "$base"/etc/dpkg "$base"/etc/resolv.conf "$base"/etc/hostname \
    "$base"/etc/fstab "$base"/var/cache/* "$base"/var/lib/apt "$base"/var/log/* "$base"/sbin/* \
    "$base"/var/lib/dpkg/{arch,updates,status,triggers,alternatives,info,available,lock*,diversions,statoverride} \
    "$base"/usr/share/man "$base"/usr/share/locale "$base"/usr/share/lintian "$base"/usr/share/info \
    "$base"/usr/share/i18n "$base"/usr/lib/x86_64-linux-gnu/gconv "$base"/usr/libexec "${base:?}"/usr/bin/* \
    "$base"/usr/sbin/* "$base"/usr/lib/x86_64-linux-gnu/audit "$base"/usr/share/bug
find "$base/usr/share/doc" -type f ! -name copyright -delete
find "$base/usr/lib/locale" -mindepth 1 -maxdepth 1 ! -name C.utf8 -exec rm -rf {} +
printf 'root:x:0:0:root:/root:/nonexistent\nnobody:x:65534:65534:nobody:/nonexistent:/nonexistent\n' >"$base/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$base/etc/group"
printf 'passwd: files\ngroup: files\nhosts: files\n' >"$base/etc/nsswitch.conf"
ldconfig -r "$base" && rm -rf "$base/var/cache/ldconfig"
mkdir -p "$base"/{proc,sys,dev,tmp,root,host/cgroup,opt}
chmod 1777 "$base/tmp"
chmod 0700 "$base/root"

# --- layer 2: the Java runtime -------------------------------------------------------------------
say "Java runtime by jlink: $MODULES"
java_layer="$work/java"
"$JAVA_HOME/bin/jlink" --add-modules "$MODULES" --strip-debug --no-header-files --no-man-pages \
    --output "$java_layer/opt/java" || cgscope_die "jlink failed"

# --- layer 3: the jar ----------------------------------------------------------------------------
app="$work/app"
install -D -m 0644 "$jar" "$app/opt/cgscope/cgscope.jar"

# Every file of every layer gets the same mtime before training: the jar's is part of what the AOT
# cache records, and the image's files carry this one.
for d in "$base" "$java_layer" "$app"; do find "$d" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +; done

# A command line that runs the rest of it in a chroot of the layers (an overlay: writes land in
# $work/upper, the layers stay as they are) with the mounts a container would have: /proc, /sys,
# /dev, the host's cgroup2 hierarchy at /host/cgroup. The mounts live in a private mount namespace
# and vanish with the command, which is exec'd: the PID that Training.java signals is java's.
cgroup2=$(awk '$9 == "cgroup2" && $4 == "/" {print $5; exit}' /proc/self/mountinfo)
[ -n "$cgroup2" ] || cgscope_die "no cgroup2 hierarchy mounted (the training run needs one)"
aot_layer="$work/aot"
mkdir -p "$aot_layer/opt/cgscope" "$work/upper" "$work/ovl" "$work/root"
in_chroot=(unshare --mount --propagation private -- sh -c '
    set -e
    w=$1; cg=$2; shift 2
    rm -rf "$w/upper" "$w/ovl"; mkdir "$w/upper" "$w/ovl"
    mount -t overlay overlay -o "lowerdir=$w/aot:$w/app:$w/java:$w/base,upperdir=$w/upper,workdir=$w/ovl" "$w/root"
    mount -t proc proc "$w/root/proc"
    mount --rbind /sys "$w/root/sys"
    mount --rbind /dev "$w/root/dev"
    mount --bind "$cg" "$w/root/host/cgroup"
    exec chroot "$w/root" "$@"' in-chroot "$work" "$cgroup2")

say "check: the runtime runs the jar"
"${in_chroot[@]}" /opt/java/bin/java -jar /opt/cgscope/cgscope.jar --version >&2 \
    || cgscope_die "the jlinked runtime does not run the jar"

# --- layer 4: the AOT cache ----------------------------------------------------------------------
if [ -n "$aot_input" ]; then
    say "AOT cache given: $aot_input"
    cp "$aot_input" "$work/cgscope.aot"
else
    say "training the AOT cache on the image's runtime and jar (about a minute)"
    # The entrypoint's flags, writing the cache as the JVM exits; the agent drops to nobody first,
    # so the cache goes to /tmp (1777).
    if ! "$JAVA_HOME/bin/java" "$top/exporter/scripts/training/Training.java" --cgroup2 "$cgroup2" \
            --log "$work/training.log" "${training[@]}" -- "${in_chroot[@]}" \
            /opt/java/bin/java "${jvm_flags[@]}" -XX:AOTCacheOutput=/tmp/cgscope.aot -jar /opt/cgscope/cgscope.jar \
            --web.listen-address='127.0.0.1:{port}' --cgroup.root=/host/cgroup --run-as=65534 >&2; then
        tail -n 20 "$work/training.log" >&2
        cgscope_die "the training run failed (log: $work/training.log with --keep-work)"
    fi
    cp "$work/upper/tmp/cgscope.aot" "$work/cgscope.aot"
fi
install -m 0644 "$work/cgscope.aot" "$aot_layer/opt/cgscope/cgscope.aot"
find "$aot_layer" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
say "check: the entrypoint maps the AOT cache (-XX:AOTMode=on refuses to start otherwise)"
"${in_chroot[@]}" "${entrypoint[@]:0:${#entrypoint[@]}-2}" -XX:AOTMode=on -jar /opt/cgscope/cgscope.jar --version \
    >/dev/null 2>"$work/aot-check.log" || { cat "$work/aot-check.log" >&2; cgscope_die "the image's JVM refuses its AOT cache"; }

# --- assembly ------------------------------------------------------------------------------------
# One tar per layer: sorted names, every mtime SOURCE_DATE_EPOCH, owner 0:0 by number, no atime,
# ctime, ACLs or xattrs: the same files give the same bytes, so umoci gives the same digests.
layer_tar() {  # layer_tar DIR TAR
    (cd "$1" && find . -mindepth 1 -printf '%P\n' | LC_ALL=C sort >"$2.list")
    tar --create --file="$2" --directory="$1" --no-recursion --verbatim-files-from --files-from="$2.list" \
        --format=posix --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime \
        --mtime="@$SOURCE_DATE_EPOCH" --owner=0 --group=0 --numeric-owner --no-acls --no-xattrs --no-selinux
}
say "assembling with umoci"
oci="$work/oci"
umoci init --layout "$oci"
umoci new --image "$oci:$version"
add_layer() {  # add_layer DIR WHAT
    layer_tar "$1" "$work/layer.tar"
    umoci raw add-layer --image "$oci:$version" --history.created="$created" --history.created_by="image.sh: $2" \
        --history.comment="$2" "$work/layer.tar"
}
add_layer "$base" "Debian $SUITE: $(cd "$base/var/lib/dpkg/status.d" && LC_ALL=C ls | tr '\n' ' ' | sed 's/ $//')"
add_layer "$java_layer" "jlink: $MODULES"
add_layer "$app" "cgscope.jar $version"
add_layer "$aot_layer" "cgscope.aot"
config_args=(--created="$created" --author="cgscope" --os=linux --architecture=amd64 --config.user=0:0
    --config.workingdir=/ --config.stopsignal=SIGTERM --config.exposedports=9486/tcp
    --config.env=PATH=/opt/java/bin:/usr/bin:/bin --config.env=JAVA_HOME=/opt/java --config.env=LC_ALL=C.UTF-8
    "--config.label=org.opencontainers.image.source=$SOURCE_URL"
    "--config.label=org.opencontainers.image.version=$version"
    "--config.label=org.opencontainers.image.revision=$revision"
    --config.label=org.opencontainers.image.title=cgscope
    "--config.label=org.opencontainers.image.description=Names every cgroup and measures it"
    --config.label=org.opencontainers.image.licenses=Apache-2.0
    "--config.label=org.opencontainers.image.created=$created"
    "--config.label=org.opencontainers.image.base.name=debian:$SUITE"
    --history.created="$created" --history.created_by="image.sh: entrypoint, cmd, labels")
for a in "${entrypoint[@]}"; do config_args+=(--config.entrypoint="$a"); done
for a in "${cmd[@]}"; do config_args+=(--config.cmd="$a"); done
umoci config --image "$oci:$version" "${config_args[@]}"
umoci gc --layout "$oci"

rm -rf "$out" && mkdir -p "$out"
cp -a "$oci" "$out/oci"
cp "$work/cgscope.aot" "$out/cgscope.aot"
archive="$out/cgscope-$version.oci.tar"
(cd "$oci" && find . -mindepth 1 -printf '%P\n' | LC_ALL=C sort >"$work/archive.list")
tar --create --file="$archive" --directory="$oci" --no-recursion --files-from="$work/archive.list" \
    --format=posix --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime \
    --mtime="@$SOURCE_DATE_EPOCH" --owner=0 --group=0 --numeric-owner
# index.json names the manifest; the manifest lists the config's digest, then each layer's, in order.
manifest=$(grep -o '"digest":"sha256:[0-9a-f]*"' "$oci/index.json" | head -1 | cut -d'"' -f4)
{
    echo "image $image"
    echo "manifest $manifest"
    grep -o '"digest":"sha256:[0-9a-f]*"' "$oci/blobs/sha256/${manifest#sha256:}" | cut -d'"' -f4 \
        | sed '1s/^/config /; 2,$s/^/layer /'
} >"$out/digests"

if [ "$load" = 1 ]; then
    say "loading into podman's image store as $image"
    skopeo copy --quiet "oci-archive:$archive" "containers-storage:$image" >&2 || cgscope_die "skopeo copy to containers-storage failed"
fi
say "$image: $(du -h "$archive" | cut -f1) archive ($archive), $(du -sh --apparent-size "$base" "$java_layer" "$app" "$aot_layer" | cut -f1 | tr '\n' '+' | sed 's/+$//') unpacked (base+java+jar+aot)"
cat "$out/digests" >&2
