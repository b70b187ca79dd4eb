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
 * ({@link Buckets}), its other labels the series. Each key is decoded once and remembered (a key
 * whose decoders fail is counted as a decoder error at each scrape that reads it, and skipped).
 * One scrape at a time.
 */
final class UserMetric {
    /** Where a metric's rows come from and how one is removed. */
    interface Rows {
        void read(RawTable into) throws BpfException;

        void delete(byte[] key) throws BpfException;
    }

    /** One key of the map as far as this metric knows it. */
    private static final class KeyState {
        final byte[] mapKey;
        final KeyDecoder.Decoded decoded;
        /** A histogram row's slot ({@link Buckets}), -1 when its bucket is outside them; 0 for a counter. */
        final int slot;
        LabelSet tuple;             // the label set of the last scrape it was counted in
        String[] tupleLabels;    // the cgroup labels that tuple was made from (to reuse it)
        boolean countedUnknown;  // that tuple has /unknown for one of its ids
        long baseline;           // counted elsewhere already (in /unknown's total)
        long epoch;

        KeyState(byte[] mapKey, KeyDecoder.Decoded decoded, int slot) {
            this.mapKey = mapKey;
            this.decoded = decoded;
            this.slot = slot;
        }
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
    private final String bucketName;
    private final String countName;
    private final String sumName;
    private final Map<KeyBytes, KeyState> keys = new HashMap<>();
    private final Map<LabelSet, long[]> folded = new HashMap<>();
    private final RawTable table = new RawTable();
    private final KeyBytes probe = new KeyBytes();
    private byte[] withCpu = new byte[0];
    private long epoch;

    /**
     * @param prefix    {@code --config.metric-prefix}
     * @param splitCpus the map is per-CPU and its last label is {@code cpu}
     */
    UserMetric(String config, Metric spec, String prefix, HostTables host, boolean splitCpus) {
        this.config = config;
        this.spec = spec;
        this.splitCpus = splitCpus;
        this.decoder = new KeyDecoder(spec.labels(), host, splitCpus);
        String full = prefix + spec.name();
        if (spec.kind() == Kind.HISTOGRAM) {
            this.buckets = new Buckets(spec.histogram());
            this.family = full;
            this.type = Collector.Type.HISTOGRAM;
            this.sampleName = full;
            String[] names = decoder.names();
            this.labelNames = List.of(Arrays.copyOf(names, names.length - 1));
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
            this.labelNames = List.of(decoder.names());
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
        int slots = buckets == null ? 1 : buckets.slots();
        Map<LabelSet, long[]> series = new HashMap<>();
        List<byte[]> toDelete = new ArrayList<>();
        int keySize = table.keySize();
        byte[] keyKeyBytes = table.keys();
        int perRow = table.valuesPerRow();
        int combined = splitCpus ? keySize + 2 : keySize;
        if (withCpu.length < combined) {
            withCpu = new byte[combined];
        }
        for (int i = 0; i < table.size(); i++) {
            for (int c = 0; c < perRow; c++) {
                byte[] src = keyKeyBytes;
                int off = i * keySize;
                if (splitCpus) {
                    System.arraycopy(keyKeyBytes, off, withCpu, 0, keySize);
                    withCpu[keySize] = (byte) c;           // the CPU as a 2-byte host-order (little-endian) u16
                    withCpu[keySize + 1] = (byte) (c >> 8);
                    src = withCpu;
                    off = 0;
                }
                KeyState ks = state(src, off, splitCpus ? combined : keySize, keyKeyBytes, i * keySize, keySize);
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
                row(ks, table.value(i, c), namer, stats, series, toDelete, slots);
            }
        }
        for (Iterator<KeyState> it = keys.values().iterator(); it.hasNext(); ) {
            if (it.next().epoch < epoch - 1) {
                it.remove(); // gone from the map (deleted by the program, or an LRU map's eviction)
            }
        }
        byte[] last = null;
        for (byte[] k : toDelete) {
            if (last == null || !Arrays.equals(last, k)) { // a per-CPU map's key once, not once per CPU
                rows.delete(k);
            }
            last = k;
        }
        mergeFolded(series, namer, slots);
        return buckets == null ? counter(series) : histogram(series);
    }

    private KeyState state(byte[] src, int off, int len, byte[] mapSrc, int mapOff, int mapLen) {
        KeyState ks = keys.get(probe.set(src, off, len));
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
            ks = new KeyState(Arrays.copyOfRange(mapSrc, mapOff, mapOff + mapLen), d, slot);
            keys.put(probe.copy(), ks);
        }
        return ks;
    }

