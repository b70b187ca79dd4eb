/**
 * Workload identity: what a cgroup is (a pod, a container, a systemd unit, ...), from its path
 * alone ({@code PathClassifier}) and from its container's OCI bundle ({@code BundleReader},
 * {@code OciBundle}, {@code Bundles}, read as the index learns the container: {@code BundleTracker}),
 * combined by {@code WorkloadResolver}; the API's filters and {@code /pods}.
 *
 * <p>May import {@code index}.
 */
package io.cgscope.workload;
