package io.cgscope.metrics;

import io.cgscope.bpf.BpfMaps;
import io.cgscope.bpf.CounterSource;
import io.cgscope.bpf.Feature;
import io.cgscope.bpf.MapTable;
import io.cgscope.bpf.ProgramReport;
import io.cgscope.config.Config;
import io.cgscope.index.CgroupIndex;
import io.cgscope.workload.WorkloadResolver;
import io.prometheus.client.Collector;
import io.prometheus.client.CounterMetricFamily;
import io.prometheus.client.GaugeMetricFamily;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The per-cgroup metrics, computed at scrape time from the BPF maps and the index: CPU time,
 * samples, context switches and the run-queue latency histogram, one series per {@code cgroup}
 * label (see {@link CgroupLabels} and {@link SeriesAggregator}); the BPF programs' own state and
 * cost; and this collector's health. {@link #collect()} never throws: a failure is counted in
 * {@code cgscope_scrape_errors_total} and the families that could be built are still returned.
 * Scrapes are serialized.
 */
public final class CgroupCollector extends Collector implements Collector.Describable {
    private static final Logger LOG = Logger.getLogger(CgroupCollector.class.getName());
    private static final List<String> PROGRAM = List.of("program");
    private static final List<String> MAP = List.of("map");

    /** A family this collector exports: its name, type and help, written once for collect() and describe(). */
    private record Family(String name, Type type, String help) {
        MetricFamilySamples withSamples(List<MetricFamilySamples.Sample> samples) {
            return new MetricFamilySamples(name, type, help, samples);
        }

        CounterMetricFamily counter(List<String> labels) {
            return new CounterMetricFamily(name, help, labels);
        }

        GaugeMetricFamily gauge(List<String> labels) {
            return new GaugeMetricFamily(name, help, labels);
        }
    }

    private static final Family CPU_SECONDS = new Family("cgscope_cgroup_cpu_seconds", Type.COUNTER,
            "CPU time of the cgroup's own tasks (not its descendants'), measured by BPF at every context"
                    + " switch and cpu-clock tick.");
    private static final Family CPU_SAMPLES = new Family("cgscope_cgroup_cpu_samples", Type.COUNTER,
            "cpu-clock samples that found one of the cgroup's tasks on a CPU (--bpf.sample-frequency per CPU).");
    private static final Family CONTEXT_SWITCHES = new Family("cgscope_cgroup_context_switches", Type.COUNTER,
            "Context switches of the cgroup's tasks (counted when a task is switched out).");
    private static final Family RUNQUEUE_LATENCY = new Family("cgscope_cgroup_runqueue_latency_seconds",
            Type.HISTOGRAM, "Time the cgroup's tasks waited on a run queue before running: from wake-up (or"
                    + " preemption) to the context switch that ran them.");
    private static final Family INFO = new Family("cgscope_cgroup_info", Type.GAUGE,
            "1 for each exported cgroup series, labelled with its workload: kind, Kubernetes namespace, pod,"
                    + " container, pod uid, container id, QoS class, runtime, systemd unit, image. Join on cgroup.");
    private static final Family UNRESOLVED_IDS = new Family("cgscope_cgroup_unresolved_ids", Type.GAUGE,
            "Cgroup ids in the BPF maps that the index cannot name (counted in cgroup=\"/unknown\").");
    private static final Family HELD_IDS = new Family("cgscope_cgroup_held_ids", Type.GAUGE,
            "Cgroup ids of new containers left out of this scrape while their names may still come"
                    + " (kubelet's log symlink follows the container's cgroup); at most 5 s each.");
    private static final Family MAP_UPDATE_FAILURES = new Family("cgscope_bpf_map_update_failures", Type.COUNTER,
            "Inserts into a BPF map that failed (a full map: raise --bpf.max-cgroups); each is a lost count.");
    private static final Family MAP_ENTRIES = new Family("cgscope_bpf_map_entries", Type.GAUGE,
            "Entries (cgroup ids) in each per-cgroup BPF map at this scrape.");
    private static final Family MAP_MAX_ENTRIES = new Family("cgscope_bpf_map_max_entries", Type.GAUGE,
            "Capacity of each per-cgroup BPF map (--bpf.max-cgroups).");
    private static final Family PROGRAM_UP = new Family("cgscope_bpf_program_up", Type.GAUGE,
            "1 when the BPF programs of this --bpf.programs entry are loaded and attached, 0 when they failed"
                    + " (the log says why).");
    private static final Family PROGRAM_RUN_SECONDS = new Family("cgscope_bpf_program_run_seconds", Type.COUNTER,
            "Time the kernel spent running this BPF program (counted while kernel.bpf_stats_enabled=1).");
    private static final Family PROGRAM_RUNS = new Family("cgscope_bpf_program_runs", Type.COUNTER,
            "Runs of this BPF program (counted while kernel.bpf_stats_enabled=1).");
    private static final Family SCRAPE_ERRORS = new Family("cgscope_scrape_errors", Type.COUNTER,
            "Scrapes of the cgroup metrics that failed, in whole or in part.");
    private static final Family SCRAPE_DURATION = new Family("cgscope_scrape_duration_seconds", Type.GAUGE,
            "Time this scrape of the cgroup metrics took (reading the BPF maps, naming, summing).");
    /** Every family, in the order collect() adds them; describe() lists these. */
    private static final List<Family> FAMILIES = List.of(CPU_SECONDS, CPU_SAMPLES, CONTEXT_SWITCHES,
            RUNQUEUE_LATENCY, INFO, UNRESOLVED_IDS, HELD_IDS, MAP_UPDATE_FAILURES, MAP_ENTRIES, MAP_MAX_ENTRIES, PROGRAM_UP,
            PROGRAM_RUN_SECONDS, PROGRAM_RUNS, SCRAPE_ERRORS, SCRAPE_DURATION);

