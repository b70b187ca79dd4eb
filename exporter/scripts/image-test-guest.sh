#!/bin/bash
# The container image test's guest script (ContainerImageIT; README, "Container image"): runs in the
# kernel matrix's QEMU guest (pure cgroup2 with every controller, like a node), starts the image
# with podman as the DaemonSet runs it, and writes what it saw to $CGSCOPE_RESULTS for the test to
# judge. Env: CGSCOPE_IMAGE_ARCHIVE (the OCI archive image.sh wrote), CGSCOPE_IMAGE (its name).
# podman keeps everything in memory here: its storage on a tmpfs, its configuration in this
# script's files (CONTAINERS_CONF, CONTAINERS_STORAGE_CONF), no systemd (cgroupfs manager).
set -euo pipefail
results=${CGSCOPE_RESULTS:?}
fact() { echo "$1=$2" >>"$results/facts.properties"; }
now_ms() { date +%s%3N; }

conf=$(mktemp -d /tmp/podman-conf.XXXXXX)
mkdir -p /var/lib/containers/storage /run/containers/storage
mount -t tmpfs -o size=1g tmpfs /var/lib/containers/storage
# Rlimits within the current ones (podman's defaults need CAP_SYS_RESOURCE to raise them).
cat >"$conf/containers.conf" <<EOF
[containers]
default_ulimits = ["nofile=$(ulimit -Sn):$(ulimit -Hn)"]
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
runtime = "crun"
EOF
cat >"$conf/storage.conf" <<'EOF'
[storage]
driver = "overlay"
graphroot = "/var/lib/containers/storage"
runroot = "/run/containers/storage"
EOF
export CONTAINERS_CONF="$conf/containers.conf" CONTAINERS_STORAGE_CONF="$conf/storage.conf"
fact podman.version "$(podman version --format '{{.Client.Version}}')"

t0=$(now_ms)
skopeo copy --quiet "oci-archive:$CGSCOPE_IMAGE_ARCHIVE" "containers-storage:$CGSCOPE_IMAGE" >"$results/load.txt" 2>&1
fact load.ms $(( $(now_ms) - t0 ))
fact image.id "$(podman image inspect --format '{{.Id}}' "$CGSCOPE_IMAGE")"

# The DaemonSet's container: its capabilities (not --privileged), no privilege escalation, a
# read-only root with a tmpfs /tmp, the host's cgroup2 hierarchy at /host/cgroup and the kernel's
# BTF, read-only; the image's own entrypoint and default command. Host network: the guest has no
# bridge plugins, and the test scrapes from outside the container either way.
t0=$(now_ms)
podman run --detach --name cgscope --network host \
    --cap-drop all --cap-add SYS_ADMIN,BPF,PERFMON,DAC_READ_SEARCH,SETUID,SETGID \
    --security-opt no-new-privileges --security-opt seccomp=unconfined \
    --read-only --tmpfs /tmp:size=16m \
    --volume /sys/fs/cgroup:/host/cgroup:ro --volume /sys/kernel/btf:/sys/kernel/btf:ro \
    "$CGSCOPE_IMAGE" >"$results/run.txt" 2>&1
until [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 http://127.0.0.1:9486/healthz)" = 200 ]; do
    [ "$(podman inspect --format '{{.State.Running}}' cgscope)" = true ] || break
    [ $(( $(now_ms) - t0 )) -lt 240000 ] || break
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

# Every thread of the agent, seen from outside the container.
pid=$(podman inspect --format '{{.State.Pid}}' cgscope)
fact agent.pid "$pid"
for t in /proc/"$pid"/task/*; do
    echo "$(cat "$t/comm") $(awk '/^Uid:/ {print $2, $3, $4, $5} /^CapEff:/ {print $2}' "$t/status" | tr '\n' ' ')"
done >"$results/threads.txt"

# podman sends the image's stop signal (SIGTERM) and, 2 s later, SIGKILL: exit code 0 means cgscope
# ended by itself within those 2 s (137 would be the kill).
t0=$(now_ms)
podman stop --time 2 cgscope >/dev/null
fact stop.ms $(( $(now_ms) - t0 ))
fact stop.exit_code "$(podman inspect --format '{{.State.ExitCode}}' cgscope)"
fact stop.finished_at "$(podman inspect --format '{{.State.FinishedAt}}' cgscope)"
podman logs cgscope >"$results/agent.log" 2>&1 || true
podman rm cgscope >/dev/null
rmdir "$cg"
fact finished true
