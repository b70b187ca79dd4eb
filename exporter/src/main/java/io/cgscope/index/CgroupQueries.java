package io.cgscope.index;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * What readers ask of the index: a cgroup by id or by path, a listing. Any thread, no locks: each
 * answer is built from the store as it is at that moment.
 */
final class CgroupQueries {
    private static final Comparator<Cgroup> NEWEST_FIRST =
            Comparator.comparing(Cgroup::id, Long::compareUnsigned).reversed();

    private final CgroupStore store;
    private final CgroupPaths paths;

    CgroupQueries(CgroupStore store, CgroupPaths paths) {
        this.store = store;
        this.paths = paths;
    }

    Optional<Cgroup> byId(long id) {
        Entry e = store.get(id);
        return e == null ? Optional.empty() : Optional.of(e.view(paths.of(e)));
    }

    /** Every cgroup with this path, newest (highest id) first. */
    List<Cgroup> byPath(String path) {
        List<Long> ids = paths.ids(path);
        List<Cgroup> out = new ArrayList<>(ids.size());
        for (long id : ids) {
            Entry e = store.get(id);
            if (e != null) {
                out.add(e.view(paths.of(e)));
            }
        }
        out.sort(NEWEST_FIRST);
        return out;
    }

    /** The cgroups at or below {@code prefix} (by whole segments), sorted by path then newest first, at most {@code limit}. */
    CgroupIndex.Listing list(String prefix, CgroupIndex.StateFilter filter, int limit) {
        String under = prefix == null ? "" : CgroupPaths.canonical(prefix);
        List<Cgroup> matched = new ArrayList<>();
        store.forEach(e -> {
            if (filter == CgroupIndex.StateFilter.LIVE && !e.isLive()
                    || filter == CgroupIndex.StateFilter.DEAD && e.isLive()) {
                return;
            }
            String path = paths.of(e);
            if (path != null && CgroupPaths.within(path, under)) {
                matched.add(e.view(path));
            }
        });
        matched.sort(Comparator.comparing(Cgroup::path).thenComparing(NEWEST_FIRST));
        boolean truncated = matched.size() > limit;
        return new CgroupIndex.Listing(truncated ? List.copyOf(matched.subList(0, limit)) : matched, truncated);
    }

    /** Every cgroup known, live and retained, in no order. */
    Collection<Cgroup> all() {
        List<Cgroup> out = new ArrayList<>((int) store.size());
        store.forEach(e -> out.add(e.view(paths.of(e))));
        return out;
    }
}
