package io.cgscope.programs;

import io.cgscope.index.Cgroup;
import io.cgscope.index.CgroupIndex;
import io.cgscope.index.ExpiredCgroup;
import io.cgscope.config.Config.RollUp;
import io.cgscope.metrics.CgroupLabels;
import io.cgscope.metrics.SeriesTarget;
import io.cgscope.workload.Workload;
import io.cgscope.workload.WorkloadResolver;

import java.time.Duration;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;

/**
 * The {@code cgroup} decoder: cgroup ids in user maps named by cgscope's index, with the same
 * rules as cgscope's own per-cgroup metrics ({@code SeriesAggregator}):
 * <ul>
 *   <li>an id is named once through the index (live or retained dead entries), then once by an
 *       on-demand kernel lookup, and the name is kept; the label is the path after
 *       {@code --cgroup.roll-up} ({@link SeriesTarget}: its container's or pod's cgroup),
 *       {@code --cgroup.max-depth}, {@code --cgroup.include} and {@code --cgroup.exclude}
 *       ({@link CgroupLabels}); null when excluded;</li>
 *   <li>an id nobody can name counts for the one label {@code /unknown}; after the retention its
 *       keys are folded there and deleted, so the maps do not fill with ids lost to an overflow;</li>
 *   <li>when the index forgets a dead cgroup (its retention ended), its keys are folded into their
 *       label set's total and deleted from the map (fate {@link #FOLD}).</li>
 *   <li>each series gets the values of {@code --metrics.workload-labels} ({@link WorkloadResolver},
 *       as the built-in families' series have them; "" where none), decided by the first id of the
 *       series and kept while it is in use, so a series' labels do not change. A series is its
 *       label, and with {@code --cgroup.roll-up=container} its container's name too.</li>
 * </ul>
 * One scrape is one epoch: each id is decided once per scrape, whichever maps hold it. The expiry
 * listener may run on any thread; everything else runs on the scraping thread.
 */
final class CgroupNamer {
    static final int ACCUMULATE = 0;
    static final int FOLD = 1;

    /** Beyond this many pending expiries, only ids seen in a map are remembered (nobody scrapes). */
    private static final int PENDING_CAP = 1 << 16;
    /** Deaths this close before a scrape began may still have had counts that scrape did not read. */
    private static final long DEATH_MARGIN_MILLIS = 1000;

    /** What is known of one id, and its decision for the current scrape. Keys keep a reference to it. */
    static final class Id {
        final long id;
        /** Forgotten by the namer (folded, or in no map for two scrapes): holders look it up again. */
        boolean removed;
        /** The label for this scrape: a path, {@code /unknown}'s label, or null (excluded). */
        String label;
        /** The rolled-up relative path (or {@code /unknown}), whether or not it is shown absolute. */
        String path;
        boolean unknown;
        int fate;
        /** The workload label values of {@link #label}'s series (one array per label, shared by its ids). */
        String[] workload = NO_WORKLOAD;
        private WorkloadValues values;
        private String identity;
        private boolean resolved;
        private boolean lookedUp;
        private boolean unresolvedSet;
        private long unresolvedSince;
        private long epoch;

        Id(long id) {
            this.id = id;
        }
    }

    static final String[] NO_WORKLOAD = new String[0];

    /** The workload label values of one label, and the last scrape that used them. */
    private static final class WorkloadValues {
        final String[] values;
        long epoch;

        WorkloadValues(String[] values) {
            this.values = values;
        }
    }

    private final CgroupIndex index;
    private final CgroupLabels labels;
    private final WorkloadResolver workloads;
    private final List<String> workloadLabels;
    private final RollUp rollUp;
    private final boolean bundleIds;
    private final Map<String, WorkloadValues> workloadOf = new HashMap<>();
    private final UnaryOperator<String> display;
    private final long unresolvedRetentionNanos;
    private final LongSupplier nanoTime;
    private final Map<Long, Id> ids = new ConcurrentHashMap<>();
    private final Map<Long, String> pendingExpired = new ConcurrentHashMap<>();
    private long epoch;
    private volatile long lastScrapeMillis = Long.MIN_VALUE / 2;

    /**
     * @param display turns a label into what is exported (identity, or the absolute path for
     *                {@code --config.cgroup-paths=absolute}); never called for {@code /unknown}
     */
    CgroupNamer(CgroupIndex index, CgroupLabels labels, UnaryOperator<String> display, Duration retention,
                LongSupplier nanoTime) {
        this(index, labels, WorkloadResolver.pathsOnly(), List.of(), RollUp.NONE, false, display, retention, nanoTime);
    }

    /**
     * @param workloads      names the workloads of the labels' cgroups
     * @param workloadLabels {@code --metrics.workload-labels}: the values each label gets (none: none)
     * @param rollUp         {@code --cgroup.roll-up}
     * @param bundleIds      the ids are the hierarchy's whose cgroups keep their containers' bundles
     *                       (the one in use); else bundles are looked up without an id
     */
    CgroupNamer(CgroupIndex index, CgroupLabels labels, WorkloadResolver workloads, List<String> workloadLabels,
                RollUp rollUp, boolean bundleIds, UnaryOperator<String> display, Duration retention,
                LongSupplier nanoTime) {
        this.index = index;
        this.labels = labels;
        this.workloads = workloads;
        this.workloadLabels = List.copyOf(workloadLabels);
        this.rollUp = rollUp;
        this.bundleIds = bundleIds;
        this.display = display;
        this.unresolvedRetentionNanos = retention.toNanos();
        this.nanoTime = nanoTime;
        index.onExpired(this::expired);
    }

