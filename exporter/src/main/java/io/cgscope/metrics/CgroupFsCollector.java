package io.cgscope.metrics;

import io.cgscope.accounting.CgroupStats;
import io.cgscope.accounting.Devices;
import io.cgscope.accounting.Family;
import io.cgscope.accounting.HierarchyReader;
import io.cgscope.accounting.IoStatFile;
import io.cgscope.bpf.MapTable;
import io.prometheus.client.Collector;
import io.prometheus.client.CounterMetricFamily;
import io.prometheus.client.GaugeMetricFamily;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.LongSupplier;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The kernel's own per-cgroup accounting, read from cgroupfs at scrape time
 * ({@code --collector.cgroupfs}): pressure, CPU throttling, memory, IO and pids, on the index's
 * names. Each hierarchy's {@link HierarchyReader} reads its live cgroups; counters go through a
 * {@link SeriesAggregator} as the BPF counters do (same-path ids summed, a removed cgroup's last
 * values kept through its retention and then folded, so a series never decreases); gauges are
 * the live cgroup's own. Runs on the scrape thread, never on the event loop; {@link #collect()}
 * never throws. Scrapes are serialized.
 *
 * <p>All of these files are hierarchical (a cgroup's values include its descendants'), unlike
 * the BPF counters: with {@code --cgroup.max-depth} only the cgroups at or above that depth are
 * read, never summed.
 */
public final class CgroupFsCollector extends Collector implements Collector.Describable {
    private static final Logger LOG = Logger.getLogger(CgroupFsCollector.class.getName());
    private static final List<String> OPS = List.of("read", "write", "discard");

    /** The counter groups: each a table of the aggregator, present for a cgroup when its file was read. */
    private static final List<SeriesAggregator.Table> COUNTER_TABLES = List.of(
            new SeriesAggregator.Table("pressure.cpu", 2), new SeriesAggregator.Table("pressure.memory", 2),
            new SeriesAggregator.Table("pressure.io", 2), new SeriesAggregator.Table("pressure.irq", 2),
            new SeriesAggregator.Table("cpu", 3), new SeriesAggregator.Table("memory.events", 6));
    /** The first {@link CgroupStats} counter word of each table above. */
    private static final int[] FIRST_WORD = {CgroupStats.PRESSURE, CgroupStats.PRESSURE + 2, CgroupStats.PRESSURE + 4,
            CgroupStats.PRESSURE + 6, CgroupStats.CPU_PERIODS, CgroupStats.MEMORY_EVENTS};
    private static final SeriesAggregator.Layout COUNTERS = new SeriesAggregator.Layout(COUNTER_TABLES);
    private static final SeriesAggregator.Layout IO = new SeriesAggregator.Layout(
            List.of(new SeriesAggregator.Table("io", IoStatFile.WORDS)));
    private static final int CPU_TABLE = 4;
    private static final int EVENTS_TABLE = 5;

    /** One hierarchy's reader and the aggregators of its counters. */
    private final class Source {
        final HierarchyReader reader;
        final SeriesAggregator counters;
        final Map<Long, SeriesAggregator> io = new HashMap<>();
        final Map<String, MapTable> tables = new LinkedHashMap<>();
        final Map<Long, MapTable> ioTables = new HashMap<>();
        /** Counter words read at least once in this hierarchy: words never read (a kernel without them) are not exported. */
        long seenCounters;
        /** IO words read at least once. */
        long seenIo;
        /** The gauges' series keys, one per cgroup read, made once (the counters' come from their aggregator). */
        final SeriesKeys gaugeKeys = keys.get();
        Map<Long, SeriesKey> gaugeKey = new HashMap<>();
        long epoch;

        final Set<Family> families;

