package io.cgscope.http;

import io.prometheus.client.Collector;
import io.prometheus.client.CounterMetricFamily;
import io.prometheus.client.GaugeMetricFamily;

import java.util.List;
import java.util.concurrent.atomic.LongAdder;

/**
 * The HTTP API's own metrics: event streams open, started, refused, dropped and reset; requests
 * refused by basic auth; failed TLS handshakes; connections open and closed by cgscope, the cap,
 * refused accepts. Never throws.
 */
final class HttpCollector extends Collector implements Collector.Describable {
    private final EventStreams streams;
    private final Connections connections;
    private final AcceptErrors acceptErrors;
    /** 401s sent by {@link BasicAuth}. */
    final LongAdder authRefused = new LongAdder();
    /** Connections that failed before HTTP: TLS handshakes (a plain HTTP client on the TLS port, say). */
    final LongAdder tlsFailures = new LongAdder();

    HttpCollector(EventStreams streams, Connections connections, AcceptErrors acceptErrors) {
        this.streams = streams;
        this.connections = connections;
        this.acceptErrors = acceptErrors;
    }

    @Override
    public List<MetricFamilySamples> collect() {
        CounterMetricFamily closed = new CounterMetricFamily("cgscope_http_connections_closed_total",
                "Connections cgscope closed, by reason: header_timeout (no complete request within"
                        + " --web.read-header-timeout), idle (--web.idle-timeout between requests), evicted (the"
                        + " oldest without a request in progress, for a new one at the cap), limit (a new one at the"
                        + " cap, every other busy).", List.of("reason"));
        for (Connections.Reason r : Connections.Reason.values()) {
            closed.addMetric(List.of(r.label), connections.closed(r));
        }
        CounterMetricFamily refused = new CounterMetricFamily("cgscope_http_accept_errors_total",
                "Accepts the kernel refused (EMFILE: out of file descriptors), by errno; accepting pauses briefly.",
                List.of("errno"));
        acceptErrors.byErrno().forEach((errno, n) -> refused.addMetric(List.of(errno), n.sum()));
        return List.of(
                new GaugeMetricFamily("cgscope_http_connections", "Open HTTP connections.", connections.open()),
                new GaugeMetricFamily("cgscope_http_max_connections",
                        "Most HTTP connections allowed now: --web.max-connections, or fewer when RLIMIT_NOFILE leaves"
                                + " less after the fds kept in reserve.", connections.budget().cap()),
                closed,
                refused,
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
