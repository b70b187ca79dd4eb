#!/bin/bash
# The container image test's guest script (ContainerImageIT; README, "Container image"): runs in the
# kernel matrix's QEMU guest (pure cgroup2 with every controller, like a node), starts the image
# with podman as the DaemonSet runs it, and writes what it saw to $CGSCOPE_RESULTS for the test to
# judge. Env: CGSCOPE_IMAGE (the image's name), CGSCOPE_IMAGE_STORE (the image store image.sh loaded
# it into on the host, read here through the guest's root: podman uses it as a read-only additional
# image store, so no layer is unpacked again under emulation) and CGSCOPE_CAPS (the DaemonSet's
# capabilities, comma-separated).
# podman keeps everything else in memory: its own storage on a tmpfs, its configuration in this
# script's files (CONTAINERS_CONF, CONTAINERS_STORAGE_CONF), no systemd (cgroupfs manager).
# Under emulation every podman command costs seconds of CPU: the waits poll curl and conmon's PID,
# never podman.
set -euo pipefail
results=${CGSCOPE_RESULTS:?}
fact() { echo "$1=$2" >>"$results/facts.properties"; }
now_ms() { date +%s%3N; }
fact guest.booted_ms "$(awk '{printf "%d", $1 * 1000}' /proc/uptime)"  # the kernel's boot, the guest's clock
start=$(now_ms)

conf=$(mktemp -d /tmp/podman-conf.XXXXXX)
mkdir -p /var/lib/containers/storage /run/containers/storage
mount -t tmpfs -o size=256m tmpfs /var/lib/containers/storage
# Rlimits within the current ones (podman's defaults need CAP_SYS_RESOURCE to raise them).
cat >"$conf/containers.conf" <<EOF
[containers]
default_ulimits = ["nofile=$(ulimit -Sn):$(ulimit -Hn)"]
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
runtime = "crun"
EOF
cat >"$conf/storage.conf" <<EOF
[storage]
driver = "overlay"
graphroot = "/var/lib/containers/storage"
runroot = "/run/containers/storage"
[storage.options]
additionalimagestores = ["${CGSCOPE_IMAGE_STORE:?}"]
EOF
export CONTAINERS_CONF="$conf/containers.conf" CONTAINERS_STORAGE_CONF="$conf/storage.conf"
fact podman.version "$(dpkg-query -W -f '${Version}' podman)"

# The DaemonSet's container: its capabilities (not --privileged), no privilege escalation, a
# read-only root with a tmpfs /tmp, the host's cgroup2 hierarchy at /host/cgroup and the kernel's
# BTF, read-only; the image's own entrypoint and default command. Host network: the guest has no
# bridge plugins, and the test scrapes from outside the container either way.
t0=$(now_ms)
podman run --detach --name cgscope --network host --conmon-pidfile "$conf/conmon.pid" \
    --cap-drop all --cap-add "${CGSCOPE_CAPS:?}" \
    --security-opt no-new-privileges --security-opt seccomp=unconfined \
    --read-only --tmpfs /tmp:size=16m \
    --volume /sys/fs/cgroup:/host/cgroup:ro --volume /sys/kernel/btf:/sys/kernel/btf:ro \
    "$CGSCOPE_IMAGE" >"$results/run.txt" 2>&1
fact run.ms $(( $(now_ms) - t0 ))
conmon=$(cat "$conf/conmon.pid")
until [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 http://127.0.0.1:9486/healthz)" = 200 ]; do
    kill -0 "$conmon" 2>/dev/null || break  # the container has ended
    [ $(( $(now_ms) - t0 )) -lt 420000 ] || break
    sleep 0.5
done
fact healthz.ms $(( $(now_ms) - t0 ))
fact healthz.status "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 http://127.0.0.1:9486/healthz)"

# A cgroup made outside the container, with a busy process in it, must show up named in /metrics.
cg=/sys/fs/cgroup/cgscope-image-test-$$
mkdir "$cg"
fact cgroup.name "${cg#/sys/fs/cgroup/}"
sh -c 'while :; do :; done' &
busy=$!
echo "$busy" >"$cg/cgroup.procs"
t0=$(now_ms)
until curl -s --max-time 10 http://127.0.0.1:9486/metrics >"$results/metrics.txt" \
        && grep -q "cgroup=\"${cg#/sys/fs/cgroup/}\"" "$results/metrics.txt"; do
    [ $(( $(now_ms) - t0 )) -lt 120000 ] || break
    sleep 1
done
fact cgroup.named_ms $(( $(now_ms) - t0 ))
kill "$busy" && wait "$busy" 2>/dev/null || true

# Every thread of the agent, seen from outside the container; and which image podman ran.
t0=$(now_ms)
read -r pid image <<<"$(podman inspect --format "{{.State.Pid}} {{.Image}}" cgscope)"
fact inspect.ms $(( $(now_ms) - t0 ))
fact agent.pid "$pid"
fact image.id "$image"
# One line per thread: its name, uid (real, effective, saved, fs), CapEff; one awk for all of them
# (a process per thread costs seconds under emulation).
awk -F'\t' '/^Name:/ {n = $2} /^Uid:/ {u = $2 " " $3 " " $4 " " $5} /^CapEff:/ {print n, u, $2}' \
    /proc/"$pid"/task/*/status >"$results/threads.txt"

# podman sends the image's stop signal (SIGTERM) and, 2 s later, SIGKILL: exit code 0 means cgscope
# ended by itself within those 2 s (137 would be the kill).
t0=$(now_ms)
podman stop --time 2 cgscope >/dev/null
fact stop.ms $(( $(now_ms) - t0 ))
read -r code finished <<<"$(podman inspect --format "{{.State.ExitCode}} {{.State.FinishedAt}}" cgscope)"
fact stop.exit_code "$code"
fact stop.finished_at "$finished"
podman logs cgscope >"$results/agent.log" 2>&1 || true
# No podman rm: its state is on this guest's tmpfs, which goes with the power-off.
rmdir "$cg"
fact script.ms $(( $(now_ms) - start ))
fact finished true