        Source(HierarchyReader reader, Set<Family> families) {
            this.reader = reader;
            this.families = Set.copyOf(families);
            this.counters = new SeriesAggregator(reader.hierarchy().index(), COUNTERS, keys.get(), retention, nanoTime);
            for (SeriesAggregator.Table t : COUNTER_TABLES) {
                tables.put(t.name(), new MapTable(t.width(), 256));
            }
        }
    }

    private final CgroupLabels labels;
    /** A fresh {@link SeriesKeys} per aggregator (each interns and forgets by its own scrapes). */
    private final java.util.function.Supplier<SeriesKeys> keys;
    private final Duration retention;
    private final LongSupplier nanoTime;
    private final Devices devices;
    private final Set<Family> wanted;
    private final List<Source> sources = new ArrayList<>();
    private final Map<Family, String> down = new EnumMap<>(Family.class);
    private long scrapeErrors;
    /** The per-cgroup families of the last reading, and when it began (see {@link #REUSE_NANOS}). */
    private List<MetricFamilySamples> lastReading = List.of();
    private long lastReadingNanos;
    private long lastRead;
    private boolean everRead;
    private long reuseNanos;

    /**
     * Scrapes that come within this long of the last reading's start get its samples instead of a
     * reading of their own: several clients at once (an HA pair of Prometheus servers, a dashboard
     * and a scrape) cost one reading, and a flood of scrapes at most one a second. Reading costs
     * system calls per cgroup and file; the values are then at most this much older.
     */
    static final long REUSE_NANOS = 1_000_000_000L;

    /**
     * @param wanted    the families of {@code --collector.cgroupfs}
     * @param retention how long an unresolved id counts for {@code /unknown} (the index's retention)
     */
    public CgroupFsCollector(Set<Family> wanted, CgroupLabels labels, Duration retention) {
        this(wanted, labels, retention, Duration.ofNanos(REUSE_NANOS));
    }

    /** @param reuse how long a reading serves later scrapes ({@link #REUSE_NANOS}; zero: every scrape reads) */
    public CgroupFsCollector(Set<Family> wanted, CgroupLabels labels, Duration retention, Duration reuse) {
        this(wanted, labels, () -> SeriesKeys.plain(labels), retention, new Devices(), System::nanoTime);
        this.reuseNanos = reuse.toNanos();
    }

    /**
     * The agent's: the series carry the workload labels of {@code --metrics.workload-labels}, as
     * the BPF counters' do; never {@code --cgroup.roll-up} (these values are hierarchical: a
     * container's cgroup holds its nested ones already, and a pod's its containers').
     */
    public CgroupFsCollector(Set<Family> wanted, io.cgscope.config.Config config,
                             io.cgscope.workload.WorkloadResolver workloads) {
        this(wanted, new CgroupLabels(config.maxDepth(), config.include(), config.exclude()), workloads,
                config.workloadLabels(), config.retention());
    }

    private CgroupFsCollector(Set<Family> wanted, CgroupLabels labels, io.cgscope.workload.WorkloadResolver workloads,
                              List<String> workloadLabels, Duration retention) {
        this(wanted, labels, () -> new SeriesKeys(workloads, labels, workloadLabels,
                io.cgscope.config.Config.RollUp.NONE), retention, new Devices(), System::nanoTime);
        this.reuseNanos = REUSE_NANOS;
    }

    /** Test seam: another /sys/dev/block, the aggregators' clock; every scrape reads. */
    CgroupFsCollector(Set<Family> wanted, CgroupLabels labels, Duration retention, Devices devices,
                      LongSupplier nanoTime) {
        this(wanted, labels, () -> SeriesKeys.plain(labels), retention, devices, nanoTime);
    }

    private CgroupFsCollector(Set<Family> wanted, CgroupLabels labels, java.util.function.Supplier<SeriesKeys> keys,
                              Duration retention, Devices devices, LongSupplier nanoTime) {
        this.keys = keys;
        this.wanted = wanted.isEmpty() ? Set.of() : Set.copyOf(wanted);
        this.labels = labels;
        this.retention = retention;
        this.devices = devices;
        this.nanoTime = nanoTime;
        for (Family f : this.wanted) {
            down.put(f, "not started");
        }
    }

