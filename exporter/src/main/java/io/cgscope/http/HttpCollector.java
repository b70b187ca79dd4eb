package io.cgscope.http;

import io.prometheus.client.Collector;
import io.prometheus.client.CounterMetricFamily;
import io.prometheus.client.GaugeMetricFamily;

import java.util.List;
import java.util.concurrent.atomic.LongAdder;

/**
 * The HTTP API's own metrics: event streams open, started, refused, dropped and reset; requests
 * refused by basic auth; failed TLS handshakes. Never throws.
 */
final class HttpCollector extends Collector implements Collector.Describable {
    private final EventStreams streams;
    /** 401s sent by {@link BasicAuth}. */
    final LongAdder authRefused = new LongAdder();
    /** Connections that failed before HTTP: TLS handshakes (a plain HTTP client on the TLS port, say). */
    final LongAdder tlsFailures = new LongAdder();

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
                        streams.resets.sum()),
                new CounterMetricFamily("cgscope_http_auth_refused_total",
                        "Requests refused with 401 by basic auth (no, malformed or wrong credentials).",
                        authRefused.sum()),
                new CounterMetricFamily("cgscope_http_tls_handshake_errors_total",
                        "Connections closed because their TLS handshake failed (e.g. plain HTTP to the TLS port).",
                        tlsFailures.sum()));
    }

    @Override
    public List<MetricFamilySamples> describe() {
        return collect();
    }
}
