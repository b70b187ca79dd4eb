/**
 * The kernel's own per-cgroup accounting files ({@code --collector.cgroupfs}): which files each
 * family reads in cgroup2 and in a v1 hierarchy ({@code CgroupFiles}, {@code Family}), pure parsers
 * of their formats ({@code PressureFile}, {@code FlatKeyedFile}, {@code SingleValueFile},
 * {@code IoStatFile}), device names ({@code Devices}), the v1 mounts ({@code V1Mounts}), and the
 * reader of one hierarchy's cgroups at scrape time ({@code HierarchyReader}, through a directory fd
 * per cgroup). The Prometheus side is {@code metrics.CgroupFsCollector}.
 *
 * <p>May import {@code index} (the ids and paths it reads) and {@code linux} (the fd-relative reads).
 */
package io.cgscope.accounting;