    /**
     * Adds a hierarchy's reader (when the component starts): it reads the families it was made
     * for, which are then up.
     */
    public synchronized void add(HierarchyReader reader, Set<Family> families) {
        everRead = false; // the next scrape reads, with this one
        sources.add(new Source(reader, families));
        for (Family f : families) {
            down.remove(f);
        }
    }

    /** Closes every reader and forgets it (on stop): later scrapes read nothing. */
    public synchronized void closeReaders() {
        lastReading = List.of();
        lastRead = 0;
        for (Source s : sources) {
            s.reader.close();
            for (Family f : s.families) {
                down.put(f, "stopped");
            }
        }
        sources.clear();
    }

    /** A wanted family no hierarchy serves, with the reason (exported as {@code cgscope_cgroupfs_collector_up 0}). */
    public synchronized void unavailable(Family family, String reason) {
        down.put(family, reason);
    }

    /** Why a wanted family is not read (for tests and logs), or null while it is. */
    public synchronized String downReason(Family family) {
        return down.get(family);
    }

    /** The label a path gets here, or null when it is not exported (for the readers). */
    public String label(String path) {
        return labels.label(path);
    }

    @Override
    public synchronized List<MetricFamilySamples> collect() {
        long t0 = System.nanoTime();
        long readErrors = 0;
        if (!everRead || t0 - lastReadingNanos >= reuseNanos) {
            List<MetricFamilySamples> reading = new ArrayList<>();
            Families f = new Families();
            long read = 0;
            for (Source s : sources) {
                try {
                    collect(s, f);
                } catch (Exception | LinkageError e) {
                    if (scrapeErrors++ == 0) {
                        LOG.warning("cgroupfs scrape of " + s.reader.hierarchy().name() + " failed (counted in"
                                + " cgscope_cgroupfs_errors_total): " + e);
                    }
                    LOG.log(Level.FINE, "cgroupfs scrape failed", e);
                }
                read += s.reader.readInLastScrape();
            }
            f.addTo(reading);
            lastReading = reading;
            lastReadingNanos = t0;
            lastRead = read;
            everRead = true;
        }
        for (Source s : sources) {
            readErrors += s.reader.readErrors();
        }
        long read = lastRead;
        List<MetricFamilySamples> out = new ArrayList<>(lastReading);
        GaugeMetricFamily up = new GaugeMetricFamily("cgscope_cgroupfs_collector_up",
                "1 when this --collector.cgroupfs family is read from a hierarchy, 0 when none has its files (the log"
                        + " says why).", List.of("collector"));
        for (Family family : Family.ALL) {
            if (wanted.contains(family)) {
                up.addMetric(List.of(family.label()), down.containsKey(family) ? 0 : 1);
            }
        }
        out.add(up);
        out.add(new GaugeMetricFamily("cgscope_cgroupfs_cgroups",
                "Cgroups whose accounting files were read in this scrape (or the reading it shares).", read));
        out.add(new CounterMetricFamily("cgscope_cgroupfs_errors",
                "Reads of cgroupfs accounting files that failed other than by the cgroup going away, and scrapes of"
                        + " these families that failed in part.", readErrors + scrapeErrors));
        out.add(new GaugeMetricFamily("cgscope_cgroupfs_scrape_duration_seconds",
                "Time this scrape of the cgroupfs accounting files took (reading, naming, summing; near 0 when it"
                        + " shares the reading of a scrape less than a second before).",
                (System.nanoTime() - t0) / 1e9));
        return out;
    }

