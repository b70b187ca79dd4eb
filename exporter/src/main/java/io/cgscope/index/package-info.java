/**
 * The cgroup index, pure Java (and Caffeine's {@code Ticker}): cgroup id to (parent, name, state),
 * paths derived, removed cgroups retained, the change history; its face is {@code CgroupIndex}
 * over {@code CgroupStore} (the entries, one writer and lock-free readers) and the parts beside
 * it. Also the seam every index source implements ({@code IndexSource}), the {@code IndexKeeper}
 * that starts one without a race and hands over to a fallback, {@code IndexHealth}, and
 * {@code HierarchyIndexes} (one index per cgroup hierarchy, the one in use).
 *
 * <p>Imports no cgscope package and no {@code java.lang.foreign}: the kernel side of a source or
 * a lookup lives in {@code fanotify}, {@code lifecycle} and {@code cgroupfs}, behind {@code IndexSource},
 * {@code CgroupTree} and the resolver of {@code CgroupIndex.setResolver}.
 */
package io.cgscope.index;
