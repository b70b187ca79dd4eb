package io.cgscope.http;

import io.cgscope.BuildInfo;
import io.cgscope.index.CgroupIndex;
import io.prometheus.client.CollectorRegistry;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

import java.util.List;
import java.util.logging.Logger;

/** The routes: wiring only; the handlers live in their own classes. */
final class Api {
    private static final Logger LOG = Logger.getLogger(Api.class.getName());
    /** Paths the API owns; the telemetry path may not take one of them. */
    static final List<String> PATHS = List.of("/", "/healthz", "/cgroup", "/cgroups", "/events");
    /** No endpoint takes a request body; a client announcing a big one is refused before it is read. */
    static final long MAX_BODY = 64 * 1024;
    /**
     * Benchmark only: {@code -Dcgscope.bench.constant-id=<id>} adds {@code GET /bench/constant},
     * which answers the JSON of that cgroup, rendered once, as a constant body of the same size
     * as {@code /cgroup/<id>}: the reference route of {@code exporter/bench/}. Off by default.
     */
    static final String BENCH_PROPERTY = "cgscope.bench.constant-id";

    private final CgroupIndex index;
    private final String telemetryPath;
    private final MetricsHandler metrics;
    private final CgroupHandlers cgroups;
    private final StatusPages pages;
    private final EventStreams streams;

    Api(CgroupIndex index, CollectorRegistry registry, BuildInfo build, String telemetryPath, EventStreams streams) {
        this.index = index;
        this.telemetryPath = telemetryPath;
        this.metrics = new MetricsHandler(registry);
        this.cgroups = new CgroupHandlers(index);
        this.pages = new StatusPages(index, build, telemetryPath);
        this.streams = streams;
    }

    Router router(Vertx vertx) {
        Router r = Router.router(vertx);
        Errors.install(r);
        r.route().handler(Api::refuseBodies);
        get(r, telemetryPath, metrics::handle);
        get(r, "/", pages::home);
        get(r, "/healthz", pages::health);
        get(r, "/cgroup/:id", cgroups::byId);
        get(r, "/cgroup", cgroups::byPath);
        get(r, "/cgroups", cgroups::list);
        get(r, "/events", streams::handle);
        String benchId = System.getProperty(BENCH_PROPERTY);
        if (benchId != null) {
            get(r, "/bench/constant", constant(benchId));
            LOG.warning("benchmark route /bench/constant enabled (-D" + BENCH_PROPERTY + ")");
        }
        r.route().failureHandler(Errors::failure);
        return r;
    }

    private static void get(Router r, String path, Handler<RoutingContext> handler) {
        r.route(path).method(HttpMethod.GET).method(HttpMethod.HEAD).handler(handler);
    }

    private static void refuseBodies(RoutingContext ctx) {
        String length = ctx.request().getHeader("Content-Length");
        if (length != null) {
            long n;
            try {
                n = Long.parseLong(length.strip());
            } catch (NumberFormatException e) {
                n = Long.MAX_VALUE;
            }
            if (n > MAX_BODY) {
                // Refused at once; Vert.x reads and drops the body as for any route, and the
                // connection stays usable. (Closing it with the body unread would make the kernel
                // reset the connection, and a client still sending could lose this response.)
                Errors.send(ctx.response(), 413, "request body too large; this API takes no bodies");
                return;
            }
        }
        ctx.next();
    }

    private Handler<RoutingContext> constant(String idText) {
        long id = Long.parseUnsignedLong(idText);
        Buffer[] body = new Buffer[1];
        return ctx -> {
            if (body[0] == null) {
                body[0] = Buffer.buffer(Json.cgroup(index.byId(id).orElseThrow(
                        () -> Errors.notFound("bench: no cgroup " + idText))));
            }
            Responses.send(ctx, Json.CONTENT_TYPE, body[0]);
        };
    }
}