    private void collect(Source s, Families f) throws Exception {
        Collection<HierarchyReader.Cgroup> cgroups = s.reader.scrape();
        for (MapTable t : s.tables.values()) {
            t.clear();
        }
        for (MapTable t : s.ioTables.values()) {
            t.clear();
        }
        MapTable[] byIndex = s.tables.values().toArray(MapTable[]::new);
        s.epoch++;
        Map<Long, SeriesKey> gaugeKey = new HashMap<>();
        for (HierarchyReader.Cgroup c : cgroups) {
            CgroupStats st = c.stats();
            if (c.readThisScrape()) {
                SeriesKey key = s.gaugeKey.get(c.id());
                if (key == null) {
                    // read: its label is its path; a new container whose names may still come from
                    // kubelet's logs waits, as the BPF families' series do (never under two label sets)
                    key = s.gaugeKeys.of(c.id(), c.label(), s.epoch, true);
                }
                if (key != null && key != SeriesKeys.HELD) {
                    gaugeKey.put(c.id(), key);
                    f.gauges(key, st);
                }
            }
            long mask = st.counterMask();
            s.seenCounters |= mask;
            if (mask != 0) {
                for (int t = 0; t < byIndex.length; t++) {
                    int width = COUNTER_TABLES.get(t).width();
                    long group = ((1L << width) - 1) << FIRST_WORD[t];
                    if ((mask & group) != 0) {
                        int row = byIndex[t].append(c.id());
                        for (int w = 0; w < width; w++) {
                            byIndex[t].add(row, w, st.counter(FIRST_WORD[t] + w));
                        }
                    }
                }
            }
            for (Map.Entry<Long, long[]> e : st.io().entrySet()) {
                long[] words = e.getValue();
                s.seenIo |= words[IoStatFile.WORDS];
                MapTable t = s.ioTables.computeIfAbsent(e.getKey(), d -> new MapTable(IoStatFile.WORDS, 64));
                int row = t.append(c.id());
                for (int w = 0; w < IoStatFile.WORDS; w++) {
                    t.add(row, w, words[w]);
                }
            }
        }
        s.gaugeKey = gaugeKey; // the keys of cgroups not read this time go
        s.gaugeKeys.forgetUnused(s.epoch); // and the interned ones of cgroups first read earlier: their key is kept above
        HierarchyReader reader = s.reader;
        Map<SeriesKey, SeriesAggregator.Series> series = s.counters.aggregate(s.tables, reader::forget);
        f.counters(series.values(), s.seenCounters);
        for (Map.Entry<Long, MapTable> e : s.ioTables.entrySet()) {
            long device = e.getKey();
            SeriesAggregator agg = s.io.computeIfAbsent(device, d ->
                    new SeriesAggregator(reader.hierarchy().index(), IO, keys.get(), retention, nanoTime));
            Map<SeriesKey, SeriesAggregator.Series> io = agg.aggregate(Map.of("io", e.getValue()),
                    id -> reader.forgetDevice(id, device));
            f.io(io.values(), devices.label(device), s.seenIo);
        }
    }

    /** This scrape's samples, family by family. */
    private static final class Families {
        final List<MetricFamilySamples.Sample> pressure = new ArrayList<>();
        final List<MetricFamilySamples.Sample> periods = new ArrayList<>();
        final List<MetricFamilySamples.Sample> throttledPeriods = new ArrayList<>();
        final List<MetricFamilySamples.Sample> throttledSeconds = new ArrayList<>();
        final List<MetricFamilySamples.Sample> limitCores = new ArrayList<>();
        final List<MetricFamilySamples.Sample> memory = new ArrayList<>();
        final List<MetricFamilySamples.Sample> workingSet = new ArrayList<>();
        final List<MetricFamilySamples.Sample> peak = new ArrayList<>();
        final List<MetricFamilySamples.Sample> memoryLimit = new ArrayList<>();
        final List<MetricFamilySamples.Sample> events = new ArrayList<>();
        final List<MetricFamilySamples.Sample> stat = new ArrayList<>();
        final List<MetricFamilySamples.Sample> ioBytes = new ArrayList<>();
        final List<MetricFamilySamples.Sample> ioOps = new ArrayList<>();
        final List<MetricFamilySamples.Sample> pids = new ArrayList<>();
        final List<MetricFamilySamples.Sample> pidsLimit = new ArrayList<>();

