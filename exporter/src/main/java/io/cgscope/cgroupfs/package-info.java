/**
 * The cgroup file systems as cgscope reads them outside events: which hierarchies are mounted,
 * the unified one and every v1 hierarchy ({@code Hierarchies}, from {@code /proc}), where each is
 * mounted ({@code Mountinfo}, {@code CgroupFs}), the whole tree walked with {@code getdents64}
 * ({@code Sweeper}, the index's {@code CgroupTree}), the sweep source ({@code SweepLoop}), and
 * on-demand lookups of an id ({@code KernelLookup}).
 *
 * <p>May import {@code linux} and {@code index}.
 */
package io.cgscope.cgroupfs;
