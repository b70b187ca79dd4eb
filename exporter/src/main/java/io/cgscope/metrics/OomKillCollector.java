package io.cgscope.metrics;

import io.cgscope.bpf.MapTable;
import io.cgscope.bpf.OomKillCounts;
import io.cgscope.index.CgroupIndex;
import io.prometheus.client.Collector;
import io.prometheus.client.CounterMetricFamily;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;
import java.util.logging.Logger;

/**
 * {@code cgscope_cgroup_oom_kills_total{cgroup}}: OOM kills by the victim's cgroup, counted by
 * the OOM kill program in the kernel and named and kept monotonic by a {@link SeriesAggregator},
 * like the other BPF counters: a kill in a container removed right after it still counts for its
 * path through the retention, and a path created again counts on from there. Absent while the
 * program is down. Never throws.
 */
public final class OomKillCollector extends Collector implements Collector.Describable {
    private static final Logger LOG = Logger.getLogger(OomKillCollector.class.getName());
    private static final String MAP = "oom_kills";

    private final OomKillCounts counts;
    private final SeriesAggregator aggregator;
    private long errors;

    /**
     * The agent's: the series are those of the BPF counters (the same {@code --metrics.workload-labels},
     * {@code --cgroup.roll-up} and filters: a pod's kills add up like its CPU time).
     */
    public OomKillCollector(CgroupIndex index, OomKillCounts counts, io.cgscope.config.Config config,
                            io.cgscope.workload.WorkloadResolver workloads) {
        this(index, counts, new SeriesKeys(workloads, new CgroupLabels(config.maxDepth(), config.include(),
                config.exclude()), config.workloadLabels(), config.rollUp()), config.retention(), System::nanoTime);
    }

    /** Plain {@code cgroup} labels (tests). */
    public OomKillCollector(CgroupIndex index, OomKillCounts counts, CgroupLabels labels, Duration retention) {
        this(index, counts, SeriesKeys.plain(labels), retention, System::nanoTime);
    }

    OomKillCollector(CgroupIndex index, OomKillCounts counts, CgroupLabels labels, Duration retention,
                     LongSupplier nanoTime) {
        this(index, counts, SeriesKeys.plain(labels), retention, nanoTime);
    }

    private OomKillCollector(CgroupIndex index, OomKillCounts counts, SeriesKeys keys, Duration retention,
                             LongSupplier nanoTime) {
        this.counts = counts;
        this.aggregator = new SeriesAggregator(index, new SeriesAggregator.Layout(
                List.of(new SeriesAggregator.Table(MAP, 1))), keys, retention, nanoTime);
    }

    @Override
    public synchronized List<MetricFamilySamples> collect() {
        List<MetricFamilySamples> out = new ArrayList<>();
        if (!counts.up()) {
            return out;
        }
        try {
            MapTable table = counts.read();
            Map<SeriesKey, SeriesAggregator.Series> series = aggregator.aggregate(Map.of(MAP, table), counts::delete);
            List<MetricFamilySamples.Sample> samples = new ArrayList<>(series.size());
            for (SeriesAggregator.Series s : series.values()) {
                if (s.has(0)) {
                    samples.add(new MetricFamilySamples.Sample("cgscope_cgroup_oom_kills_total", s.labelNames, s.labelValues,
                            s.v[0]));
                }
            }
            out.add(new MetricFamilySamples("cgscope_cgroup_oom_kills", Type.COUNTER,
                    "Processes the kernel's OOM killer killed, by the cgroup they were in (oom:mark_victim, counted by"
                            + " BPF).", samples));
            out.add(new CounterMetricFamily("cgscope_bpf_oom_records_lost",
                    "OOM kill records the ring buffer had no room for: counted in cgscope_cgroup_oom_kills_total, missing"
                            + " from /events.", counts.lostRecords()));
        } catch (Exception | LinkageError e) {
            if (errors++ == 0) {
                LOG.warning("OOM kill metrics failed (logged once): " + e);
            }
        }
        return out;
    }

    @Override
    public List<MetricFamilySamples> describe() {
        return List.of(new CounterMetricFamily("cgscope_cgroup_oom_kills", "cgscope_cgroup_oom_kills", List.of()),
                new CounterMetricFamily("cgscope_bpf_oom_records_lost", "cgscope_bpf_oom_records_lost", List.of()));
    }
}
