#!/usr/bin/env bash
# Runs the whole test suite (unit, kernel, end to end), installing what it needs first (as root).
# Kernel tests need root, cgroup2 and BPF; with CI=true a kernel test that cannot run fails the run.
set -euo pipefail
top="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=common.sh
. "$top/exporter/scripts/common.sh"

# Build packages, plus what the tests drive: Prometheus and promtool (end-to-end), util-linux
# (setpriv), procps, bpftool (checks that no program is left attached), openssl (the TLS tests
# make their certificates at test time), the container image's tools (ContainerImageIT runs
# exporter/scripts/image.sh: mmdebstrap, umoci, skopeo; podman, which the image test runs in the
# guest, and curl, with which the guest scrapes it), for the kernel matrix (GuestVm,
# kernel-matrix.sh): QEMU and a static busybox for the guest's initramfs (the guest kernels come
# from apt-get download), and chromium and chromium-driver (the live page's browser test drives a
# real headless Chromium).
cgscope_ensure_packages "${CGSCOPE_BUILD_PACKAGES[@]}" prometheus util-linux procps openssl \
    mmdebstrap umoci skopeo podman curl qemu-system-x86 busybox-static chromium chromium-driver
cgscope_find_jdk
echo "cgscope: testing with JAVA_HOME=$JAVA_HOME ($("$JAVA_HOME/bin/java" -version 2>&1 | head -1))" >&2

cd "$top"
exec mvn -B -ntp verify "$@"
