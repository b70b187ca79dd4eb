package io.cgscope.index;

import java.util.List;
import java.util.Optional;
import java.util.function.LongFunction;

/**
 * On-demand lookups: an id a reader asks for and the index does not know yet (its event is still
 * queued) is asked of the kernel; what the kernel says is answered at once and handed to the
 * writer to add ({@link IndexWriter#submit}), so readers never write. The kernel side lives
 * outside this package ({@code cgroupfs.KernelLookup}).
 */
final class KernelLookups {
    private final CgroupPaths paths;
    private final IndexHealth health;
    private final IndexWriter writer;
    private volatile LongFunction<List<CgroupIndex.Discovered>> resolver = id -> List.of();

    KernelLookups(CgroupPaths paths, IndexHealth health, IndexWriter writer) {
        this.paths = paths;
        this.health = health;
        this.writer = writer;
    }

    /**
     * @param resolver given an id, the chain of cgroups from below the root down to it (parents
     *                 first), or an empty list when the kernel does not know the id as a cgroup
     */
    void setResolver(LongFunction<List<CgroupIndex.Discovered>> resolver) {
        this.resolver = resolver;
    }

    /** Asks the kernel about an id the index lacks; empty when the kernel does not know it either. */
    Optional<Cgroup> lookup(long id) {
        List<CgroupIndex.Discovered> chain;
        try {
            chain = resolver.apply(id);
        } catch (RuntimeException e) {
            health.count(IndexHealth.Counter.LOOKUP_FAILURES);
            return Optional.empty();
        }
        if (chain.isEmpty() || chain.getLast().id() != id) {
            return Optional.empty();
        }
        health.count(IndexHealth.Counter.LOOKUPS);
        // The chain runs from the first ancestor the index may lack down to the id; the writer adds what is missing.
        StringBuilder path = new StringBuilder();
        String known = paths.of(chain.getFirst().parentId());
        if (known != null && !known.equals("/")) {
            path.append(known);
        }
        for (CgroupIndex.Discovered d : chain) {
            if (!path.isEmpty()) {
                path.append('/');
            }
            path.append(CgroupNames.decode(d.name()));
            Entry e = Entry.found(d.id(), d.parentId(), d.name(), Source.LOOKUP);
            writer.submit(() -> writer.insertIfAbsent(e));
        }
        CgroupIndex.Discovered last = chain.getLast();
        return Optional.of(new Cgroup(id, known == null ? null : path.toString(), last.parentId(), State.LIVE, null,
                null, Source.LOOKUP));
    }
}