        void counters(Collection<SeriesAggregator.Series> series, long seen) {
            for (SeriesAggregator.Series s : series) {
                // The family's own kind (some|full) wins over a workload label of that name
                // (--metrics.workload-labels=kind): a label twice is no valid series.
                int workloadKind = s.labelNames.indexOf("kind");
                List<String> pressureNames = workloadKind < 0 ? s.labelNames : without(s.labelNames, workloadKind);
                List<String> pressureValues = workloadKind < 0 ? s.labelValues : without(s.labelValues, workloadKind);
                for (int r = 0; r < 4; r++) {
                    if (!s.has(r)) {
                        continue;
                    }
                    for (int kind = 0; kind < 2; kind++) {
                        if ((seen & 1L << (CgroupStats.PRESSURE + 2 * r + kind)) != 0) {
                            pressure.add(new MetricFamilySamples.Sample("cgscope_cgroup_pressure_seconds_total",
                                    plus(pressureNames, "resource", "kind"), plus(pressureValues,
                                    CgroupStats.PRESSURE_RESOURCES.get(r), CgroupStats.PRESSURE_KINDS.get(kind)),
                                    s.v[2 * r + kind] / 1e6));
                        }
                    }
                }
                if (s.has(CPU_TABLE)) {
                    int o = COUNTERS.offset(CPU_TABLE);
                    counter(periods, "cgscope_cgroup_cpu_periods_total", s, seen, CgroupStats.CPU_PERIODS, s.v[o], 1);
                    counter(throttledPeriods, "cgscope_cgroup_cpu_throttled_periods_total", s, seen,
                            CgroupStats.CPU_THROTTLED_PERIODS, s.v[o + 1], 1);
                    counter(throttledSeconds, "cgscope_cgroup_cpu_throttled_seconds_total", s, seen,
                            CgroupStats.CPU_THROTTLED_NS, s.v[o + 2], 1e9);
                }
                if (s.has(EVENTS_TABLE)) {
                    int o = COUNTERS.offset(EVENTS_TABLE);
                    for (int e = 0; e < CgroupStats.MEMORY_EVENT_NAMES.size(); e++) {
                        if ((seen & 1L << (CgroupStats.MEMORY_EVENTS + e)) != 0) {
                            events.add(new MetricFamilySamples.Sample("cgscope_cgroup_memory_events_total",
                                    plus(s.labelNames, "event"), plus(s.labelValues, CgroupStats.MEMORY_EVENT_NAMES.get(e)),
                                    s.v[o + e]));
                        }
                    }
                }
            }
        }

        private static void counter(List<MetricFamilySamples.Sample> into, String name, SeriesAggregator.Series s,
                                    long seen, int word, long value, double divisor) {
            if ((seen & 1L << word) != 0) {
                into.add(new MetricFamilySamples.Sample(name, s.labelNames, s.labelValues, value / divisor));
            }
        }

        void io(Collection<SeriesAggregator.Series> series, String device, long seen) {
            for (SeriesAggregator.Series s : series) {
                if (!s.has(0)) {
                    continue;
                }
                for (int op = 0; op < 3; op++) {
                    if ((seen & 1L << (IoStatFile.RBYTES + op)) != 0) {
                        ioBytes.add(new MetricFamilySamples.Sample("cgscope_cgroup_io_bytes_total",
                                plus(s.labelNames, "device", "op"), plus(s.labelValues, device, OPS.get(op)),
                                s.v[IoStatFile.RBYTES + op]));
                    }
                    if ((seen & 1L << (IoStatFile.RIOS + op)) != 0) {
                        ioOps.add(new MetricFamilySamples.Sample("cgscope_cgroup_io_operations_total",
                                plus(s.labelNames, "device", "op"), plus(s.labelValues, device, OPS.get(op)),
                                s.v[IoStatFile.RIOS + op]));
                    }
                }
            }
        }

