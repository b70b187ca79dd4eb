package io.cgscope.metrics;

import io.cgscope.lifecycle.CrossCheck;
import io.prometheus.client.Collector;
import io.prometheus.client.CounterMetricFamily;
import io.prometheus.client.GaugeMetricFamily;

import java.util.List;
import java.util.function.LongSupplier;

/**
 * {@code --cgroup.index-mode=crosscheck}: how many cgroup ids fanotify and the BPF lifecycle
 * programs both learned, and how many only one of them did. Reads counts only; never throws.
 */
public final class CrossCheckCollector extends Collector implements Collector.Describable {
    private final CrossCheck tally;
    private final LongSupplier bpfLost;

    public CrossCheckCollector(CrossCheck tally, LongSupplier bpfLost) {
        this.tally = tally;
        this.bpfLost = bpfLost;
    }

    @Override
    public List<MetricFamilySamples> collect() {
        CrossCheck.Counts c = tally.counts();
        CounterMetricFamily ids = new CounterMetricFamily("cgscope_index_crosscheck_ids",
                "Cgroup ids made since the crosscheck began, settled 5 s after their first sighting: seen by both"
                        + " fanotify and BPF (seen_by both), or by one of them only.", List.of("seen_by"));
        ids.addMetric(List.of("both"), c.both());
        ids.addMetric(List.of("fanotify_only"), c.fanotifyOnly());
        ids.addMetric(List.of("bpf_only"), c.bpfOnly());
        return List.of(ids,
                new GaugeMetricFamily("cgscope_index_crosscheck_pending_ids",
                        "Ids seen by one side or both and not settled yet (within 5 s of their first sighting).",
                        c.pending()),
                new CounterMetricFamily("cgscope_index_crosscheck_bpf_lost_records",
                        "Lifecycle records the BPF side lost to a full ring (their ids count as fanotify only).",
                        bpfLost.getAsLong()));
    }

    @Override
    public List<MetricFamilySamples> describe() {
        return collect();
    }
}
