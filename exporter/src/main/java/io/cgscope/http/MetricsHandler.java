package io.cgscope.http;

import io.cgscope.metrics.ExpositionWriter;
import io.prometheus.client.Collector;
import io.prometheus.client.CollectorRegistry;
import io.prometheus.client.exporter.common.TextFormat;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.RoutingContext;

import java.util.Enumeration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * {@code GET /metrics}, as simpleclient's reference HTTP handler serves it: OpenMetrics or text
 * 0.0.4 chosen from {@code Accept}, {@code name[]} filters, HEAD; gzip comes from the server when
 * the client asks for it. Collecting reads BPF maps and walks the index, so it never runs on the
 * event loop.
 */
final class MetricsHandler {
    private final CollectorRegistry registry;
    /** Grows to the size of the last scrape, so a big exposition is not built by repeated doubling. */
    private volatile int lastSize = 16 * 1024;

    MetricsHandler(CollectorRegistry registry) {
        this.registry = registry;
    }

    void handle(RoutingContext ctx) {
        String contentType = TextFormat.chooseContentType(ctx.request().getHeader("Accept"));
        Set<String> names = names(ctx);
        ctx.vertx().executeBlocking(() -> scrape(contentType, names), false).onComplete(ar -> {
            if (ar.failed()) {
                ctx.fail(ar.cause());
            } else {
                Responses.send(ctx, contentType, ar.result());
            }
        });
    }

    private static Set<String> names(RoutingContext ctx) {
        List<String> given;
        try {
            given = ctx.queryParam("name[]");
        } catch (RuntimeException e) {
            throw Errors.badRequest("malformed query string");
        }
        return given.isEmpty() ? null : new HashSet<>(given);
    }

    private Buffer scrape(String contentType, Set<String> names) {
        Enumeration<Collector.MetricFamilySamples> samples = names == null
                ? registry.metricFamilySamples()
                : registry.filteredMetricFamilySamples(names);
        // as TextFormat.writeFormat, faster for the per-cgroup families (ExpositionWriter)
        StringBuilder text = ExpositionWriter.write(contentType, samples, lastSize);
        lastSize = Math.max(16 * 1024, text.length() + text.length() / 8);
        return Buffer.buffer(text.toString());
    }
}
