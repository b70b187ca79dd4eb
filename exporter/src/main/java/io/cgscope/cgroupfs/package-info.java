/**
 * The cgroup2 file system as cgscope reads it outside events: where the hierarchy is mounted
 * ({@code Mountinfo}, {@code CgroupFs}), the whole tree walked with {@code getdents64}
 * ({@code Sweeper}, the index's {@code CgroupTree}), the sweep source ({@code SweepLoop}), and
 * on-demand lookups of an id ({@code KernelLookup}).
 *
 * <p>May import {@code linux} and {@code index}.
 */
package io.cgscope.cgroupfs;
