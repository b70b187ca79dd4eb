package io.cgscope.programs;

import io.cgscope.bpf.BpfException;
import io.cgscope.bpf.RawTable;
import io.cgscope.config.ProgramConfig.Kind;
import io.cgscope.config.ProgramConfig.Metric;
import io.prometheus.client.Collector;
import io.prometheus.client.Collector.MetricFamilySamples;
import io.prometheus.client.Collector.MetricFamilySamples.Sample;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * One configured metric at scrape time: the rows of its map (or of its perf event counts) turned
 * into series, one per label set, kept monotonic as cgscope's own families are:
 * <ul>
 *   <li>rows whose labels come out the same are summed (two ids of one path, a restarted unit);</li>
 *   <li>a row whose cgroup id the index forgets (its retention ended) is folded into its label
 *       set's total and deleted from the map; the total stays while the index knows an id of the
 *       path, as for built-in families;</li>
 *   <li>a row first counted for {@code /unknown} whose id gets named later leaves what it had
 *       there and brings only its later increments to its path.</li>
 * </ul>
 * A counter is one sample per label set; a histogram's last label is the bucket key
 * ({@link Buckets}), its other labels the series. A metric with a {@code cgroup} label gets the
 * {@code --metrics.workload-labels} after its own labels (those its own labels do not name), with
 * the values of its first cgroup label's series ({@link CgroupNamer}). Each key is decoded once and remembered (a key
 * whose decoders fail is counted as a decoder error at each scrape that reads it, and skipped).
 * One scrape at a time.
 */
final class UserMetric {
    /** Where a metric's rows come from and how one is removed. */
    interface Rows {
        void read(RawTable into) throws BpfException;

        void delete(byte[] key) throws BpfException;
    }

    private final String config;
    private final Metric spec;
    private final String family;
    private final Collector.Type type;
    private final String sampleName;
    private final KeyDecoder decoder;
    private final Buckets buckets;
    private final boolean splitCpus;
    private final List<String> labelNames;
    private final List<String> bucketLabelNames;
    /** The indexes in {@link CgroupNamer#workloadLabels()} of the workload labels this metric exports. */
    private final int[] workloadIndexes;
    /** The label name lists of series that leave out workload labels, kept once. */
    private final Map<List<String>, List<String>> namesOf = new HashMap<>();
    private final Map<List<String>, List<String>> namesLeOf = new HashMap<>();
    private final String bucketName;
    private final String countName;
    private final String sumName;
    private final KeyTable keys = new KeyTable();
    /** One instance per label set (see {@link LabelSet}). */
    private final Map<LabelSet, LabelSet> sets = new HashMap<>();
    /** The sets with a folded total. */
    private final List<LabelSet> foldedSets = new ArrayList<>();
    /** The sets of this scrape. */
    private final List<LabelSet> active = new ArrayList<>();
    private String[] scratch = new String[0];
    /** The key state of each row of the last read, in the order the map gave them. */
    private KeyState[] lastRows = new KeyState[0];
    private final RawTable table = new RawTable();
    private byte[] withCpu = new byte[0];
    private long epoch;

    /**
     * @param prefix    {@code --config.metric-prefix}
     * @param splitCpus the map is per-CPU and its last label is {@code cpu}
     */
    UserMetric(String config, Metric spec, String prefix, HostTables host, boolean splitCpus) {
        this(config, spec, prefix, host, splitCpus, List.of());
    }

    /** @param workloadLabels {@code --metrics.workload-labels}, as the namer's {@link CgroupNamer#workloadLabels()} */
    UserMetric(String config, Metric spec, String prefix, HostTables host, boolean splitCpus,
               List<String> workloadLabels) {
        this.config = config;
        this.spec = spec;
        this.splitCpus = splitCpus;
        this.decoder = new KeyDecoder(spec.labels(), host, splitCpus);
        String full = prefix + spec.name();
        List<String> own = List.of(decoder.names());
        List<String> extra = new ArrayList<>();
        List<Integer> at = new ArrayList<>();
        for (int i = 0; decoder.hasCgroup() && i < workloadLabels.size(); i++) {
            if (!own.contains(workloadLabels.get(i))) {
                extra.add(workloadLabels.get(i));
                at.add(i);
            }
        }
        this.workloadIndexes = at.stream().mapToInt(Integer::intValue).toArray();
        if (spec.kind() == Kind.HISTOGRAM) {
            this.buckets = new Buckets(spec.histogram());
            this.family = full;
            this.type = Collector.Type.HISTOGRAM;
            this.sampleName = full;
            List<String> names = new ArrayList<>(own.subList(0, own.size() - 1));
            names.addAll(extra);
            this.labelNames = List.copyOf(names);
            List<String> withLe = new ArrayList<>(labelNames);
            withLe.add("le");
            this.bucketLabelNames = List.copyOf(withLe);
        } else {
            this.buckets = null;
            // simpleclient writes a counter family's samples as NAME_total: a counter named so keeps
            // its name; one without the suffix is exported untyped, under its configured name.
            boolean total = full.endsWith("_total");
            this.family = total ? full.substring(0, full.length() - "_total".length()) : full;
            this.type = total ? Collector.Type.COUNTER : Collector.Type.UNKNOWN;
            this.sampleName = full;
            List<String> names = new ArrayList<>(own);
            names.addAll(extra);
            this.labelNames = List.copyOf(names);
            this.bucketLabelNames = null;
        }
        this.bucketName = full + "_bucket";
        this.countName = full + "_count";
        this.sumName = full + "_sum";
    }