    static final String RUNQ_NAME = RUNQUEUE_LATENCY.name();
    static final String INFO_NAME = INFO.name();
    private static final String RUNQ_BUCKET = RUNQ_NAME + "_bucket";
    private static final String RUNQ_COUNT = RUNQ_NAME + "_count";
    private static final String RUNQ_SUM = RUNQ_NAME + "_sum";

    private final CounterSource source;
    private final SeriesAggregator aggregator;
    private final RunqBuckets buckets;
    /** Each bucket's {@code le="..."}, as a sample writes it after its series' labels. */
    private final String[] leText;
    private final LongSupplier nanoTime;
    private final List<ProgramReport> others = new java.util.concurrent.CopyOnWriteArrayList<>();
    private long scrapeErrors;

    public CgroupCollector(CgroupIndex index, CounterSource source, Config config, WorkloadResolver workloads) {
        this(index, source, new SeriesKeys(workloads, new CgroupLabels(config.maxDepth(), config.include(),
                        config.exclude()), config.workloadLabels(), config.rollUp()),
                RunqBuckets.of(config.runqlatBuckets()), config.retention(), System::nanoTime);
    }

    /** Test seam: labels (paths only: no workload labels, no roll-up), buckets and the clock given. */
    CgroupCollector(CgroupIndex index, CounterSource source, CgroupLabels labels, RunqBuckets buckets,
                    Duration unresolvedRetention, LongSupplier nanoTime) {
        this(index, source, SeriesKeys.plain(labels), buckets, unresolvedRetention, nanoTime);
    }

    /** Test seam: the series' keys (workloads, roll-up, labels) given. */
    CgroupCollector(CgroupIndex index, CounterSource source, SeriesKeys keys, RunqBuckets buckets,
                    Duration unresolvedRetention, LongSupplier nanoTime) {
        this.source = source;
        this.buckets = buckets;
        this.leText = new String[buckets.size()];
        for (int b = 0; b < leText.length; b++) {
            leText[b] = ExpositionWriter.labelText(List.of("le"), List.of(buckets.le(b)));
        }
        this.nanoTime = nanoTime;
        this.aggregator = new SeriesAggregator(index, keys, unresolvedRetention, nanoTime);
    }

