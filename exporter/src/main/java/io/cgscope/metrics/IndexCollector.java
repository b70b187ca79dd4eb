package io.cgscope.metrics;

import io.cgscope.index.CgroupIndex;
import io.cgscope.index.IndexHealth;
import io.cgscope.index.IndexHealth.Counter;
import io.prometheus.client.Collector;
import io.prometheus.client.CounterMetricFamily;
import io.prometheus.client.GaugeMetricFamily;
import io.prometheus.client.SummaryMetricFamily;

import java.util.ArrayList;
import java.util.List;

/** The index's own health: size, events, overflows, re-syncs, lookups. Reads counters only; never throws. */
public final class IndexCollector extends Collector implements Collector.Describable {
    private final CgroupIndex index;

    private final String hierarchy;

    public IndexCollector(CgroupIndex index) {
        this(index, "unified");
    }

    /** @param hierarchy the name of the index's hierarchy, the label of {@code cgscope_index_info} */
    public IndexCollector(CgroupIndex index, String hierarchy) {
        this.index = index;
        this.hierarchy = hierarchy;
    }

    @Override
    public List<MetricFamilySamples> collect() {
        IndexHealth h = index.health();
        IndexHealth.Status status = h.status();
        List<MetricFamilySamples> out = new ArrayList<>();
        GaugeMetricFamily info = new GaugeMetricFamily("cgscope_index_info",
                "How the index follows the cgroup tree: mode is fanotify (fanotify events), bpf (the cgroup tracepoints"
                        + " through BPF) or sweep (periodic sweeps); hierarchy is the one whose cgroups name the metrics"
                        + " (--cgroup.hierarchy), which the other cgscope_index_* describe.",
                List.of("mode", "hierarchy"));
        info.addMetric(List.of(status.mode().label(), hierarchy), 1);
        out.add(info);
        GaugeMetricFamily following = new GaugeMetricFamily("cgscope_index_following",
                "1 while the index follows the kernel (what /healthz reports), 0 otherwise.",
                status.following() ? 1 : 0);
        out.add(following);
        GaugeMetricFamily cgroups = new GaugeMetricFamily("cgscope_index_cgroups",
                "Cgroups in the index: live ones, and dead ones retained for --cgroup.retention.", List.of("state"));
        cgroups.addMetric(List.of("live"), index.liveCount());
        cgroups.addMetric(List.of("dead"), index.deadCount());
        out.add(cgroups);
        out.add(counterOfTwo("cgscope_index_events", "Kernel events (fanotify, or BPF lifecycle records) applied to the index, by type.",
                "type", "create", h.get(Counter.CREATE_EVENTS), "delete", h.get(Counter.DELETE_EVENTS)));
        out.add(counterOfTwo("cgscope_index_child_ids",
                "How created cgroups' ids were found: one listing of the parent directory for a batch's CREATEs"
                        + " in it (method listing), or a lookup of each name (method lookup).",
                "method", "listing", h.get(Counter.CHILD_IDS_LISTED), "lookup", h.get(Counter.CHILD_IDS_LOOKED_UP)));
        out.add(new CounterMetricFamily("cgscope_index_overflows",
                "Events lost: fanotify queue overflows, or a BPF ring buffer found full (each triggers a re-sync).", h.get(Counter.OVERFLOWS)));
        out.add(new CounterMetricFamily("cgscope_index_lost_records",
                "Records the BPF index source's programs could not write because its ring was full (bpf mode).",
                h.get(Counter.LOST_RECORDS)));
        out.add(new CounterMetricFamily("cgscope_index_resyncs",
                "Re-sync sweeps after events may have been lost.", h.get(Counter.RESYNCS)));
        SummaryMetricFamily resync = new SummaryMetricFamily("cgscope_index_resync_duration_seconds",
                "Time spent in re-sync sweeps.", List.of());
        resync.addMetric(List.of(), h.get(Counter.RESYNCS), h.get(Counter.RESYNC_NANOS) / 1e9);
        out.add(resync);
        out.add(new GaugeMetricFamily("cgscope_index_last_sweep_duration_seconds",
                "Duration of the last full sweep of the cgroup tree (start-up, re-sync or sweep mode).",
                h.lastSweepNanos() / 1e9));
        out.add(new CounterMetricFamily("cgscope_index_unresolved",
                "Created cgroups whose id never arrived (their DELETE was lost to an overflow, or never came"
                        + " within the retention).", h.get(Counter.UNRESOLVED)));
        out.add(new CounterMetricFamily("cgscope_index_foreign_events",
                "Events of another file system than the cgroup2 root's, or BPF records of another hierarchy (ignored).", h.get(Counter.FOREIGN_EVENTS)));
        out.add(new CounterMetricFamily("cgscope_index_malformed_events",
                "fanotify events or BPF records that could not be parsed (ignored).", h.get(Counter.MALFORMED_EVENTS)));
        out.add(new CounterMetricFamily("cgscope_index_lookups",
                "Ids the index did not know that an on-demand kernel lookup found.", h.get(Counter.LOOKUPS)));
        out.add(new CounterMetricFamily("cgscope_index_lookup_failures",
                "Kernel lookups by id that could not be made: open_by_handle_at refused (no CAP_DAC_READ_SEARCH"
                        + " after --run-as) or failed; the id answers unknown until its event arrives.",
                h.get(Counter.LOOKUP_FAILURES)));
        out.add(counterOfTwo("cgscope_index_retention_ended",
                "Removed cgroups no longer kept: their --cgroup.retention ended (reason retention), or more than"
                        + " --cgroup.max-retained were kept and the oldest went first (reason budget).",
                "reason", "retention", h.get(Counter.RETENTION_EXPIRED), "budget", h.get(Counter.RETENTION_OVER_BUDGET)));
        out.add(new CounterMetricFamily("cgscope_index_reader_restarts",
                "Times the index's reader (fanotify or BPF) failed and restarted with a re-sync.", h.get(Counter.READER_RESTARTS)));
        return out;
    }

    /** A counter family with one label and two series: {@code label="a"} and {@code label="b"}. */
    private static CounterMetricFamily counterOfTwo(String name, String help, String label,
                                                    String a, double valueA, String b, double valueB) {
        CounterMetricFamily family = new CounterMetricFamily(name, help, List.of(label));
        family.addMetric(List.of(a), valueA);
        family.addMetric(List.of(b), valueB);
        return family;
    }

    @Override
    public List<MetricFamilySamples> describe() {
        return collect();
    }
}
