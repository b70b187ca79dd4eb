#!/usr/bin/env bash
# The kernel matrix: boots Debian 12's kernels under QEMU with a guest script (README, "Kernel matrix").
# Fetches the kernel package with apt-get download (never installs it: the host's /boot and
# /lib/modules stay as they are), builds a busybox initramfs, and runs QEMU. Run with --help.
set -euo pipefail
top="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
scripts="$top/exporter/scripts"

usage() {
    cat <<'EOF'
Usage: exporter/scripts/kernel-matrix.sh COMMAND [ARGS]

Boots one of Debian 12's kernels under QEMU with the host's / shared read-only, runs one
script in the guest and powers off. Needs root, qemu-system-x86, busybox-static and apt.

Commands:
  list                      the newest package of each kernel series (6.1, 6.12)
  prepare KERNEL            fetch and unpack the kernel, build the initramfs; prints
                            package=, version=, kernel=, initrd=, accel= lines
  boot KERNEL --script FILE --results DIR [OPTIONS]
                            boot KERNEL and run FILE in it (QEMU is exec'd: its PID is this
                            process's); the script's output and the kernel's go to stdout
  matrix [KERNEL...]        run the matrix's agent checks (the script KernelMatrixIT runs) on
                            each KERNEL (default: 6.1 6.12) and print where the results are;
                            needs the built jar and test classes (mvn -DskipTests package)

KERNEL is a series (6.1, 6.12: the newest package available from apt) or a package name
(linux-image-6.1.0-57-amd64).

Boot options:
  --script FILE             guest script (a host path: the guest reads it through the shared /);
                            it runs by its #! line as root in the guest's /, with CGSCOPE_RESULTS=/results
  --results DIR             host directory shared read-write at /results; the runner writes
                            guest-exit-status there when the script ends
  --share HOSTDIR:GUESTDIR[:rw]  one more 9p share (read-only unless :rw); repeatable
  --env NAME=VALUE          one variable of the script's environment (no spaces); repeatable
  --memory SIZE             guest memory (default 2G)
  --cpus N                  guest CPUs (default 2)
  --timeout SEC             the guest powers itself off after SEC seconds (default 600)
  --accel auto|tcg|kvm      auto (default): KVM only when a probe boot shows it works, else TCG
  --append ARGS             more kernel command line
  --pidfile FILE            QEMU writes its PID there

Guest layout: / is the host's root (read-only, with an in-memory overlay for writes); its own
/proc, /sys, /dev, /tmp, /run; a pure cgroup2 hierarchy at /sys/fs/cgroup with every controller
enabled in the root's cgroup.subtree_control; bpffs, tracefs, debugfs; loopback up; no network.

Cache: $CGSCOPE_KERNEL_CACHE, default /var/cache/cgscope/kernels (as root), one directory per
package version; delete it freely.
EOF
}

die() {
    echo "kernel-matrix: $*" >&2
    exit 1
}
usage_error() {
    echo "kernel-matrix: $*" >&2
    exit 2
}

cache_root() {
    if [ -n "${CGSCOPE_KERNEL_CACHE:-}" ]; then
        echo "$CGSCOPE_KERNEL_CACHE"
    elif [ "$(id -u)" -eq 0 ]; then
        echo /var/cache/cgscope/kernels
    else
        echo "${XDG_CACHE_HOME:-$HOME/.cache}/cgscope/kernels"
    fi
}

# The package for KERNEL: a series picks the newest name apt knows (versions sort as in the name).
kernel_package() {
    local pattern
    case "$1" in
        6.1) pattern='^linux-image-6\.1\.0-[0-9]+-amd64$' ;;
        6.12) pattern='^linux-image-6\.12\.[0-9]+\+deb12-amd64$' ;;
        linux-image-*) echo "$1"; return 0 ;;
        *) usage_error "unknown kernel '$1': use 6.1, 6.12 or a linux-image-* package name" ;;
    esac
    local pkg
    pkg=$(apt-cache search --names-only "$pattern" | awk '{print $1}' | sort -V | tail -1)
    if [ -z "$pkg" ]; then
        apt-get update -qq >/dev/null 2>&1 || true
        pkg=$(apt-cache search --names-only "$pattern" | awk '{print $1}' | sort -V | tail -1)
    fi
    [ -n "$pkg" ] || die "apt knows no package matching $pattern (is Debian 12's main/security in sources.list?)"
    echo "$pkg"
}

package_version() {
    apt-cache policy "$1" | awk '/Candidate:/ {print $2; exit}'
}

# Prints the names of the modules KO (without suffix) depends on, from its .modinfo section.
module_depends() {
    busybox strings -a "$1" | sed -n 's/^depends=//p' | head -1 | tr ',' ' '
}

