/**
 * The Prometheus collectors: the per-cgroup families from the BPF maps and the index
 * ({@code CgroupCollector}, {@code SeriesAggregator}, {@code CgroupLabels}), the index's own health
 * ({@code IndexCollector}), the crosscheck's counts ({@code CrossCheckCollector}), the workloads,
 * the build, the kernel's accounting files ({@code CgroupFsCollector}) and the OOM kills
 * ({@code OomKillCollector}). A collector reads a snapshot, never throws, and counts its
 * own errors.
 *
 * <p>May import {@code index}, {@code bpf} (the read side: {@code CounterSource} and its tables),
 * {@code config}, {@code workload}, {@code lifecycle} (the crosscheck's counts), {@code accounting}
 * (the cgroupfs readers) and the root's
 * {@code BuildInfo}.
 */
package io.cgscope.metrics;
