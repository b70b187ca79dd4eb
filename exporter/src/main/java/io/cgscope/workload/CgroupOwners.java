package io.cgscope.workload;

import java.util.HashSet;
import java.util.Set;
import java.util.function.LongPredicate;

/**
 * The cgroups that asked for one container's (or pod's) names: the names are kept while any of them
 * is in the index (live or retained), so that a removed cgroup keeps its names for its retention
 * although the runtime or kubelet removed the files they came from. Names asked for without a
 * cgroup (id 0: a series' ancestor) are kept a grace period from when they were first asked for.
 * Thread-safe.
 */
final class CgroupOwners {
    private final Set<Long> cgroups = new HashSet<>(2);
    private final long since;
    private boolean owned;

    /** @param since when the names were first asked for (nanoTime) */
    CgroupOwners(long since) {
        this.since = since;
    }

    synchronized void add(long cgroupId) {
        if (cgroupId != 0) {
            cgroups.add(cgroupId);
            owned = true;
        }
    }

    /** Drops owners the index no longer has; true when the names can go. */
    synchronized boolean prune(LongPredicate known, long now, long unownedGraceNanos) {
        cgroups.removeIf(id -> !known.test(id));
        return cgroups.isEmpty() && (owned || now - since > unownedGraceNanos);
    }
}
