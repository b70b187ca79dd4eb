package io.cgscope.http;

import io.cgscope.config.WebConfig;
import io.cgscope.index.CgroupIndex;
import io.cgscope.index.HierarchyIndexes;
import io.cgscope.workload.WorkloadResolver;
import io.prometheus.client.CollectorRegistry;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

import java.util.concurrent.atomic.LongAdder;

/** The routes: wiring only; the handlers live in their own classes. */
final class Api {
    /** No endpoint takes a request body; a client announcing a big one is refused before it is read. */
    static final long MAX_BODY = 64 * 1024;

    private final String telemetryPath;
    private final MetricsHandler metrics;
    private final CgroupHandlers cgroups;
    private HierarchyIndexes hierarchies;
    private final StatusPages pages;
    private final EventStreams streams;
    private final WebConfig web;
    private final LongAdder authRefused;
    private final TopHandler top;

    /** {@code web}: null, or the web config whose {@code basic_auth_users} guard every route. */
    Api(CgroupIndex index, WorkloadResolver workloads, CollectorRegistry registry, String telemetryPath,
        EventStreams streams, WebConfig web, LongAdder authRefused, TopHandler top) {
        this.top = top;
        this.web = web;
        this.authRefused = authRefused;
        this.telemetryPath = telemetryPath;
        this.metrics = new MetricsHandler(registry);
        this.cgroups = new CgroupHandlers(index, workloads);
        this.pages = new StatusPages(index);
        this.streams = streams;
    }

    /** Every hierarchy's index: {@code ?hierarchy=} and {@code /hierarchies}. */
    void hierarchies(HierarchyIndexes all) {
        this.hierarchies = all;
        cgroups.hierarchies(all);
    }

    Router router(Vertx vertx) {
        Router r = Router.router(vertx);
        Errors.install(r);
        r.route().handler(SecurityHeaders::add);
        r.route().handler(Api::refuseBodies);
        if (web != null && web.basicAuth()) {
            r.route().handler(new BasicAuth(vertx, web, authRefused)::handle);
        }
        get(r, telemetryPath, metrics::handle);
        PageFiles page = new PageFiles();
        get(r, "/", page::index);
        get(r, "/static/:file", page::file);
        get(r, "/api/top", top::handle);
        get(r, "/healthz", pages::health);
        get(r, "/cgroup/:id", cgroups::byId);
        get(r, "/cgroup", cgroups::byPath);
        get(r, "/cgroups", cgroups::list);
        get(r, "/pods", cgroups::pods);
        get(r, "/hierarchies", ctx -> {
            Query.of(ctx, java.util.Set.of());
            Responses.json(ctx, Json.hierarchies(hierarchies));
        });
        get(r, "/events", streams::handle);
        r.route().failureHandler(Errors::failure);
        return r;
    }

    private static void get(Router r, String path, Handler<RoutingContext> handler) {
        r.route(path).method(HttpMethod.GET).method(HttpMethod.HEAD).handler(handler);
    }

    /**
     * No endpoint takes a body. One announced over {@link #MAX_BODY} is refused at once (413). A
     * smaller one is read to its end before routing goes on: answering before the request has
     * ended makes Vert.x close the connection after the response, without saying so, and a client
     * that reused it for its next request would get nothing back.
     */
    private static void refuseBodies(RoutingContext ctx) {
        HttpServerRequest request = ctx.request();
        String length = request.getHeader("Content-Length");
        String te = request.getHeader("Transfer-Encoding");
        boolean chunked = te != null;
        if (chunked && !te.strip().toLowerCase(java.util.Locale.ROOT).endsWith("chunked")) {
            // RFC 9112 6.3: the body's end cannot be known; answer 400 and close.
            ctx.response().putHeader("Connection", "close");
            Errors.send(ctx.response(), 400, "unsupported Transfer-Encoding: the last coding must be chunked");
            return;
        }
        long n = 0;
        if (length != null) {
            try {
                n = Long.parseLong(length.strip());
            } catch (NumberFormatException e) {
                n = Long.MAX_VALUE; // the decoder let it through: treat as too big
            }
        }
        if (n > MAX_BODY) {
            Errors.send(ctx.response(), 413, "request body too large; this API takes no bodies");
            return;
        }
        if (n <= 0 && !chunked || request.isEnded()) {
            ctx.next();
            return;
        }
        long[] seen = {0};
        request.handler(buf -> {
            seen[0] += buf.length();
            if (seen[0] > MAX_BODY && !ctx.response().ended()) {
                ctx.response().putHeader("Connection", "close");
                Errors.send(ctx.response(), 413, "request body too large; this API takes no bodies");
            }
        });
        request.endHandler(v -> {
            if (!ctx.response().ended()) {
                ctx.next();
            }
        });
        request.resume();
    }
}