# Unpacks the package into $dir: boot/vmlinuz, and in modules/ the modules the guest needs with
# their dependencies, decompressed (6.12 ships .ko.xz; busybox insmod takes plain .ko) and listed
# in load order in modules/order. Built in a temporary directory and renamed: all or nothing.
unpack_kernel() {
    local pkg="$1" version="$2" dir="$3" tmp deb kver
    tmp=$(mktemp -d "$dir.tmp.XXXXXX")
    # apt-get download writes into the current directory; _apt may not read it (a warning only).
    (cd "$tmp" && apt-get download -q "$pkg=$version" >/dev/null 2>&1) \
        || { apt-get update -qq >/dev/null 2>&1 || true
             (cd "$tmp" && apt-get download -q "$pkg=$version" >/dev/null) ; } \
        || { rm -rf "$tmp"; die "apt-get download $pkg=$version failed"; }
    deb=$(ls "$tmp"/*.deb)
    mkdir "$tmp/x"
    dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$tmp/x" --wildcards './boot/vmlinuz-*' './boot/config-*' './lib/modules/*' \
        || { rm -rf "$tmp"; die "cannot unpack $deb"; }
    rm -f "$deb"
    kver=$(ls "$tmp/x/lib/modules")
    local mods="$tmp/x/lib/modules/$kver"
    mkdir -p "$tmp/out/boot" "$tmp/out/modules"
    cp "$tmp/x/boot/vmlinuz-$kver" "$tmp/out/boot/vmlinuz"
    cp "$tmp/x/boot/config-$kver" "$tmp/out/boot/config"
    echo "$kver" > "$tmp/out/release"

    # name (dashes as underscores) -> file
    declare -A file_of=()
    local f n
    while IFS= read -r f; do
        n=$(basename "$f"); n=${n%%.ko*}; n=${n//-/_}
        file_of[$n]="$f"
    done < <(find "$mods/kernel" -name '*.ko*')
    local builtin
    builtin=$(sed 's|.*/||; s|\.ko.*||; s|-|_|g' "$mods/modules.builtin")

    # Depth-first: a module goes into the order after all it depends on.
    declare -A done_=()
    local order=()
    add_module() {
        local name="$1" src plain dep
        [ -z "${done_[$name]:-}" ] || return 0
        done_[$name]=1
        if [ -z "${file_of[$name]:-}" ]; then
            grep -qx "$name" <<<"$builtin" && return 0
            die "$pkg has no module $name, built in or loadable"
        fi
        src="${file_of[$name]}"
        plain="$tmp/out/modules/$name.ko"
        case "$src" in
            *.ko.xz) busybox unxz -c "$src" > "$plain" ;;
            *.ko.zst) zstd -qdc "$src" > "$plain" ;;
            *.ko) cp "$src" "$plain" ;;
            *) die "unknown module format: $src" ;;
        esac
        for dep in $(module_depends "$plain"); do
            add_module "${dep//-/_}"
        done
        order+=("$name.ko")
    }
    local m
    for m in virtio_pci 9pnet_virtio 9p overlay; do
        add_module "$m"
    done
    printf '%s\n' "${order[@]}" > "$tmp/out/modules/order"
    mv "$tmp/out" "$dir"
    rm -rf "$tmp"
}

