#!/bin/busybox sh
# PID 1 of a kernel-matrix guest (kernel-matrix.sh puts it into the initramfs as /init).
#
# Builds the guest's root and runs one script in it, then powers off:
#   /                      the host's / over virtio-9p (tag hostroot), read-only, under an overlay
#                          whose upper layer is a tmpfs: the guest may write anywhere, the host
#                          never changes, and the writes vanish at power-off
#   /results               the host's results directory (9p tag results), read-write
#   extra shares           9p tags share0..N at the guest paths named on the command line
#   /proc /sys /dev /run /dev/shm  the guest's own (the JVM finds libjli.so through /proc/self/exe);
#                          /tmp is the host's, under the overlay (a test's files there stay visible)
#   /sys/fs/cgroup         a pure cgroup2 hierarchy, every controller enabled in the root's
#                          cgroup.subtree_control
#   /sys/fs/bpf /sys/kernel/tracing /sys/kernel/debug   bpffs, tracefs, debugfs
# Kernel command line (kernel-matrix.sh writes it):
#   cgscope.script=PATH    the script to run (a host path, read through the 9p root)
#   cgscope.timeout=SEC    power off after this long whatever the script does (default 600)
#   cgscope.share=TAG:PATH:MODE   one extra 9p share (MODE ro or rw), repeatable
#   cgscope.env=NAME=VALUE one variable of the script's environment, repeatable
#   cgscope.probe=1        only prove the guest boots: write /results/probe-ok, power off
# The script's exit status goes to /results/guest-exit-status; its output to the console.
export PATH=/bin
/bin/busybox --install -s /bin

log() { echo "cgscope-guest: $*"; }
die() {
    log "FATAL: $*"
    poweroff -f
    sleep 5
    exit 1
}

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev

script=""
timeout=600
probe=""
shares=""
envs=""
for arg in $(cat /proc/cmdline); do
    case "$arg" in
        cgscope.script=*) script="${arg#*=}" ;;
        cgscope.timeout=*) timeout="${arg#*=}" ;;
        cgscope.probe=*) probe="${arg#*=}" ;;
        cgscope.share=*) shares="$shares ${arg#*=}" ;;
        cgscope.env=*) envs="$envs ${arg#*=}" ;;
    esac
done

# A guest never outlives its budget, even when the host side that started it is gone.
( sleep "$timeout"; log "timeout: ${timeout} s passed, powering off"; poweroff -f ) &

# Modules in dependency order (kernel-matrix.sh resolved them from the package's modinfo).
while read -r m; do
    [ -n "$m" ] || continue
    insmod "/lib/modules/$m" || die "insmod $m failed"
done < /lib/modules/order

ninep="trans=virtio,version=9p2000.L,msize=512000"
mkdir -p /mnt/lower /mnt/rw /newroot
# cache=loose: the host's files do not change under a guest's run, and it makes the JVM's
# start-up reads several times faster than uncached 9p.
mount -t 9p -o "$ninep,ro,cache=loose" hostroot /mnt/lower || die "cannot mount the host's root over 9p"
mount -t tmpfs -o mode=0755 guestrw /mnt/rw
mkdir -p /mnt/rw/upper /mnt/rw/work
mount -t overlay -o lowerdir=/mnt/lower,upperdir=/mnt/rw/upper,workdir=/mnt/rw/work overlay /newroot \
    || die "cannot mount the overlay root"

r=/newroot
mount -t proc proc $r/proc
mount -t sysfs sysfs $r/sys
mount -t devtmpfs devtmpfs $r/dev
mkdir -p $r/dev/pts $r/dev/shm
mount -t devpts devpts $r/dev/pts
mount -t tmpfs -o mode=1777 tmpfs $r/dev/shm
# /tmp stays the host's (under the overlay): scripts and test files there must be visible.
mount -t tmpfs -o mode=0755 tmpfs $r/run
mount -t cgroup2 cgroup2 $r/sys/fs/cgroup || die "cannot mount cgroup2"
for c in $(cat $r/sys/fs/cgroup/cgroup.controllers); do
    echo "+$c" > $r/sys/fs/cgroup/cgroup.subtree_control || log "cannot enable controller $c"
done
mount -t bpf bpf $r/sys/fs/bpf
mount -t tracefs tracefs $r/sys/kernel/tracing
mount -t debugfs debugfs $r/sys/kernel/debug

mkdir -p $r/results
mount -t 9p -o "$ninep,rw" results $r/results || die "cannot mount the results share"
for s in $shares; do
    tag="${s%%:*}"
    rest="${s#*:}"
    path="${rest%:*}"
    mode="${rest##*:}"
    mkdir -p "$r$path"
    mount -t 9p -o "$ninep,$mode" "$tag" "$r$path" || die "cannot mount share $tag at $path"
done

ip link set lo up
hostname cgscope-guest

if [ -n "$probe" ]; then
    echo ok > $r/results/probe-ok
else
    log "kernel $(uname -r), cgroup2 controllers: $(cat $r/sys/fs/cgroup/cgroup.subtree_control)"
    log "running $script"
    # The script runs by its own #! line, from /, with only these variables.
    # shellcheck disable=SC2086
    env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LC_ALL=C.UTF-8 \
        TERM=dumb CGSCOPE_RESULTS=/results $envs chroot $r /bin/sh -c 'cd / && exec "$0"' "$script" \
        < /dev/null
    status=$?
    echo "$status" > $r/results/guest-exit-status
    log "script exited with $status"
fi
sync
umount $r/results
poweroff -f
