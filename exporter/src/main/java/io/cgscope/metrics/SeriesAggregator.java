package io.cgscope.metrics;

import io.cgscope.bpf.BpfException;
import io.cgscope.bpf.BpfMaps;
import io.cgscope.bpf.CounterSource;
import io.cgscope.bpf.Feature;
import io.cgscope.bpf.MapTable;
import io.cgscope.index.Cgroup;
import io.cgscope.index.CgroupIndex;
import io.cgscope.index.ExpiredCgroup;

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
 *       {@code lookup}), and its series decided once ({@link SeriesKeys}: its workload, the
 *       roll-ups, the filters) and cached; all ids of the same series are summed; a new container
 *       whose names may still come is left out of the scrapes of its first seconds
 *       ({@link SeriesKeys#HELD}), so that its series starts with them;</li>
 *   <li>when the index expires a dead cgroup, its last values are folded into a per-label total
 *       and its map entries deleted (at the next scrape, from the values read in that scrape), so
 *       the series does not drop; the total is dropped once the index has no id of that path;</li>
 *   <li>ids nobody can name count for {@code /unknown}; after the retention they are folded there
 *       and deleted, so the maps do not fill with ids lost to a fanotify overflow; an id named
 *       after it was counted as unknown leaves what it had in {@code /unknown} and brings only
 *       its later increments to its path.</li>
 * </ul>
 * The expiry listener may run on any thread; {@link #aggregate} runs on one thread at a time.
 *
 * <p>What it sums is a {@link Layout}: per-id tables (the BPF maps by default; the cgroupfs
 * collector's counter files, the OOM kill map) and where each one's words go in a series. Each
 * source of per-id counters has its own aggregator (and its own expiry listener): the mechanism
 * that keeps a series monotonic is this one class.
 */
final class SeriesAggregator {
    /**
     * Words of a series: the counters map's (cpu ns, samples, switches), then the runqlat map's
     * (run-queue histogram slots, sum ns).
     */
    static final int CPU = BpfMaps.CPU_NS_WORD;
    static final int SAMPLES = BpfMaps.SAMPLES_WORD;
    static final int SWITCHES = BpfMaps.SWITCHES_WORD;
    static final int RUNQ = BpfMaps.COUNTERS_WORDS;
    static final int WORDS = RUNQ + BpfMaps.RUNQ_WORDS;

    /** A per-id table: a BPF map, or a group of counters read from cgroupfs; {@code width} u64 words per row. */
    record Table(String name, int width) {
    }

    /** The tables an aggregator sums, at most 31, each one's words placed after the previous one's in a series. */
    static final class Layout {
        /** The BPF companion's per-cgroup maps, in {@link BpfMaps#PER_CGROUP} order (their bit in {@link Series#present}). */
        static final Layout BPF = new Layout(BpfMaps.PER_CGROUP.stream()
                .map(m -> new Table(m, BpfMaps.words(m))).toList());

        private final List<Table> tables;
        private final int[] offsets;
        private final int words;

        Layout(List<Table> tables) {
            if (tables.size() > 31) {
                throw new IllegalArgumentException("at most 31 tables: " + tables.size());
            }
            this.tables = List.copyOf(tables);
            this.offsets = new int[tables.size()];
            int w = 0;
            for (int i = 0; i < tables.size(); i++) {
                offsets[i] = w;
                w += tables.get(i).width();
            }
            this.words = w;
        }

        /** The table's position (its bit in {@link Series#present}), or -1. */
        int index(String table) {
            for (int i = 0; i < tables.size(); i++) {
                if (tables.get(i).name().equals(table)) {
                    return i;
                }
            }
            return -1;
        }

        /** Where the table's words start in a series. */
        int offset(int index) {
            return offsets[index];
        }

        int words() {
            return words;
        }
    }

    /** Removes an id's rows from the source of the tables, once its values were folded. */
    interface Deleter {
        void delete(long id) throws Exception;
    }

    /** Beyond this many pending expiries, only ids seen with data are remembered (nobody scrapes). */
    private static final int PENDING_CAP = 1 << 16;
    /** Deaths this close before a scrape began may still have had counts that scrape did not read. */
    private static final long DEATH_MARGIN_MILLIS = 1000;

    /** One series' values; {@code present} has a bit per table (its {@link Layout#index}) with data for it. */
    static final class Series {
        final SeriesKey key;
        /** Its {@code cgroup} label. */
        final String label;
        /** The label names and values of its samples, one list each shared by every family. */
        final List<String> labelNames;
        final List<String> labelValues;
        final long[] v;
        int present;

        Series(SeriesKey key, int words) {
            this.v = new long[words];
            this.key = key;
            this.label = key.cgroup;
            this.labelNames = key.names;
            this.labelValues = key.values;
        }

        boolean has(Feature f) {
            return has(Layout.BPF.index(f.dataMap()));
        }

        /** Whether table {@code index} of its layout had data for it. */
        boolean has(int index) {
            return index >= 0 && (present & 1 << index) != 0;
        }
    }

    /** What the aggregator knows of one id that was in a map. */
    private static final class IdState {
        SeriesKey key;          // where its rows go; null: excluded by the filters
        boolean resolved;       // named through the index: the label is final
        boolean lookedUp;       // the on-demand kernel lookup was tried (once)
        boolean countedUnknown; // counted for /unknown and not yet rebased
        boolean unresolvedSet;
        long unresolvedSince;
        long[] baseline;        // values already counted elsewhere (in /unknown)
        long epoch;
        int fate;
        Series series;          // its series of this scrape (epoch seriesEpoch), found once for all maps
        long seriesEpoch;
    }

    private static final int ACCUMULATE = 0;
    private static final int FOLD = 1;     // expired or unresolved too long: fold into its label, delete
    private static final int REBASE = 2;   // named after counting as unknown: leave its values there

    private final CgroupIndex index;
    private final Layout layout;
    private final SeriesKeys keys;
    private final LongSupplier nanoTime;
    private final long unresolvedRetentionNanos;
    private final Map<Long, IdState> ids = new ConcurrentHashMap<>();
    private final Map<Long, String> pendingExpired = new ConcurrentHashMap<>();
    private final Map<SeriesKey, Series> folded = new HashMap<>();
    private long epoch;
    private int unresolvedIds;
    private int heldIds;
    private int lastSeriesCount;
    /** When the last aggregation began, by the index's clock (expiry listeners read it). */
    private volatile long lastAggregateMillis = Long.MIN_VALUE / 2;
    /** Pass 1's states per table row, for pass 2 (reused: grows, never shrinks). */
    private IdState[][] rowStates = new IdState[0][];

    SeriesAggregator(CgroupIndex index, SeriesKeys keys, Duration unresolvedRetention, LongSupplier nanoTime) {
        this(index, Layout.BPF, keys, unresolvedRetention, nanoTime);
    }

    SeriesAggregator(CgroupIndex index, Layout layout, SeriesKeys keys, Duration unresolvedRetention,
                     LongSupplier nanoTime) {
        this.index = index;
        this.layout = layout;
        this.keys = keys;
        this.nanoTime = nanoTime;
        this.unresolvedRetentionNanos = unresolvedRetention.toNanos();
        index.onExpired(this::expired);
    }

    /**
     * The index's expiry listener: remember the id and its path until the next scrape folds it.
     * An id no scrape saw in the maps needs it only when it died after the last scrape's read
     * (so counts of its last moments may be in the maps, unseen): one that was already dead then
     * gets no new counts. Under churn this skips building a path for nearly every expiry.
     */
    void expired(ExpiredCgroup c) {
        // The cheap test first: ids.containsKey boxes the id (an allocation per expiry under churn).
        if (c.deletedMillis() > lastAggregateMillis - DEATH_MARGIN_MILLIS && pendingExpired.size() < PENDING_CAP
                || !ids.isEmpty() && ids.containsKey(c.id())) {
            String path = c.path();
            pendingExpired.put(c.id(), path == null ? CgroupLabels.UNKNOWN : path);
        }
    }

    /** Ids whose first export the last aggregation held back while their names may still come. */
    int heldIds() {
        return heldIds;
    }

    /** Ids counted for {@code /unknown} in the last aggregation. */
    int unresolvedIds() {
        return unresolvedIds;
    }

    /** The series of this scrape, by key; deletes folded ids from the maps through {@code source}. */
    Map<SeriesKey, Series> aggregate(Map<String, MapTable> tables, CounterSource source) throws BpfException {
        try {
            return aggregate(tables, source::delete);
        } catch (BpfException | RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException(e); // CounterSource.delete throws nothing else
        }
    }

    /**
     * The series of this scrape, by key, from {@code tables} (by {@link Table} name; a table the
     * layout does not know is ignored); deletes folded ids through {@code deleter}.
     */
    Map<SeriesKey, Series> aggregate(Map<String, MapTable> tables, Deleter deleter) throws Exception {
        // The maps were read just before: deaths within DEATH_MARGIN_MILLIS before now stay remembered.
        lastAggregateMillis = index.nowMillis();
        epoch++;
        long now = nanoTime.getAsLong();
        unresolvedIds = 0;
        heldIds = 0;
        // Pass 1: decide each id's fate once for this scrape, remembering each row's state.
        if (rowStates.length < tables.size()) {
            rowStates = java.util.Arrays.copyOf(rowStates, tables.size());
        }
        int ti = 0;
        for (MapTable t : tables.values()) {
            IdState[] states = rowStates[ti];
            if (states == null || states.length < t.size()) {
                rowStates[ti] = states = new IdState[Math.max(t.size(), 64) * 5 / 4];
            }
            for (int i = 0; i < t.size(); i++) {
                states[i] = decide(t.key(i), now);
            }
            ti++;
        }
        // Pass 2: add every row to its series or to a folded total.
        Map<SeriesKey, Series> out = HashMap.newHashMap(lastSeriesCount + 16);
        List<Long> toDelete = new ArrayList<>();
        ti = 0;
        for (Map.Entry<String, MapTable> e : tables.entrySet()) {
            int table = layout.index(e.getKey());
            MapTable t = e.getValue();
            IdState[] states = rowStates[ti++];
            if (table < 0) {
                java.util.Arrays.fill(states, 0, t.size(), null);
                continue;
            }
            int offset = layout.offset(table);
            int f = 1 << table;
            for (int i = 0; i < t.size(); i++) {
                IdState st = states[i];
                states[i] = null; // hold no state past this scrape
                switch (st.fate) {
                    case FOLD -> add(series(folded, st.key), f, t, i, offset, st.baseline);
                    case REBASE -> {
                        add(series(folded, keys.unknown(epoch)), f, t, i, offset, st.baseline);
                        rebase(st, t, i, offset);
                        add(current(st, out), f, t, i, offset, st.baseline);
                    }
                    default -> add(current(st, out), f, t, i, offset, st.baseline);
                }
            }
        }
        // Pass 3: forget folded ids (map entries and state); unnamed pending ones just go.
        for (Iterator<Map.Entry<Long, IdState>> it = ids.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<Long, IdState> e = it.next();
            IdState st = e.getValue();
            st.series = null; // this scrape's series are the caller's now
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
            deleter.delete(id);
        }
        mergeFolded(out);
        keys.forgetUnused(epoch);
        lastSeriesCount = out.size();
        return out;
    }

    /** The id's series of this scrape in {@code out}: looked up once, then kept for its other maps' rows. */
    private Series current(IdState st, Map<SeriesKey, Series> out) {
        if (st.seriesEpoch != epoch) {
            st.series = series(out, st.key);
            st.seriesEpoch = epoch;
        }
        return st.series;
    }

    private IdState decide(long id, long now) {
        IdState st = ids.get(id); // lock-free; computeIfAbsent locks a bin even when the id is there
        if (st == null) {
            st = new IdState();
            ids.put(id, st);
        }
        if (st.epoch == epoch) {
            return st;
        }
        st.epoch = epoch;
        String expiredPath = pendingExpired.remove(id);
        if (st.resolved) {
            if (st.key != null) {
                st.key.usedEpoch = epoch; // its series is exported: its labels stay as they are
            }
            st.fate = expiredPath != null ? FOLD : ACCUMULATE;
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
        SeriesKey unknown = keys.unknown(epoch);
        if (path == null) {
            unresolvedIds++;
            if (!st.unresolvedSet) {
                st.unresolvedSince = now;
                st.unresolvedSet = true;
            }
            st.key = unknown;
            st.countedUnknown = true;
            st.fate = expiredPath != null || now - st.unresolvedSince > unresolvedRetentionNanos ? FOLD : ACCUMULATE;
            return st;
        }
        if (st.countedUnknown && expiredPath != null) {
            st.resolved = true;
            st.key = unknown; // named only as it goes: all of it stays where it was counted
            st.fate = FOLD;
            return st;
        }
        // A new container may wait for its names (a live one, not counted elsewhere yet): exported by a later scrape.
        SeriesKey key = keys.of(id, path, epoch, expiredPath == null && !st.countedUnknown);
        if (key == SeriesKeys.HELD) {
            st.key = null;
            st.fate = ACCUMULATE; // its rows go nowhere this scrape; it is decided again at the next
            heldIds++;
            return st;
        }
        st.resolved = true;
        st.key = key; // null: excluded, not exported
        st.fate = expiredPath != null ? FOLD : st.countedUnknown ? REBASE : ACCUMULATE;
        return st;
    }

    /** Where a map's words start in a series. */
    private Series series(Map<SeriesKey, Series> into, SeriesKey key) {
        if (key == null) {
            return null; // excluded: not exported at all
        }
        Series s = into.get(key);
        if (s == null) {
            s = new Series(key, layout.words());
            into.put(key, s);
        }
        return s;
    }

    private static void add(Series s, int mapBit, MapTable t, int row, int offset, long[] baseline) {
        if (s == null) {
            return;
        }
        s.present |= mapBit;
        for (int w = 0; w < t.width(); w++) {
            long v = t.value(row, w) - (baseline == null ? 0 : baseline[offset + w]);
            s.v[offset + w] += Math.max(0, v);
        }
    }

    private void rebase(IdState st, MapTable t, int row, int offset) {
        if (st.baseline == null) {
            st.baseline = new long[layout.words()];
        }
        for (int w = 0; w < t.width(); w++) {
            st.baseline[offset + w] = t.value(row, w);
        }
    }

    /** Adds the folded totals to this scrape's series; drops totals whose path the index no longer knows. */
    private void mergeFolded(Map<SeriesKey, Series> out) {
        for (Iterator<Series> it = folded.values().iterator(); it.hasNext(); ) {
            Series f = it.next();
            Series live = out.get(f.key);
            if (live == null && !f.label.equals(CgroupLabels.UNKNOWN) && index.byPath(f.label).isEmpty()) {
                it.remove(); // no id of this path is live or retained: the series ends
                continue;
            }
            f.key.usedEpoch = epoch;
            if (live == null) {
                live = new Series(f.key, layout.words());
                out.put(f.key, live);
            }
            live.present |= f.present;
            for (int w = 0; w < layout.words(); w++) {
                live.v[w] += f.v[w];
            }
        }
    }
}