# Builds $dir/initrd.img: busybox-static, the modules, and kernel-matrix-init.sh as /init.
build_initrd() {
    local dir="$1" tmp bb
    bb=$(command -v busybox) || die "busybox not found (apt-get install busybox-static)"
    # The initramfs has no libc: busybox must be the static build.
    head -c 4096 "$bb" | grep -qa 'ld-linux' && die "$bb is dynamically linked: install busybox-static"
    tmp=$(mktemp -d "$dir/initrd.tmp.XXXXXX")
    mkdir -p "$tmp/root/bin" "$tmp/root/lib/modules" "$tmp/root/proc" "$tmp/root/sys" "$tmp/root/dev" \
        "$tmp/root/mnt" "$tmp/root/newroot"
    cp "$bb" "$tmp/root/bin/busybox"
    cp "$dir"/modules/* "$tmp/root/lib/modules/"
    cp "$scripts/kernel-matrix-init.sh" "$tmp/root/init"
    chmod 0755 "$tmp/root/init" "$tmp/root/bin/busybox"
    (cd "$tmp/root" && find . | busybox cpio -o -H newc 2>/dev/null | gzip -1 > "$tmp/initrd.img") \
        || die "cannot build the initramfs"
    mv "$tmp/initrd.img" "$dir/initrd.img"
    rm -rf "$tmp"
}

# Fetches (once per package version) and builds the initramfs (every time: it is cheap, and follows
# kernel-matrix-init.sh). Sets pkg, version, dir. Serialised by a lock: tests may run side by side.
prepare() {
    pkg=$(kernel_package "$1")
    version=$(package_version "$pkg")
    [ -n "$version" ] && [ "$version" != "(none)" ] || die "apt has no candidate version of $pkg"
    local root
    root=$(cache_root)
    mkdir -p "$root"
    dir="$root/${pkg}_${version//:/%}"
    exec 9>"$root/.lock"
    flock 9
    [ -f "$dir/release" ] || unpack_kernel "$pkg" "$version" "$dir"
    build_initrd "$dir"
    flock -u 9
    exec 9>&- # QEMU is exec'd from this shell: it must not inherit the lock file
}

qemu_kernel_args() {
    echo -kernel "$dir/boot/vmlinuz" -initrd "$dir/initrd.img"
}

# KVM only where it really runs this kernel: /dev/kvm can open and still fail every guest
# instruction it does not emulate (kvm_pvm here: "KVM internal error ... emulation failure").
# The verdict is cached per host boot and kernel.
choose_accel() {
    local want="$1" cached verdict probe_dir log qpid i
    if [ "$want" != auto ]; then
        echo "$want"
        return 0
    fi
    if [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
        echo tcg
        return 0
    fi
    cached="$dir/accel.$(cat /proc/sys/kernel/random/boot_id)"
    if [ -f "$cached" ]; then
        cat "$cached"
        return 0
    fi
    probe_dir=$(mktemp -d)
    log="$probe_dir/console"
    mkdir "$probe_dir/results"
    qemu-system-x86_64 -nodefaults -no-user-config -display none -no-reboot \
        -accel kvm -cpu host -m 512M -smp 1 $(qemu_kernel_args) \
        -append "console=ttyS0 quiet panic=-1 cgscope.probe=1 cgscope.timeout=60" \
        -virtfs "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap" \
        -virtfs "local,path=$probe_dir/results,mount_tag=results,security_model=none" \
        -serial "file:$log" </dev/null >"$probe_dir/qemu" 2>&1 &
    qpid=$!
    verdict=tcg
    for ((i = 0; i < 120; i++)); do
        if [ -f "$probe_dir/results/probe-ok" ]; then
            verdict=kvm
            break
        fi
        kill -0 "$qpid" 2>/dev/null || break
        grep -q 'KVM internal error' "$probe_dir/qemu" 2>/dev/null && break
        sleep 0.5
    done
    kill -KILL "$qpid" 2>/dev/null || true
    wait "$qpid" 2>/dev/null || true
    if [ "$verdict" = tcg ]; then
        echo "kernel-matrix: KVM cannot run $pkg here, using TCG: $(grep -m1 -i 'error' "$probe_dir/qemu" || echo 'no guest within 60 s')" >&2
    fi
    rm -rf "$probe_dir"
    echo "$verdict" > "$cached"
    echo "$verdict"
}

cmd_list() {
    local s p
    for s in 6.1 6.12; do
        p=$(kernel_package "$s")
        echo "$s $p $(package_version "$p")"
    done
}

cmd_prepare() {
    [ $# -ge 1 ] || usage_error "prepare needs a KERNEL"
    local accel="auto"
    prepare "$1"
    shift
    while [ $# -gt 0 ]; do
        case "$1" in
            --accel) accel="$2"; shift 2 ;;
            *) usage_error "unknown prepare option $1" ;;
        esac
    done
    echo "package=$pkg"
    echo "version=$version"
    echo "release=$(cat "$dir/release")"
    echo "kernel=$dir/boot/vmlinuz"
    echo "initrd=$dir/initrd.img"
    echo "accel=$(choose_accel "$accel")"
}

cmd_boot() {
    [ $# -ge 1 ] || usage_error "boot needs a KERNEL"
    local kernel="$1"
    shift
    local script="" results="" memory=2G cpus=2 timeout=600 accel=auto append="" pidfile=""
    local shares=() envs=() n=0 spec host guest mode
    while [ $# -gt 0 ]; do
        [ $# -ge 2 ] || usage_error "$1 needs a value"
        case "$1" in
            --script) script="$2" ;;
            --results) results="$2" ;;
            --share) shares+=("$2") ;;
            --env) envs+=("$2") ;;
            --memory) memory="$2" ;;
            --cpus) cpus="$2" ;;
            --timeout) timeout="$2" ;;
            --accel) accel="$2" ;;
            --append) append="$2" ;;
            --pidfile) pidfile="$2" ;;
            *) usage_error "unknown boot option $1 (see --help)" ;;
        esac
        shift 2
    done
    [ -n "$script" ] || usage_error "boot needs --script FILE"
    [ -n "$results" ] || usage_error "boot needs --results DIR"
    script=$(realpath "$script")
    results=$(realpath "$results")
    [ -f "$script" ] && [ -x "$script" ] || usage_error "--script $script is not an executable file"
    [ -d "$results" ] || usage_error "--results $results is not a directory"
    case "$accel" in auto | tcg | kvm) ;; *) usage_error "--accel must be auto, tcg or kvm" ;; esac
    case "$script$results" in *[[:space:]]*) usage_error "paths with spaces cannot go on the kernel command line" ;; esac
    command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 not found (apt-get install qemu-system-x86)"

    prepare "$kernel"
    accel=$(choose_accel "$accel")
    local args=(-nodefaults -no-user-config -display none -no-reboot -m "$memory" -smp "$cpus")
    if [ "$accel" = kvm ]; then
        args+=(-accel kvm -cpu host)
    else
        args+=(-accel tcg -cpu max)
    fi
    local cmdline="console=ttyS0 quiet panic=-1 cgscope.script=$script cgscope.timeout=$timeout"
    args+=($(qemu_kernel_args) -serial stdio)
    args+=(-virtfs "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap")
    args+=(-virtfs "local,path=$results,mount_tag=results,security_model=none")
    for spec in "${shares[@]}"; do
        IFS=: read -r host guest mode <<<"$spec"
        [ -n "$host" ] && [ -n "$guest" ] || usage_error "--share $spec: expected HOSTDIR:GUESTDIR[:rw]"
        [ -d "$host" ] || usage_error "--share $spec: $host is not a directory"
        case "${mode:-ro}" in ro | rw) ;; *) usage_error "--share $spec: mode must be ro or rw" ;; esac
        case "$host$guest" in *[[:space:],]*) usage_error "--share $spec: no spaces or commas" ;; esac
        local ro=""
        [ "${mode:-ro}" = rw ] || ro=",readonly=on"
        args+=(-virtfs "local,path=$(realpath "$host"),mount_tag=share$n,security_model=none$ro")
        cmdline+=" cgscope.share=share$n:$guest:${mode:-ro}"
        n=$((n + 1))
    done
    for spec in "${envs[@]}"; do
        case "$spec" in
            [A-Za-z_]*=*) ;;
            *) usage_error "--env $spec: expected NAME=VALUE" ;;
        esac
        case "$spec" in *[[:space:]]*) usage_error "--env $spec: no spaces" ;; esac
        cmdline+=" cgscope.env=$spec"
    done
    [ -z "$append" ] || cmdline+=" $append"
    [ -z "$pidfile" ] || args+=(-pidfile "$pidfile")
    echo "kernel-matrix: booting $pkg $version ($(cat "$dir/release")) with $accel, $memory, $cpus CPUs" >&2
    exec qemu-system-x86_64 "${args[@]}" -append "$cmdline" </dev/null
}

cmd_matrix() {
    local kernels=("$@")
    [ ${#kernels[@]} -gt 0 ] || kernels=(6.1 6.12)
    local jar="$top/exporter/target/cgscope.jar" classes="$top/exporter/target/test-classes"
    local guest="$scripts/kernel-matrix-checks.sh"
    [ -f "$jar" ] || die "$jar not built (mvn -B -DskipTests package)"
    [ -f "$classes/io/cgscope/kernels/GuestChecks.class" ] || die "test classes not built in $classes (mvn -B -DskipTests package)"
    local k out status=0
    for k in "${kernels[@]}"; do
        out=$(mktemp -d "/tmp/cgscope-kernel-matrix-$k.XXXXXX")
        echo "kernel-matrix: $k: results in $out, console in $out/console.log" >&2
        "$0" boot "$k" --script "$guest" --results "$out" --timeout 900 \
            --env "CGSCOPE_JAR=$jar" --env "CGSCOPE_TEST_CLASSES=$classes" \
            --env "JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}" >"$out/console.log" 2>&1 || status=1
        if [ "$(cat "$out/guest-exit-status" 2>/dev/null)" != 0 ]; then
            echo "kernel-matrix: $k: the guest script failed (see $out/console.log)" >&2
            status=1
        fi
        [ ! -f "$out/summary.txt" ] || sed "s/^/$k: /" "$out/summary.txt"
    done
    return $status
}

[ $# -ge 1 ] || { usage >&2; exit 2; }
cmd="$1"
shift
case "$cmd" in
    -h | --help | help) usage ;;
    list) cmd_list ;;
    prepare) cmd_prepare "$@" ;;
    boot) cmd_boot "$@" ;;
    matrix) cmd_matrix "$@" ;;
    *) usage_error "unknown command '$cmd' (see --help)" ;;
esac