        void gauges(SeriesKey key, CgroupStats st) {
            List<String> names = key.names;
            List<String> values = key.values;
            if (st.hasGauge(CgroupStats.CPU_QUOTA_US) && st.hasGauge(CgroupStats.CPU_PERIOD_US)
                    && st.gauge(CgroupStats.CPU_PERIOD_US) > 0) {
                limitCores.add(new MetricFamilySamples.Sample("cgscope_cgroup_cpu_limit_cores", names, values,
                        (double) st.gauge(CgroupStats.CPU_QUOTA_US) / st.gauge(CgroupStats.CPU_PERIOD_US)));
            }
            gauge(memory, "cgscope_cgroup_memory_bytes", names, values, st, CgroupStats.MEMORY_CURRENT);
            long ws = st.workingSet();
            if (ws >= 0) {
                workingSet.add(new MetricFamilySamples.Sample("cgscope_cgroup_memory_working_set_bytes", names, values,
                        ws));
            }
            gauge(peak, "cgscope_cgroup_memory_peak_bytes", names, values, st, CgroupStats.MEMORY_PEAK);
            gauge(memoryLimit, "cgscope_cgroup_memory_limit_bytes", names, values, st, CgroupStats.MEMORY_MAX);
            for (int t = 0; t < CgroupStats.MEMORY_STAT_TYPES.size(); t++) {
                if (st.hasGauge(CgroupStats.MEMORY_STAT + t)) {
                    stat.add(new MetricFamilySamples.Sample("cgscope_cgroup_memory_stat_bytes", plus(names, "type"),
                            plus(values, CgroupStats.MEMORY_STAT_TYPES.get(t)), st.gauge(CgroupStats.MEMORY_STAT + t)));
                }
            }
            gauge(pids, "cgscope_cgroup_pids", names, values, st, CgroupStats.PIDS_CURRENT);
            gauge(pidsLimit, "cgscope_cgroup_pids_limit", names, values, st, CgroupStats.PIDS_MAX);
        }

        private static void gauge(List<MetricFamilySamples.Sample> into, String name, List<String> names,
                                  List<String> values, CgroupStats st, int word) {
            if (st.hasGauge(word)) {
                into.add(new MetricFamilySamples.Sample(name, names, values, st.gauge(word)));
            }
        }

        /** {@code list} and then {@code more}. */
        private static List<String> without(List<String> list, int index) {
            List<String> rest = new ArrayList<>(list);
            rest.remove(index);
            return rest;
        }

        private static List<String> plus(List<String> list, String... more) {
            String[] all = list.toArray(new String[list.size() + more.length]);
            System.arraycopy(more, 0, all, list.size(), more.length);
            return java.util.Arrays.asList(all);
        }