    /** The index's expiry listener (see {@code SeriesAggregator.expired}: the same economy under churn). */
    void expired(ExpiredCgroup c) {
        if (c.deletedMillis() > lastScrapeMillis - DEATH_MARGIN_MILLIS && pendingExpired.size() < PENDING_CAP
                || !ids.isEmpty() && ids.containsKey(c.id())) {
            String path = c.path();
            pendingExpired.put(c.id(), path == null ? CgroupLabels.UNKNOWN : path);
        }
    }

    /** Starts a scrape: ids are decided afresh. */
    void begin() {
        lastScrapeMillis = index.nowMillis();
        epoch++;
    }

    /** Ends a scrape: forgets folded ids and ids no map held for two scrapes. */
    void end() {
        for (Iterator<Map.Entry<Long, Id>> it = ids.entrySet().iterator(); it.hasNext(); ) {
            Id st = it.next().getValue();
            if (st.epoch == epoch && st.fate == FOLD || st.epoch < epoch - 1) {
                st.removed = true;
                it.remove();
            }
        }
        pendingExpired.keySet().removeIf(id -> !ids.containsKey(id));
        workloadOf.values().removeIf(v -> v.epoch < epoch - 1);
    }

    /** {@code --metrics.workload-labels}, whose values {@link Id#workload} holds in this order. */
    List<String> workloadLabels() {
        return workloadLabels;
    }

    /**
     * Gives an id its series' workload label values: those of the first id of the series (its label,
     * and with {@code --cgroup.roll-up=container} its container's name), kept while the series is in use.
     */
    private void setWorkload(Id st, String label, String container, Supplier<Workload> series) {
        if (workloadLabels.isEmpty() || label == null) {
            st.identity = null;
            st.values = null;
            st.workload = NO_WORKLOAD;
            return;
        }
        String identity = container == null ? label : label + '\n' + container;
        WorkloadValues v = workloadOf.get(identity);
        if (v == null) {
            Workload w = series.get();
            String[] values = new String[workloadLabels.size()];
            for (int i = 0; i < values.length; i++) {
                String x = CgroupLabels.workloadLabel(w, workloadLabels.get(i));
                values[i] = x == null ? "" : x;
            }
            v = new WorkloadValues(values);
            workloadOf.put(identity, v);
        }
        v.epoch = epoch;
        st.identity = identity;
        st.values = v;
        st.workload = v.values;
    }

    /** What is known of an id (made when first asked for); decide it with {@link #decide(Id)}. */
    Id idFor(long id) {
        Id st = ids.get(id);
        if (st == null) {
            st = new Id(id);
            ids.put(id, st);
        }
        return st;
    }

    /** This scrape's decision for an id (made once per scrape). */
    Id decide(long id) {
        return decide(idFor(id));
    }

    /** This scrape's decision for an id already looked up (a key keeps its ids' {@link Id}s between scrapes). */
    Id decide(Id st) {
        if (st.epoch == epoch) {
            return st;
        }
        long id = st.id;
        st.epoch = epoch;
        String expiredPath = pendingExpired.remove(id);
        if (st.resolved) {
            st.fate = expiredPath != null ? FOLD : ACCUMULATE;
            if (st.values != null) {
                // Forgotten while this id was in no map: its values again, unless another id's came first.
                WorkloadValues current = workloadOf.putIfAbsent(st.identity, st.values);
                if (current != null && current != st.values) {
                    st.values = current;
                    st.workload = current.values;
                }
                st.values.epoch = epoch;
            }
            return st;
        }
        String path = index.pathOf(id);
        if (path == null && expiredPath == null && !st.lookedUp) {
            st.lookedUp = true; // once: an id the kernel does not know now will not come back
            path = index.lookup(id).map(Cgroup::path).orElse(null);
        }
        if (path == null && expiredPath != null && !expiredPath.equals(CgroupLabels.UNKNOWN)) {
            path = expiredPath;
        }
        if (path == null) {
            long now = nanoTime.getAsLong();
            if (!st.unresolvedSet) {
                st.unresolvedSince = now;
                st.unresolvedSet = true;
            }
            st.unknown = true;
            st.path = CgroupLabels.UNKNOWN;
            st.label = labels.label(CgroupLabels.UNKNOWN);
            setWorkload(st, st.label == null ? null : CgroupLabels.UNKNOWN, null, () -> workloads.of(0, null));
            st.fate = expiredPath != null || now - st.unresolvedSince > unresolvedRetentionNanos ? FOLD : ACCUMULATE;
            return st;
        }
        st.resolved = true;
        st.unknown = false;
        // --cgroup.roll-up, then --cgroup.max-depth and the filters, as SeriesKeys does for the built-in families
        SeriesTarget target = rollUp == RollUp.NONE && workloadLabels.isEmpty() ? null
                : SeriesTarget.of(workloads.of(bundleIds ? id : 0, path), rollUp, path);
        String targetPath = target == null ? path : target.path();
        String rolled = labels.label(targetPath);
        st.path = rolled;
        st.label = rolled == null ? null : display.apply(rolled);
        if (target != null && rolled != null) {
            boolean cut = !rolled.equals(targetPath); // the series stands for that ancestor
            String container = cut ? null : target.container();
            setWorkload(st, rolled, container, cut ? () -> workloads.of(0, rolled.startsWith("/") ? null : rolled)
                    : target::workload);
        }
        st.fate = expiredPath != null ? FOLD : ACCUMULATE;
        return st;
    }

    /** Whether the index still has an id of this (rolled-up) path, live or retained: its folded totals stay. */
    boolean pathKnown(String path) {
        return path.equals(CgroupLabels.UNKNOWN) || !index.byPath(path).isEmpty();
    }
}