    String name() {
        return spec.name();
    }

    Metric spec() {
        return spec;
    }

    /** The key bytes the labels describe, for the check against the map at load. */
    int keySize() {
        return decoder.keySize();
    }

    /** What one scrape of this metric found beside its samples. */
    static final class Stats {
        long decoderErrors;
        final java.util.Set<Long> unresolved = new java.util.HashSet<>();
        String firstError;
    }

    /** Reads the rows, names them, and returns the family; folds and deletes what the index forgot. */
    MetricFamilySamples collect(Rows rows, CgroupNamer namer, Stats stats) throws BpfException {
        rows.read(table);
        epoch++;
        active.clear();
        List<byte[]> toDelete = new ArrayList<>();
        int keySize = table.keySize();
        byte[] keyBytes = table.keys();
        int perRow = table.valuesPerRow();
        int combined = splitCpus ? keySize + 2 : keySize;
        if (withCpu.length < combined) {
            withCpu = new byte[combined];
        }
        for (int i = 0; i < table.size(); i++) {
            for (int c = 0; c < perRow; c++) {
                byte[] src = keyBytes;
                int off = i * keySize;
                if (splitCpus) {
                    System.arraycopy(keyBytes, off, withCpu, 0, keySize);
                    withCpu[keySize] = (byte) c;           // the CPU as a 2-byte host-order (little-endian) u16
                    withCpu[keySize + 1] = (byte) (c >> 8);
                    src = withCpu;
                    off = 0;
                }
                KeyState ks = state(i * perRow + c, src, off, splitCpus ? combined : keySize, keyBytes, i * keySize,
                        keySize);
                ks.epoch = epoch;
                KeyDecoder.Decoded d = ks.decoded;
                if (d.error != null) {
                    stats.decoderErrors++;
                    if (stats.firstError == null) {
                        stats.firstError = d.error;
                    }
                    continue;
                }
                if (d.skip || ks.slot < 0) {
                    continue;
                }
                row(ks, table.value(i, c), namer, stats, toDelete);
            }
        }
        int rowsRead = table.size() * perRow;
        if (rowsRead < lastRows.length) {
            Arrays.fill(lastRows, rowsRead, lastRows.length, null);
        }
        long current = epoch;
        keys.removeIf(k -> k.epoch < current - 1); // gone from the map (deleted by the program, or an LRU map's eviction)
        byte[] last = null;
        for (byte[] k : toDelete) {
            if (last == null || !Arrays.equals(last, k)) { // a per-CPU map's key once, not once per CPU
                rows.delete(k);
            }
            last = k;
        }
        mergeFolded(namer);
        for (Iterator<LabelSet> it = sets.values().iterator(); it.hasNext(); ) {
            LabelSet set = it.next();
            if (set.epoch < epoch - 1 && set.folded == null) {
                set.pruned = true;
                it.remove();
            }
        }
        return buckets == null ? counter() : histogram();
    }

    /**
     * The state of row {@code row}'s key. A map read twice without changes gives its keys in the
     * same order (a hash map's buckets, an array's indices), so the key of the same row last time
     * is tried first: one comparison of the bytes instead of a hash and a lookup.
     */
    private KeyState state(int row, byte[] src, int off, int len, byte[] mapSrc, int mapOff, int mapLen) {
        if (row < lastRows.length) {
            KeyState guess = lastRows[row];
            // lastRows holds the last read's rows only, each seen then, so none has been pruned since.
            if (guess != null && guess.key.length == len && Arrays.equals(guess.key, 0, len, src, off, off + len)) {
                return guess;
            }
        } else {
            lastRows = Arrays.copyOf(lastRows, Math.max(row + 1, lastRows.length * 2));
        }
        KeyState ks = lookup(src, off, len, mapSrc, mapOff, mapLen);
        lastRows[row] = ks;
        return ks;
    }

