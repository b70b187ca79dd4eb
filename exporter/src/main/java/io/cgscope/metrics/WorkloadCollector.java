package io.cgscope.metrics;

import io.cgscope.workload.BundleReader;
import io.cgscope.workload.Bundles;
import io.cgscope.workload.KubeletLogs;
import io.cgscope.workload.WorkloadResolver;
import io.prometheus.client.Collector;
import io.prometheus.client.CounterMetricFamily;
import io.prometheus.client.GaugeMetricFamily;

import java.util.ArrayList;
import java.util.List;

/**
 * The workload names' own metrics: bundles read, errors by reason, bundles kept; kubelet's log
 * directories listed, errors by reason, names kept.
 */
public final class WorkloadCollector extends Collector implements Collector.Describable {
    private final Bundles bundles;
    private final KubeletLogs logs;

    public WorkloadCollector(WorkloadResolver workloads) {
        this.bundles = workloads.bundles();
        this.logs = workloads.logs();
    }

    @Override
    public List<MetricFamilySamples> collect() {
        List<MetricFamilySamples> out = new ArrayList<>(6);
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
        CounterMetricFamily logErrors = new CounterMetricFamily("cgscope_workload_log_name_errors",
                "Names kubelet's log files did not give, by reason: missing (a pod's container or pod with no"
                        + " symlink in --workload.container-logs-dir or directory in --workload.pod-logs-dir within 5 s:"
                        + " sandboxes have none), unreadable (the directory could not be listed), malformed (a file"
                        + " name that is not kubelet's), truncated (a symlink name kubelet cut at 255 bytes).",
                List.of("reason"));
        logs.failures().forEach((f, n) -> logErrors.addMetric(List.of(f.label()), n));
        out.add(logErrors);
        out.add(new CounterMetricFamily("cgscope_workload_log_listings",
                "Listings of kubelet's log directories (while a name is wanted, and the directory changed).",
                logs.listings()));
        out.add(new GaugeMetricFamily("cgscope_workload_log_names",
                "Containers and pods whose log names (or their absence) are kept: until all their cgroups left the"
                        + " index.", logs.size()));
        return out;
    }

    @Override
    public List<MetricFamilySamples> describe() {
        return List.of(
                new CounterMetricFamily("cgscope_workload_bundle_errors", "", List.of("reason")),
                new CounterMetricFamily("cgscope_workload_bundle_reads", "", List.of()),
                new GaugeMetricFamily("cgscope_workload_bundles", "", List.of()),
                new CounterMetricFamily("cgscope_workload_log_name_errors", "", List.of("reason")),
                new CounterMetricFamily("cgscope_workload_log_listings", "", List.of()),
                new GaugeMetricFamily("cgscope_workload_log_names", "", List.of()));
    }

    /** The reasons, for documentation and tests. */
    static List<String> reasons() {
        List<String> out = new ArrayList<>();
        for (BundleReader.Failure f : BundleReader.Failure.values()) {
            out.add(f.label());
        }
        return out;
    }

    /** The log names' reasons, for documentation and tests. */
    static List<String> logReasons() {
        List<String> out = new ArrayList<>();
        for (KubeletLogs.Failure f : KubeletLogs.Failure.values()) {
            out.add(f.label());
        }
        return out;
    }
}
