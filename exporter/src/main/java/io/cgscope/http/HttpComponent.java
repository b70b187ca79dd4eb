package io.cgscope.http;

import io.cgscope.BuildInfo;
import io.cgscope.Component;
import io.cgscope.StartupException;
import io.cgscope.config.Config;
import io.prometheus.client.CollectorRegistry;
import io.prometheus.client.exporter.common.TextFormat;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

import java.io.StringWriter;
import java.net.BindException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.logging.Logger;

/** The HTTP server: Vert.x Web on {@code --web.listen-address}. */
public final class HttpComponent implements Component {
    private static final Logger LOG = Logger.getLogger(HttpComponent.class.getName());

    private final Config config;
    private final CollectorRegistry registry;
    private final BuildInfo build;
    private Vertx vertx;
    private HttpServer server;

    public HttpComponent(Config config, CollectorRegistry registry, BuildInfo build) {
        this.config = config;
        this.registry = registry;
        this.build = build;
    }

    @Override
    public String name() {
        return "http";
    }

    /** The bound port (useful with port 0). */
    public int port() {
        return server.actualPort();
    }

    @Override
    public void start() throws StartupException {
        vertx = Vertx.vertx();
        Router router = Router.router(vertx);
        router.get(config.telemetryPath()).handler(this::metrics);
        HttpServerOptions options = new HttpServerOptions()
                .setHost(config.listenHost().isEmpty() ? "0.0.0.0" : config.listenHost())
                .setPort(config.listenPort());
        try {
            server = vertx.createHttpServer(options).requestHandler(router).listen()
                    .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            String why = cause instanceof BindException ? "address already in use" : String.valueOf(cause.getMessage());
            throw new StartupException("cannot listen on " + config.listenAddress() + ": " + why, cause);
        } catch (InterruptedException | TimeoutException e) {
            throw new StartupException("cannot listen on " + config.listenAddress() + ": " + e, e);
        }
        LOG.info("listening on " + config.listenAddress() + " (port " + server.actualPort() + "), metrics at "
                + config.telemetryPath() + ", " + build);
    }

    private void metrics(RoutingContext ctx) {
        String contentType = TextFormat.chooseContentType(ctx.request().getHeader("Accept"));
        ctx.vertx().executeBlocking(() -> {
            StringWriter w = new StringWriter();
            TextFormat.writeFormat(contentType, w, registry.metricFamilySamples());
            return w.toString();
        }, false).onSuccess(body -> ctx.response().putHeader("Content-Type", contentType).end(Buffer.buffer(body)))
                .onFailure(ctx::fail);
    }

    @Override
    public void stop() {
        if (vertx != null) {
            try {
                vertx.close().toCompletionStage().toCompletableFuture().get(2, TimeUnit.SECONDS);
            } catch (Exception e) {
                LOG.warning("closing the HTTP server: " + e);
            }
            vertx = null;
        }
    }

}