    private KeyState lookup(byte[] src, int off, int len, byte[] mapSrc, int mapOff, int mapLen) {
        int hash = KeyTable.hash(src, off, len);
        KeyState ks = keys.get(src, off, len, hash);
        if (ks == null) {
            KeyDecoder.Decoded d = decoder.decode(src, off, len);
            int slot = 0;
            if (buckets != null && d.error == null && !d.skip) {
                String bucket = d.values[d.values.length - 1];
                if (bucket == null) {
                    d = new KeyDecoder.Decoded(null, null, null, "the bucket label cannot be a cgroup", false);
                } else {
                    try {
                        slot = buckets.slotOf(Buckets.parseKey(bucket));
                    } catch (NumberFormatException e) {
                        d = new KeyDecoder.Decoded(null, null, null, "bucket key \"" + bucket + "\" is not a number", false);
                    }
                }
            }
            byte[] key = Arrays.copyOfRange(src, off, off + len);
            byte[] mapKey = len == mapLen ? key : Arrays.copyOfRange(mapSrc, mapOff, mapOff + mapLen);
            ks = new KeyState(key, hash, mapKey, d, slot);
            keys.put(ks);
        }
        return ks;
    }

    /** One row's value: counted for its label set, or folded and deleted, or moved out of /unknown. */
    private void row(KeyState ks, long value, CgroupNamer namer, Stats stats, List<byte[]> toDelete) {
        KeyDecoder.Decoded d = ks.decoded;
        int n = d.ids.length;
        int fate = CgroupNamer.ACCUMULATE;
        boolean unknown = false;
        boolean dropped = false;
        if (scratch.length < n) {
            scratch = new String[n];
        }
        for (int j = 0; j < n; j++) {
            CgroupNamer.Id id = ks.ids[j];
            if (id == null || id.removed) {
                id = namer.idFor(d.ids[j]);
                ks.ids[j] = id;
            }
            namer.decide(id);
            if (id.fate == CgroupNamer.FOLD) {
                fate = CgroupNamer.FOLD;
            }
            if (id.unknown) {
                unknown = true;
                stats.unresolved.add(id.id);
            }
            String label = null;
            if (id.label == null) {
                dropped = true; // excluded by --cgroup.include/--cgroup.exclude
            } else {
                try {
                    label = decoder.afterCgroup(d.positions[j], id.label);
                } catch (Decoder.DecodeException e) {
                    stats.decoderErrors++;
                    if (stats.firstError == null) {
                        stats.firstError = e.getMessage();
                    }
                    return;
                }
                dropped |= label == null; // a regexp after the cgroup decoder skipped it
            }
            scratch[j] = label;
        }
        LabelSet set = dropped ? null : set(ks, n);
        if (fate == CgroupNamer.FOLD) {
            LabelSet target = ks.counted != null ? ks.counted : set;
            if (target != null) {
                fold(target, ks.slot, value - ks.baseline);
            }
            toDelete.add(ks.mapKey);
            ks.counted = null;
            ks.baseline = value; // until the entry is gone: nothing of it is counted twice
            return;
        }
        if (ks.countedUnknown && !unknown && ks.counted != null && ks.counted != set) {
            // Named now: what it had stays in /unknown's total, its later increments go to its path.
            fold(ks.counted, ks.slot, value - ks.baseline);
            ks.baseline = value;
        }
        if (set != null) {
            set.add(epoch, ks.slot, value - ks.baseline, active);
        }
        ks.counted = set;
        ks.countedUnknown = unknown;
    }

