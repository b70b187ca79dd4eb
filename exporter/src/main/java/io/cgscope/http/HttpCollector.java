package io.cgscope.http;

import io.prometheus.client.Collector;
import io.prometheus.client.CounterMetricFamily;
import io.prometheus.client.GaugeMetricFamily;

import java.util.List;

/** The HTTP API's own metrics: event streams open, started, refused, dropped and reset. Never throws. */
final class HttpCollector extends Collector implements Collector.Describable {
    private final EventStreams streams;

    HttpCollector(EventStreams streams) {
        this.streams = streams;
    }

    @Override
    public List<MetricFamilySamples> collect() {
        return List.of(
                new GaugeMetricFamily("cgscope_http_event_streams",
                        "Open /events streams.", streams.open()),
                new CounterMetricFamily("cgscope_http_event_streams_started_total",
                        "/events streams started.", streams.started.sum()),
                new CounterMetricFamily("cgscope_http_event_streams_rejected_total",
                        "/events requests refused with 503 because --web.max-streams streams were open.",
                        streams.rejected.sum()),
                new CounterMetricFamily("cgscope_http_event_streams_dropped_total",
                        "/events streams closed by cgscope because the client did not keep up.",
                        streams.dropped.sum()),
                new CounterMetricFamily("cgscope_http_event_stream_resets_total",
                        "event: reset messages sent: a client missed events (resumed too late, or fell behind).",
                        streams.resets.sum()));
    }

    @Override
    public List<MetricFamilySamples> describe() {
        return collect();
    }
}