        void addTo(List<MetricFamilySamples> out) {
            family(out, "cgscope_cgroup_pressure_seconds", Type.COUNTER, pressure,
                    "Time some (or all: kind=full) of the cgroup's non-idle tasks were stalled on a resource, from its"
                            + " resource.pressure file's total (pressure stall information).");
            family(out, "cgscope_cgroup_cpu_periods", Type.COUNTER, periods,
                    "Enforcement periods of the cgroup's CPU quota that elapsed while it had runnable tasks (cpu.stat"
                            + " nr_periods).");
            family(out, "cgscope_cgroup_cpu_throttled_periods", Type.COUNTER, throttledPeriods,
                    "Periods in which the cgroup used up its CPU quota and was throttled (cpu.stat nr_throttled).");
            family(out, "cgscope_cgroup_cpu_throttled_seconds", Type.COUNTER, throttledSeconds,
                    "Time the cgroup's tasks were throttled by its CPU quota (cpu.stat throttled_usec).");
            family(out, "cgscope_cgroup_cpu_limit_cores", Type.GAUGE, limitCores,
                    "The cgroup's CPU quota in CPUs: quota over period (cpu.max); absent without a quota.");
            family(out, "cgscope_cgroup_memory_bytes", Type.GAUGE, memory,
                    "Memory charged to the cgroup and its descendants (memory.current).");
            family(out, "cgscope_cgroup_memory_working_set_bytes", Type.GAUGE, workingSet,
                    "memory.current minus inactive_file of memory.stat, never below 0: the working set as the kubelet"
                            + " computes it.");
            family(out, "cgscope_cgroup_memory_peak_bytes", Type.GAUGE, peak,
                    "The most memory the cgroup ever had charged (memory.peak).");
            family(out, "cgscope_cgroup_memory_limit_bytes", Type.GAUGE, memoryLimit,
                    "The cgroup's memory limit (memory.max); absent when unlimited.");
            family(out, "cgscope_cgroup_memory_events", Type.COUNTER, events,
                    "Memory events of the cgroup and its descendants (memory.events): low, high, max, oom, oom_kill,"
                            + " oom_group_kill.");
            family(out, "cgscope_cgroup_memory_stat_bytes", Type.GAUGE, stat,
                    "Memory of the cgroup by type, from memory.stat: anon, file, kernel, sock, shmem.");
            family(out, "cgscope_cgroup_io_bytes", Type.COUNTER, ioBytes,
                    "Bytes the cgroup read, wrote and discarded, per device (io.stat rbytes, wbytes, dbytes).");
            family(out, "cgscope_cgroup_io_operations", Type.COUNTER, ioOps,
                    "Read, write and discard operations of the cgroup, per device (io.stat rios, wios, dios).");
            family(out, "cgscope_cgroup_pids", Type.GAUGE, pids,
                    "Tasks (processes and threads) in the cgroup and its descendants (pids.current).");
            family(out, "cgscope_cgroup_pids_limit", Type.GAUGE, pidsLimit,
                    "The cgroup's task limit (pids.max); absent when unlimited.");
        }

        private static void family(List<MetricFamilySamples> out, String name, Type type,
                                   List<MetricFamilySamples.Sample> samples, String help) {
            if (!samples.isEmpty()) {
                out.add(new MetricFamilySamples(name, type, help, samples));
            }
        }
    }

    /** Every family this collector may export: the registry checks names against the other collectors'. */
    @Override
    public List<MetricFamilySamples> describe() {
        List<MetricFamilySamples> out = new ArrayList<>();
        for (String name : List.of("cgscope_cgroup_pressure_seconds", "cgscope_cgroup_cpu_periods",
                "cgscope_cgroup_cpu_throttled_periods", "cgscope_cgroup_cpu_throttled_seconds",
                "cgscope_cgroup_memory_events", "cgscope_cgroup_io_bytes", "cgscope_cgroup_io_operations",
                "cgscope_cgroupfs_errors")) {
            out.add(new CounterMetricFamily(name, name, List.of()));
        }
        for (String name : List.of("cgscope_cgroup_cpu_limit_cores", "cgscope_cgroup_memory_bytes",
                "cgscope_cgroup_memory_working_set_bytes", "cgscope_cgroup_memory_peak_bytes",
                "cgscope_cgroup_memory_limit_bytes", "cgscope_cgroup_memory_stat_bytes", "cgscope_cgroup_pids",
                "cgscope_cgroup_pids_limit", "cgscope_cgroupfs_collector_up", "cgscope_cgroupfs_cgroups",
                "cgscope_cgroupfs_scrape_duration_seconds")) {
            out.add(new GaugeMetricFamily(name, name, List.of()));
        }
        return out;
    }
}