    /** The key's label set with the cgroup labels in {@code scratch}: the one it had when they are the same strings. */
    private LabelSet set(KeyState ks, int n) {
        KeyDecoder.Decoded d = ks.decoded;
        LabelSet prev = ks.counted;
        if (prev != null && !prev.pruned) {
            boolean same = true;
            for (int j = 0; j < n && same; j++) {
                same = prev.values.get(d.positions[j]) == scratch[j];
            }
            int len = prev.values.size() - workloadIndexes.length;
            for (int k = 0; k < workloadIndexes.length && same; k++) {
                same = prev.values.get(len + k) == workload(ks, k);
            }
            if (same) {
                return prev;
            }
        }
        int len = buckets == null ? d.values.length : d.values.length - 1;
        String[] values = Arrays.copyOf(d.values, len + workloadIndexes.length);
        for (int k = 0; k < workloadIndexes.length; k++) {
            values[len + k] = workload(ks, k);
        }
        String[] paths = n == 0 ? null : new String[n];
        for (int j = 0; j < n; j++) {
            values[d.positions[j]] = scratch[j];
            paths[j] = ks.ids[j].path;
        }
        LabelSet fresh = new LabelSet(values, paths, buckets == null ? 1 : buckets.slots());
        if (Arrays.asList(values).subList(len, values.length).contains("")) {
            // Workload labels without a value are left out, as the built-in families leave them out.
            List<String> names = new ArrayList<>();
            List<String> shown = new ArrayList<>();
            for (int i = 0; i < values.length; i++) {
                if (i < len || !values[i].isEmpty()) {
                    names.add(labelNames.get(i));
                    shown.add(values[i]);
                }
            }
            fresh.names = namesOf.computeIfAbsent(names, List::copyOf);
            if (buckets != null) {
                fresh.namesLe = namesLeOf.computeIfAbsent(fresh.names, k -> {
                    List<String> le = new ArrayList<>(k);
                    le.add("le");
                    return List.copyOf(le);
                });
            }
            fresh.shown = List.copyOf(shown);
        }
        LabelSet known = sets.putIfAbsent(fresh, fresh);
        return known != null ? known : fresh;
    }

    /** The {@code k}th exported workload label's value: its first cgroup label's series'. */
    private String workload(KeyState ks, int k) {
        String[] w = ks.ids[0].workload;
        return w.length == 0 ? "" : w[workloadIndexes[k]];
    }

    private void fold(LabelSet set, int slot, long x) {
        if (set.pruned) {
            LabelSet current = sets.putIfAbsent(set, set);
            if (current == null) {
                set.pruned = false; // in use again
            } else {
                set = current;
            }
        }
        if (set.fold(slot, x)) {
            foldedSets.add(set);
        }
    }

    /** Adds the folded totals to this scrape's series; drops those whose paths the index has forgotten. */
    private void mergeFolded(CgroupNamer namer) {
        for (Iterator<LabelSet> it = foldedSets.iterator(); it.hasNext(); ) {
            LabelSet set = it.next();
            if (set.epoch != epoch) {
                if (set.paths != null && !anyKnown(set.paths, namer)) {
                    set.folded = null; // no id of its path is live or retained: the series ends
                    it.remove();
                    continue;
                }
                set.start(epoch, active);
            }
            for (int s = 0; s < set.v.length; s++) {
                set.v[s] += set.folded[s];
            }
        }
    }

    private static boolean anyKnown(String[] paths, CgroupNamer namer) {
        for (String p : paths) {
            if (p == null || namer.pathKnown(p)) {
                return true;
            }
        }
        return false;
    }

    /** Forgets every count (a perf event counter's {@code flush_interval}). */
    void reset() {
        keys.clear();
        Arrays.fill(lastRows, null);
        sets.clear();
        foldedSets.clear();
    }

    private MetricFamilySamples counter() {
        List<Sample> samples = new ArrayList<>(active.size());
        for (LabelSet set : active) {
            samples.add(new Sample(sampleName, set.names != null ? set.names : labelNames,
                    set.shown != null ? set.shown : set.values, set.v[0]));
        }
        return new MetricFamilySamples(family, type, spec.help(), samples);
    }

    private MetricFamilySamples histogram() {
        int n = buckets.buckets();
        List<Sample> samples = new ArrayList<>(active.size() * (n + 3));
        for (LabelSet set : active) {
            List<String> values = set.shown != null ? set.shown : set.values;
            List<String> names = set.names != null ? set.names : labelNames;
            List<String> namesLe = set.namesLe != null ? set.namesLe : bucketLabelNames;
            long[] v = set.v;
            long cumulative = 0;
            for (int b = 0; b < n; b++) {
                cumulative += v[b];
                samples.add(new Sample(bucketName, namesLe, with(values, buckets.le(b)), cumulative));
            }
            samples.add(new Sample(bucketName, namesLe, with(values, "+Inf"), cumulative));
            samples.add(new Sample(countName, names, values, cumulative));
            samples.add(new Sample(sumName, names, values, v[buckets.sumSlot()] * buckets.multiplier()));
        }
        return new MetricFamilySamples(family, type, spec.help(), samples);
    }

    private static List<String> with(List<String> values, String le) {
        if (values.size() == 1) {
            return List.of(values.getFirst(), le);
        }
        String[] out = values.toArray(new String[values.size() + 1]);
        out[values.size()] = le;
        return List.of(out);
    }

    @Override
    public String toString() {
        return config + "/" + spec.name();
    }
}
