package io.cgscope.metrics;

import io.cgscope.workload.BundleReader;
import io.cgscope.workload.Bundles;
import io.prometheus.client.Collector;
import io.prometheus.client.CounterMetricFamily;
import io.prometheus.client.GaugeMetricFamily;

import java.util.ArrayList;
import java.util.List;

/** The workload bundles' own metrics: reads, errors by reason, bundles kept. */
public final class WorkloadCollector extends Collector implements Collector.Describable {
    private final Bundles bundles;

    public WorkloadCollector(Bundles bundles) {
        this.bundles = bundles;
    }

    @Override
    public List<MetricFamilySamples> collect() {
        List<MetricFamilySamples> out = new ArrayList<>(3);
        CounterMetricFamily errors = new CounterMetricFamily("cgscope_workload_bundle_errors",
                "Container OCI bundles that gave no names, by reason: missing (no config.json in"
                        + " --workload.runtime-dirs), unreadable (permissions, I/O), malformed (not a spec); the"
                        + " container keeps what its cgroup path says.", List.of("reason"));
        bundles.failures().forEach((f, n) -> errors.addMetric(List.of(f.label()), n));
        out.add(errors);
        out.add(new CounterMetricFamily("cgscope_workload_bundle_reads",
                "Container OCI bundles read (once per container), successful or not.", bundles.reads()));
        out.add(new GaugeMetricFamily("cgscope_workload_bundles",
                "Containers whose bundle (or its failure) is kept: until all their cgroups left the index.",
                bundles.size()));
        return out;
    }

    @Override
    public List<MetricFamilySamples> describe() {
        return List.of(
                new CounterMetricFamily("cgscope_workload_bundle_errors", "", List.of("reason")),
                new CounterMetricFamily("cgscope_workload_bundle_reads", "", List.of()),
                new GaugeMetricFamily("cgscope_workload_bundles", "", List.of()));
    }

    /** The reasons, for documentation and tests. */
    static List<String> reasons() {
        List<String> out = new ArrayList<>();
        for (BundleReader.Failure f : BundleReader.Failure.values()) {
            out.add(f.label());
        }
        return out;
    }
}
