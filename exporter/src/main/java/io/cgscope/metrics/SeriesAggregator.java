package io.cgscope.metrics;

import io.cgscope.bpf.BpfException;
import io.cgscope.bpf.BpfMaps;
import io.cgscope.bpf.CounterSource;
import io.cgscope.bpf.Feature;
import io.cgscope.bpf.MapTable;
import io.cgscope.index.Cgroup;
import io.cgscope.index.CgroupIndex;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * Turns the per-id BPF tables into per-label series at scrape time, and keeps them monotonic:
 * <ul>
 *   <li>every id is named once through the index ({@code pathOf}, then one on-demand
 *       {@code lookup}) and the name is cached; all ids with the same label are summed;</li>
 *   <li>when the index expires a dead cgroup, its last values are folded into a per-label total
 *       and its map entries deleted (at the next scrape, from the values read in that scrape), so
 *       the series does not drop; the total is dropped once the index has no id of that path;</li>
 *   <li>ids nobody can name count for {@code /unknown}; after the retention they are folded there
 *       and deleted, so the maps do not fill with ids lost to a fanotify overflow; an id named
 *       after it was counted as unknown leaves what it had in {@code /unknown} and brings only
 *       its later increments to its path.</li>
 * </ul>
 * The expiry listener may run on any thread; {@link #aggregate} runs on one thread at a time.
 */
final class SeriesAggregator {
    /** Words of a series: cpu ns, samples, switches, then the run-queue histogram (slots, sum ns). */
    static final int CPU = 0;
    static final int SAMPLES = 1;
    static final int SWITCHES = 2;
    static final int RUNQ = 3;
    static final int WORDS = RUNQ + BpfMaps.RUNQ_WORDS;

    /** Beyond this many pending expiries, only ids seen with data are remembered (nobody scrapes). */
    private static final int PENDING_CAP = 1 << 16;

    /** One label's values; {@code present} has a bit per feature that has data for it. */
    static final class Series {
        final String label;
        final long[] v = new long[WORDS];
        int present;

        Series(String label) {
            this.label = label;
        }

        boolean has(Feature f) {
            return (present & (1 << f.ordinal())) != 0;
        }
    }

    /** What the aggregator knows of one id that was in a map. */
    private static final class IdState {
        String label;           // where its rows go; null: excluded by the filters
        boolean resolved;       // named through the index: the label is final
        boolean lookedUp;       // the on-demand kernel lookup was tried (once)
        boolean countedUnknown; // counted for /unknown and not yet rebased
        boolean unresolvedSet;
        long unresolvedSince;
        long[] baseline;        // values already counted elsewhere (in /unknown)
        long epoch;
        int fate;
    }

    private static final int ACCUMULATE = 0;
    private static final int FOLD = 1;     // expired or unresolved too long: fold into its label, delete
    private static final int REBASE = 2;   // named after counting as unknown: leave its values there

    private final CgroupIndex index;
    private final CgroupLabels labels;
    private final LongSupplier nanoTime;
    private final long unresolvedRetentionNanos;
    private final Map<Long, IdState> ids = new ConcurrentHashMap<>();
    private final Map<Long, String> pendingExpired = new ConcurrentHashMap<>();
    private final Map<String, Series> folded = new HashMap<>();
    private long epoch;
    private int unresolvedIds;

    SeriesAggregator(CgroupIndex index, CgroupLabels labels, Duration unresolvedRetention, LongSupplier nanoTime) {
        this.index = index;
        this.labels = labels;
        this.nanoTime = nanoTime;
        this.unresolvedRetentionNanos = unresolvedRetention.toNanos();
        index.onExpired(this::expired);
    }

    /** The index's expiry listener: remember the id and its path until the next scrape folds it. */
    void expired(Cgroup c) {
        if (ids.containsKey(c.id()) || pendingExpired.size() < PENDING_CAP) {
            pendingExpired.put(c.id(), c.path() == null ? CgroupLabels.UNKNOWN : c.path());
        }
    }

    /** Ids counted for {@code /unknown} in the last aggregation. */
    int unresolvedIds() {
        return unresolvedIds;
    }

    /** The series of this scrape, by label; deletes folded ids from the maps through {@code source}. */
    Map<String, Series> aggregate(Map<Feature, MapTable> tables, CounterSource source) throws BpfException {
        epoch++;
        long now = nanoTime.getAsLong();
        unresolvedIds = 0;
        // Pass 1: decide each id's fate once for this scrape.
        for (MapTable t : tables.values()) {
            for (int i = 0; i < t.size(); i++) {
                decide(t.key(i), now);
            }
        }
        // Pass 2: add every row to its series or to a folded total.
        Map<String, Series> out = new HashMap<>();
        List<Long> toDelete = new ArrayList<>();
        for (Map.Entry<Feature, MapTable> e : tables.entrySet()) {
            Feature f = e.getKey();
            MapTable t = e.getValue();
            int offset = offset(f);
            for (int i = 0; i < t.size(); i++) {
                IdState st = ids.get(t.key(i));
                if (st == null) {
                    continue;
                }
                switch (st.fate) {
                    case FOLD -> add(series(folded, st.label), f, t, i, offset, st.baseline);
                    case REBASE -> {
                        add(series(folded, CgroupLabels.UNKNOWN), f, t, i, offset, st.baseline);
                        rebase(st, t, i, offset);
                        add(series(out, st.label), f, t, i, offset, st.baseline);
                    }
                    default -> add(series(out, st.label), f, t, i, offset, st.baseline);
                }
            }
        }
        // Pass 3: forget folded ids (map entries and state); unnamed pending ones just go.
        for (Iterator<Map.Entry<Long, IdState>> it = ids.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<Long, IdState> e = it.next();
            IdState st = e.getValue();
            if (st.epoch == epoch && st.fate == FOLD) {
                toDelete.add(e.getKey());
                it.remove();
            } else if (st.epoch < epoch - 1) {
                it.remove(); // gone from the maps (deleted elsewhere): nothing to remember
            } else if (st.fate == REBASE) {
                st.fate = ACCUMULATE;
                st.countedUnknown = false; // what it had is in the /unknown total now
            }
        }
        pendingExpired.keySet().removeIf(id -> !ids.containsKey(id));
        for (long id : toDelete) {
            source.delete(id);
        }
        mergeFolded(out);
        return out;
    }

    private void decide(long id, long now) {
        IdState st = ids.computeIfAbsent(id, k -> new IdState());
        if (st.epoch == epoch) {
            return;
        }
        st.epoch = epoch;
        String expiredPath = pendingExpired.remove(id);
        if (st.resolved) {
            st.fate = expiredPath != null ? FOLD : ACCUMULATE;
            return;
        }
        String path = index.pathOf(id);
        if (path == null && expiredPath == null && !st.lookedUp) {
            st.lookedUp = true; // once: an id the kernel does not know now will not come back
            path = index.lookup(id).map(Cgroup::path).orElse(null);
        }
        if (path == null && expiredPath != null && !expiredPath.equals(CgroupLabels.UNKNOWN)) {
            path = expiredPath;
        }
        String unknown = labels.label(CgroupLabels.UNKNOWN);
        if (path == null) {
            unresolvedIds++;
            if (!st.unresolvedSet) {
                st.unresolvedSince = now;
                st.unresolvedSet = true;
            }
            st.label = unknown;
            st.countedUnknown = true;
            st.fate = expiredPath != null || now - st.unresolvedSince > unresolvedRetentionNanos ? FOLD : ACCUMULATE;
            return;
        }
        st.resolved = true;
        if (st.countedUnknown && expiredPath != null) {
            st.label = unknown; // named only as it goes: all of it stays where it was counted
            st.fate = FOLD;
            return;
        }
        st.label = labels.label(path); // null: excluded, not exported
        st.fate = expiredPath != null ? FOLD : st.countedUnknown ? REBASE : ACCUMULATE;
    }

    private static int offset(Feature f) {
        return switch (f) {
            case CPU -> CPU;
            case SAMPLES -> SAMPLES;
            case SWITCHES -> SWITCHES;
            case RUNQLAT -> RUNQ;
        };
    }

    private static Series series(Map<String, Series> into, String label) {
        if (label == null) {
            return null; // excluded: not exported at all
        }
        return into.computeIfAbsent(label, Series::new);
    }

    private static void add(Series s, Feature f, MapTable t, int row, int offset, long[] baseline) {
        if (s == null) {
            return;
        }
        s.present |= 1 << f.ordinal();
        for (int w = 0; w < t.width(); w++) {
            long v = t.value(row, w) - (baseline == null ? 0 : baseline[offset + w]);
            s.v[offset + w] += Math.max(0, v);
        }
    }

    private static void rebase(IdState st, MapTable t, int row, int offset) {
        if (st.baseline == null) {
            st.baseline = new long[WORDS];
        }
        for (int w = 0; w < t.width(); w++) {
            st.baseline[offset + w] = t.value(row, w);
        }
    }

    /** Adds the folded totals to this scrape's series; drops totals whose path the index no longer knows. */
    private void mergeFolded(Map<String, Series> out) {
        for (Iterator<Series> it = folded.values().iterator(); it.hasNext(); ) {
            Series f = it.next();
            Series live = out.get(f.label);
            if (live == null && !f.label.equals(CgroupLabels.UNKNOWN) && index.byPath(f.label).isEmpty()) {
                it.remove(); // no id of this path is live or retained: the series ends
                continue;
            }
            if (live == null) {
                live = new Series(f.label);
                out.put(f.label, live);
            }
            live.present |= f.present;
            for (int w = 0; w < WORDS; w++) {
                live.v[w] += f.v[w];
            }
        }
    }
}
