package io.cgscope.metrics;

import io.prometheus.client.Collector;

import java.util.List;

/** Finds samples in a collector's output, for assertions. */
final class MetricsText {
    private MetricsText() {
    }

    /** The value of the sample with this name and these label pairs (name, value, ...), or null. */
    static Double value(List<Collector.MetricFamilySamples> families, String sample, String... labels) {
        for (Collector.MetricFamilySamples f : families) {
            for (Collector.MetricFamilySamples.Sample s : f.samples) {
                if (!s.name.equals(sample) || s.labelNames.size() != labels.length / 2) {
                    continue;
                }
                boolean match = true;
                for (int i = 0; i < labels.length; i += 2) {
                    int at = s.labelNames.indexOf(labels[i]);
                    if (at < 0 || !s.labelValues.get(at).equals(labels[i + 1])) {
                        match = false;
                        break;
                    }
                }
                if (match) {
                    return s.value;
                }
            }
        }
        return null;
    }

    /** The label values of {@code label} over all samples of this name. */
    static List<String> labelValues(List<Collector.MetricFamilySamples> families, String sample, String label) {
        return families.stream().flatMap(f -> f.samples.stream())
                .filter(s -> s.name.equals(sample))
                .map(s -> s.labelValues.get(s.labelNames.indexOf(label)))
                .toList();
    }
}
