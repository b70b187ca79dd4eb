package io.cgscope.metrics;

import io.cgscope.BuildInfo;
import io.prometheus.client.Collector;
import io.prometheus.client.GaugeMetricFamily;

import java.util.List;

/** {@code cgscope_build_info{version,revision} 1}. */
public final class BuildInfoCollector extends Collector implements Collector.Describable {
    private final BuildInfo build;

    public BuildInfoCollector(BuildInfo build) {
        this.build = build;
    }

    @Override
    public List<MetricFamilySamples> collect() {
        return describe();
    }

    @Override
    public List<MetricFamilySamples> describe() {
        GaugeMetricFamily info = new GaugeMetricFamily("cgscope_build_info",
                "A metric with a constant 1 labelled by the version and git revision of cgscope.",
                List.of("version", "revision"));
        info.addMetric(List.of(build.version(), build.revision()), 1);
        return List.of(info);
    }
}
