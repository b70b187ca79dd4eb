package io.cgscope.index;

import java.io.IOException;

/**
 * One cgroup hierarchy's tree as the kernel has it now, walked whole: what a sweep reads
 * ({@code cgroupfs.Sweeper} walks cgroupfs with {@code getdents64}). The {@link IndexKeeper}
 * walks it to start a source without a race, to re-sync after lost events, and in sweep mode.
 */
public interface CgroupTree {
    /** Receives every cgroup below the root, parents before children. */
    interface Visitor {
        void cgroup(long id, long parentId, byte[] name);
    }

    /** The root cgroup's id. */
    long rootId();

    /**
     * Visits every cgroup below the root (not the root itself); returns how many. One caller at a
     * time. A cgroup removed during the walk may be missed or visited: a walk races with the kernel.
     */
    int walk(Visitor visitor) throws IOException;
}