    /**
     * Adds BPF programs loaded apart from the companion (the OOM kill program) to
     * {@code cgscope_bpf_program_up} and {@code cgscope_bpf_map_update_failures_total}.
     */
    public void report(ProgramReport programs) {
        others.add(programs);
    }

    @Override
    public synchronized List<MetricFamilySamples> collect() {
        long t0 = System.nanoTime();
        List<MetricFamilySamples> out = new ArrayList<>();
        boolean failed = false;
        Map<Feature, CounterSource.Status> status = Map.of();
        try {
            status = source.status();
            CounterSource.Counters counters = source.read();
            Map<SeriesKey, SeriesAggregator.Series> series = aggregator.aggregate(counters.tables(), source);
            cgroupFamilies(series.values(), counters.up(), out);
            MetricFamilySamples info = info(series.values());
            if (!info.samples.isEmpty()) {
                out.add(info);
            }
            GaugeMetricFamily unresolved = UNRESOLVED_IDS.gauge(List.of());
            unresolved.addMetric(List.of(), aggregator.unresolvedIds());
            out.add(unresolved);
            GaugeMetricFamily held = HELD_IDS.gauge(List.of());
            held.addMetric(List.of(), aggregator.heldIds());
            out.add(held);
            mapFamilies(counters, out);
        } catch (Exception | LinkageError e) {
            failed = true;
            LOG.log(Level.FINE, "scrape failed", e);
            if (scrapeErrors == 0) {
                LOG.warning("cgroup metrics scrape failed (counted in cgscope_scrape_errors_total): " + e);
            }
        }
        try {
            programFamilies(status, out);
        } catch (RuntimeException e) {
            failed = true;
        }
        if (failed) {
            scrapeErrors++;
        }
        CounterMetricFamily errors = SCRAPE_ERRORS.counter(List.of());
        errors.addMetric(List.of(), scrapeErrors);
        out.add(errors);
        GaugeMetricFamily duration = SCRAPE_DURATION.gauge(List.of());
        duration.addMetric(List.of(), (System.nanoTime() - t0) / 1e9);
        out.add(duration);
        return out;
    }

    /*
     * The per-cgroup families are built here rather than with CounterMetricFamily.addMetric, which
     * concatenates the sample name ("_total") once per sample: with 10k cgroups, constant names
     * and one shared label list per series keep a scrape's allocations to the samples themselves.
     * Their samples carry their series' labels already escaped (SeriesSample), which the
     * ExpositionWriter copies.
     */
    private void cgroupFamilies(Collection<SeriesAggregator.Series> series, Collection<Feature> up,
                                List<MetricFamilySamples> out) {
        counter(series, up, Feature.CPU, SeriesAggregator.CPU, 1e9, CPU_SECONDS, out);
        counter(series, up, Feature.SAMPLES, SeriesAggregator.SAMPLES, 1, CPU_SAMPLES, out);
        counter(series, up, Feature.SWITCHES, SeriesAggregator.SWITCHES, 1, CONTEXT_SWITCHES, out);
        if (up.contains(Feature.RUNQLAT)) {
            out.add(runqueueLatency(series));
        }
    }

    private static void counter(Collection<SeriesAggregator.Series> series, Collection<Feature> up, Feature f,
                                int word, double divisor, Family family, List<MetricFamilySamples> out) {
        if (!up.contains(f)) {
            return;
        }
        String sampleName = family.name() + "_total";
        List<MetricFamilySamples.Sample> samples = new ArrayList<>(series.size());
        for (SeriesAggregator.Series s : series) {
            if (s.has(f)) {
                samples.add(new SeriesSample(sampleName, s.labelNames, s.labelValues, s.v[word] / divisor,
                        s.key.labelText, null));
            }
        }
        // simpleclient's constructor copies each sample of a counter into a new Sample (an object per
        // sample, and the SeriesSample lost); the list it keeps is its own ArrayList: filled after
        MetricFamilySamples counter = family.withSamples(new ArrayList<>(0));
        counter.samples.addAll(samples);
        out.add(counter);
    }

