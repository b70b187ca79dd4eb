package io.cgscope.index;

import java.time.Instant;

/**
 * An OOM kill, as the change history ({@code /events}) keeps it: the victim, the cgroup it was in
 * and the memory cgroup whose limit was hit, each named when the kill was reported (so the names
 * outlive the cgroups).
 *
 * @param pid            the victim's process id (its thread group)
 * @param comm           its command name (at most 15 bytes; empty when unknown)
 * @param cgroupId       its cgroup in this index's hierarchy; 0 when unknown
 * @param cgroupPath     that cgroup's path as the index names it ({@code /} for the root), or null
 * @param memcgId        the memory cgroup whose limit was hit (an id of {@code memcgHierarchy}); 0 for none
 * @param memcgPath      its path in its hierarchy, or null
 * @param memcgHierarchy {@code cgroup2}, or the v1 hierarchy's controllers ({@code memory}); null when none
 * @param scope          {@code cgroup} or {@code global}; null when unknown
 * @param memcgFoundBy   {@code oom_control} (the kill's own record) or {@code inferred} (the nearest
 *                       memory cgroup at its limit); null when none was looked for
 * @param time           when the kill happened
 */
public record OomKill(int pid, String comm, long cgroupId, String cgroupPath, long memcgId, String memcgPath,
                      String memcgHierarchy, String scope, String memcgFoundBy, Instant time) {
}