    /** One row's value: counted for its label set, or folded and deleted, or moved out of /unknown. */
    private void row(KeyState ks, long value, CgroupNamer namer, Stats stats, Map<LabelSet, long[]> series,
                     List<byte[]> toDelete, int slots) {
        KeyDecoder.Decoded d = ks.decoded;
        int fate = CgroupNamer.ACCUMULATE;
        boolean unknown = false;
        boolean dropped = false;
        String[] labels = null;
        String[] paths = null;
        if (d.ids.length > 0) {
            labels = new String[d.ids.length];
            paths = new String[d.ids.length];
            for (int j = 0; j < d.ids.length; j++) {
                CgroupNamer.Id id = namer.decide(d.ids[j]);
                if (id.fate == CgroupNamer.FOLD) {
                    fate = CgroupNamer.FOLD;
                }
                if (id.unknown) {
                    unknown = true;
                    stats.unresolved.add(d.ids[j]);
                }
                paths[j] = id.path;
                if (id.label == null) {
                    dropped = true; // excluded by --cgroup.include/--cgroup.exclude
                    continue;
                }
                try {
                    labels[j] = decoder.afterCgroup(d.positions[j], id.label);
                } catch (Decoder.DecodeException e) {
                    stats.decoderErrors++;
                    if (stats.firstError == null) {
                        stats.firstError = e.getMessage();
                    }
                    return;
                }
                if (labels[j] == null) {
                    dropped = true; // a regexp after the cgroup decoder skipped it
                }
            }
        }
        LabelSet tuple = dropped ? null : tuple(ks, labels, paths);
        if (fate == CgroupNamer.FOLD) {
            LabelSet target = ks.tuple != null ? ks.tuple : tuple;
            if (target != null) {
                add(folded, target, ks.slot, value - ks.baseline, slots);
            }
            toDelete.add(ks.mapKey);
            ks.tuple = null;
            ks.baseline = value; // until the entry is gone: nothing of it is counted twice
            return;
        }
        if (ks.countedUnknown && !unknown && ks.tuple != null && !ks.tuple.equals(tuple)) {
            // Named now: what it had stays in /unknown's total, its later increments go to its path.
            add(folded, ks.tuple, ks.slot, value - ks.baseline, slots);
            ks.baseline = value;
        }
        if (tuple != null) {
            add(series, tuple, ks.slot, value - ks.baseline, slots);
        }
        ks.tuple = tuple;
        ks.countedUnknown = unknown;
    }

    /** The label set of a key with these cgroup labels: the one of the last scrape when they are the same strings. */
    private LabelSet tuple(KeyState ks, String[] cgroupLabels, String[] paths) {
        KeyDecoder.Decoded d = ks.decoded;
        if (ks.tuple != null && (cgroupLabels == null || sameRefs(cgroupLabels, ks.tupleLabels))) {
            return ks.tuple;
        }
        int n = buckets == null ? d.values.length : d.values.length - 1;
        String[] values = Arrays.copyOf(d.values, n);
        for (int j = 0; j < d.ids.length; j++) {
            values[d.positions[j]] = cgroupLabels[j];
        }
        LabelSet t = new LabelSet(values, paths);
        ks.tupleLabels = cgroupLabels;
        return t;
    }

    private static boolean sameRefs(String[] a, String[] b) {
        if (b == null || a.length != b.length) {
            return false;
        }
        for (int i = 0; i < a.length; i++) {
            if (a[i] != b[i]) {
                return false;
            }
        }
        return true;
    }

    private static void add(Map<LabelSet, long[]> into, LabelSet t, int slot, long v, int slots) {
        long[] vals = into.get(t);
        if (vals == null) {
            vals = new long[slots];
            into.put(t, vals);
        }
        vals[slot] += Math.max(0, v);
    }

    /** Adds the folded totals to this scrape's series; drops those whose paths the index has forgotten. */
    private void mergeFolded(Map<LabelSet, long[]> series, CgroupNamer namer, int slots) {
        for (Iterator<Map.Entry<LabelSet, long[]>> it = folded.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<LabelSet, long[]> e = it.next();
            LabelSet t = e.getKey();
            long[] live = series.get(t);
            if (live == null && t.paths != null && !anyKnown(t.paths, namer)) {
                it.remove(); // no id of its path is live or retained: the series ends
                continue;
            }
            if (live == null) {
                live = new long[slots];
                series.put(t, live);
            }
            for (int s = 0; s < slots; s++) {
                live[s] += e.getValue()[s];
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
        folded.clear();
    }

    private MetricFamilySamples counter(Map<LabelSet, long[]> series) {
        List<Sample> samples = new ArrayList<>(series.size());
        for (Map.Entry<LabelSet, long[]> e : series.entrySet()) {
            samples.add(new Sample(sampleName, labelNames, e.getKey().values, e.getValue()[0]));
        }
        return new MetricFamilySamples(family, type, spec.help(), samples);
    }

    private MetricFamilySamples histogram(Map<LabelSet, long[]> series) {
        int n = buckets.buckets();
        List<Sample> samples = new ArrayList<>(series.size() * (n + 3));
        for (Map.Entry<LabelSet, long[]> e : series.entrySet()) {
            List<String> values = e.getKey().values;
            long[] v = e.getValue();
            long cumulative = 0;
            for (int b = 0; b < n; b++) {
                cumulative += v[b];
                samples.add(new Sample(bucketName, bucketLabelNames, with(values, buckets.le(b)), cumulative));
            }
            samples.add(new Sample(bucketName, bucketLabelNames, with(values, "+Inf"), cumulative));
            samples.add(new Sample(countName, labelNames, values, cumulative));
            samples.add(new Sample(sumName, labelNames, values, v[buckets.sumSlot()] * buckets.multiplier()));
        }
        return new MetricFamilySamples(family, type, spec.help(), samples);
    }

    private static List<String> with(List<String> values, String le) {
        String[] out = values.toArray(new String[values.size() + 1]);
        out[values.size()] = le;
        return List.of(out);
    }

    @Override
    public String toString() {
        return config + "/" + spec.name();
    }
}
