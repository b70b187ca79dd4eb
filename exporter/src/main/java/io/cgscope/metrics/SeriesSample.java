package io.cgscope.metrics;

import io.prometheus.client.Collector.MetricFamilySamples.Sample;

import java.util.List;

/**
 * A sample of a per-cgroup series that carries its labels already written out
 * ({@link SeriesKey#labelText}, shared by every sample of the series, scrape after scrape), so
 * that {@link ExpositionWriter} copies them instead of escaping them character by character. It is
 * still a whole simpleclient {@link Sample}: whatever reads the names and values sees the same.
 */
final class SeriesSample extends Sample {
    /** {@code name="value",...}, escaped; what goes between the braces. */
    final String labelText;
    /** One more label written after it ({@code le="0.001"}, escaped), or null. */
    final String extraText;

    SeriesSample(String name, List<String> labelNames, List<String> labelValues, double value, String labelText,
                 String extraText) {
        super(name, labelNames, labelValues, value);
        this.labelText = labelText;
        this.extraText = extraText;
    }
}