    private MetricFamilySamples runqueueLatency(Collection<SeriesAggregator.Series> series) {
        int n = buckets.size();
        List<MetricFamilySamples.Sample> samples = new ArrayList<>(series.size() * (n + 2));
        long[] counts = new long[n];
        for (SeriesAggregator.Series s : series) {
            if (!s.has(Feature.RUNQLAT)) {
                continue;
            }
            buckets.cumulate(s.v, SeriesAggregator.RUNQ, counts);
            List<String> namesLe = s.key.namesLe;
            String labels = s.key.labelText;
            for (int b = 0; b < n; b++) {
                samples.add(new SeriesSample(RUNQ_BUCKET, namesLe, s.key.valuesWith(buckets.le(b)), counts[b], labels,
                        leText[b]));
            }
            samples.add(new SeriesSample(RUNQ_COUNT, s.labelNames, s.labelValues, counts[n - 1], labels, null));
            samples.add(new SeriesSample(RUNQ_SUM, s.labelNames, s.labelValues,
                    s.v[SeriesAggregator.RUNQ + BpfMaps.RUNQ_SLOTS] / 1e9, labels, null));
        }
        return RUNQUEUE_LATENCY.withSamples(samples);
    }

    /**
     * {@code cgscope_cgroup_info}: 1 for every series exported, with its cgroup's whole workload
     * (empty values where it has none), as it was when the series was first exported.
     */
    private static MetricFamilySamples info(Collection<SeriesAggregator.Series> series) {
        List<MetricFamilySamples.Sample> samples = new ArrayList<>(series.size());
        for (SeriesAggregator.Series s : series) {
            if (s.present != 0 && s.key.info != null) {
                samples.add(new SeriesSample(INFO_NAME, SeriesKeys.INFO_LABELS, s.key.info, 1, s.key.infoText, null));
            }
        }
        return INFO.withSamples(samples);
    }

    private void mapFamilies(CounterSource.Counters counters, List<MetricFamilySamples> out) {
        CounterMetricFamily failures = MAP_UPDATE_FAILURES.counter(MAP);
        counters.updateFailures().forEach((map, n) -> failures.addMetric(List.of(map), n));
        for (ProgramReport r : others) {
            r.updateFailures().forEach((map, n) -> failures.addMetric(List.of(map), n));
        }
        out.add(failures);
        GaugeMetricFamily entries = MAP_ENTRIES.gauge(MAP);
        GaugeMetricFamily capacity = MAP_MAX_ENTRIES.gauge(MAP);
        for (Map.Entry<String, MapTable> e : counters.tables().entrySet()) {
            entries.addMetric(List.of(e.getKey()), e.getValue().size());
            capacity.addMetric(List.of(e.getKey()), source.maxEntries());
        }
        out.add(entries);
        out.add(capacity);
    }

    private void programFamilies(Map<Feature, CounterSource.Status> status, List<MetricFamilySamples> out) {
        GaugeMetricFamily up = PROGRAM_UP.gauge(PROGRAM);
        status.forEach((f, s) -> up.addMetric(List.of(f.label()), s.up() ? 1 : 0));
        for (ProgramReport r : others) {
            r.programs().forEach((p, s) -> up.addMetric(List.of(p), s.up() ? 1 : 0));
        }
        out.add(up);
        Map<String, CounterSource.RunStats> stats = source.runStats();
        if (stats.isEmpty()) {
            return;
        }
        CounterMetricFamily seconds = PROGRAM_RUN_SECONDS.counter(PROGRAM);
        CounterMetricFamily runs = PROGRAM_RUNS.counter(PROGRAM);
        stats.forEach((program, s) -> {
            seconds.addMetric(List.of(program), s.runTimeNs() / 1e9);
            runs.addMetric(List.of(program), s.runCount());
        });
        out.add(seconds);
        out.add(runs);
    }

    /** The families, without samples, from the one list ({@link #FAMILIES}). */
    @Override
    public List<MetricFamilySamples> describe() {
        List<MetricFamilySamples> out = new ArrayList<>(FAMILIES.size());
        for (Family f : FAMILIES) {
            out.add(f.withSamples(List.of()));
        }
        return out;
    }
}
