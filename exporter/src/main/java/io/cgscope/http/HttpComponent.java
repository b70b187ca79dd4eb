package io.cgscope.http;

import io.cgscope.BuildInfo;
import io.cgscope.Component;
import io.cgscope.StartupException;
import io.cgscope.bpf.CounterSource;
import io.cgscope.top.TopSampler;
import io.cgscope.config.Config;
import io.cgscope.index.CgroupIndex;
import io.cgscope.index.HierarchyIndexes;
import io.cgscope.workload.WorkloadResolver;
import io.prometheus.client.CollectorRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.cgscope.config.Durations;
import io.cgscope.config.WebConfig;
import io.cgscope.config.WebLimits;
import io.vertx.core.file.FileSystemOptions;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.ext.web.Router;

import java.net.BindException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The HTTP server: Vert.x Web on {@code --web.listen-address}, serving {@link Api}'s routes.
 *
 * <p>One event loop is enough for an agent's API (and keeps its footprint small): handlers
 * answer from memory, and whatever may take time (scrapes, listings, kernel lookups) runs on a
 * small worker pool. HTTP/2 over cleartext is off: Prometheus and SSE clients speak HTTP/1.1,
 * and every stream is its own connection, which is what a dropped slow client closes.
 *
 * <p>With {@code --web.config.file}: TLS from its {@code tls_server_config} (the certificate and
 * key bytes {@link WebConfig} read and checked at start-up; TLS 1.2 and 1.3, HTTP/1.1 only) and
 * basic auth on every route from its {@code basic_auth_users} ({@link BasicAuth}).
 *
 * <p>Hostile clients: at most {@code --web.max-connections} connections, fewer when the file
 * limit leaves less after a reserve for the rest of cgscope ({@link FdBudget}); a request must
 * arrive within {@code --web.read-header-timeout}, a kept-alive connection may wait
 * {@code --web.idle-timeout}; at the cap the longest silent connection without a request makes
 * room ({@link Connections}); the listening socket stops accepting rather than run out of fds,
 * and reports refused accepts once per interval ({@link GuardedServerChannel}, {@link AcceptErrors}).
 */
public final class HttpComponent implements Component {
    private static final Logger LOG = Logger.getLogger(HttpComponent.class.getName());
    /** Longest request line: a cgroup path is at most PATH_MAX (4096) bytes, percent-encoding triples it. */
    static final int MAX_REQUEST_LINE = 16 * 1024;
    /** Most bytes of all request headers together. */
    static final int MAX_HEADERS = 16 * 1024;
    /** Time an in-flight request gets to finish when the server stops. */
    static final long SHUTDOWN_GRACE_MILLIS = 500;

    private final Config config;
    private final CollectorRegistry registry;
    private final BuildInfo build;
    private final CgroupIndex index;
    private final WorkloadResolver workloads;
    private final EventStreams streams;
    private final HttpCollector collector;
    private HierarchyIndexes hierarchies;
    private final TopSampler sampler;
    private final Connections connections;
    private final AcceptErrors acceptErrors = new AcceptErrors();
    private Vertx vertx;
    private HttpServer server;
    private Router router;
    private boolean registered;

    /** {@code counters}: what the live page's rates are read from (null: no BPF, no rates). */
    public HttpComponent(Config config, CollectorRegistry registry, BuildInfo build, CgroupIndex index,
                         WorkloadResolver workloads, CounterSource counters) {
        this(config, registry, build, index, workloads, EventStreams.HEARTBEAT, EventStreams.STALL_LIMIT, counters);
    }

    /** Tests shorten the event streams' heartbeat and stall limit; workloads from {@code --workload.*} (no tracker: bundles read on demand). */
    HttpComponent(Config config, CollectorRegistry registry, BuildInfo build, CgroupIndex index,
                  java.time.Duration heartbeat, java.time.Duration stallLimit, CounterSource counters) {
        this(config, registry, build, index,
                WorkloadResolver.of(config.runtimeDirs(), config.podLogsDir(), config.containerLogsDir()), heartbeat,
                stallLimit, counters);
    }

    HttpComponent(Config config, CollectorRegistry registry, BuildInfo build, CgroupIndex index,
                  WorkloadResolver workloads, java.time.Duration heartbeat, java.time.Duration stallLimit,
                  CounterSource counters) {
        this.sampler = new TopSampler(counters);
        this.config = config;
        this.registry = registry;
        this.build = build;
        this.index = index;
        this.workloads = workloads;
        this.streams = new EventStreams(index.changes(), workloads, config.maxStreams(), heartbeat, stallLimit);
        WebLimits limits = config.webLimits();
        this.connections = new Connections(FdBudget.ofThisProcess(limits.maxConnections()),
                limits.readHeaderTimeout(), limits.idleTimeout());
        this.collector = new HttpCollector(streams, connections, acceptErrors);
    }

    /** The index of every hierarchy, for {@code ?hierarchy=} and {@code /hierarchies} (default: the one index). */
    public HttpComponent hierarchies(HierarchyIndexes all) {
        this.hierarchies = all;
        return this;
    }

    @Override
    public String name() {
        return "http";
    }

    /** The bound port (with {@code --web.listen-address=:0}, the one the kernel chose). */
    public int port() {
        return server.actualPort();
    }

    /**
     * The running server's routes, after {@link #start()}: a benchmark harness adds its reference
     * route here ({@code exporter/bench/java/io/cgscope/bench/HttpBench.java}); production adds none.
     */
    public Router router() {
        return router;
    }

    @Override
    public void start() throws StartupException {
        String telemetryPath = config.telemetryPath(); // validated by Config
        FdBudget budget = connections.budget();
        budget.start();
        if (budget.cap() < Math.min(FdBudget.MIN_CONNECTIONS, budget.maxConnections())) {
            throw new StartupException("RLIMIT_NOFILE " + budget.limit() + " is too low: " + budget.others()
                    + " fds are open and " + FdBudget.RESERVE + " are kept in reserve for the index, BPF and the JVM,"
                    + " which leaves fewer than " + FdBudget.MIN_CONNECTIONS + " for HTTP connections; raise the"
                    + " limit (systemd LimitNOFILE=, ulimit -n)", null);
        }
        WebLimits limits = config.webLimits();
        VertxOptions vertxOptions = new VertxOptions()
                .setEventLoopPoolSize(1)
                .setWorkerPoolSize(4)
                .setInternalBlockingPoolSize(2)
                // No file serving: no cache directory under /tmp, no class-path extraction.
                .setFileSystemOptions(new FileSystemOptions().setFileCachingEnabled(false)
                        .setClassPathResolvingEnabled(false));
        // Vert.x's NIO transport with cgscope's accept loop (GuardedServerChannel).
        vertx = Vertx.builder().with(vertxOptions)
                .withTransport(GuardedServerChannel.transport(connections, acceptErrors)).build();
        HttpServerOptions options = new HttpServerOptions()
                .setHost(config.listenHost().isEmpty() ? "0.0.0.0" : config.listenHost())
                .setPort(config.listenPort())
                .setMaxInitialLineLength(MAX_REQUEST_LINE)
                .setMaxHeaderSize(MAX_HEADERS)
                .setCompressionSupported(true)
                .setCompressionContentSizeThreshold(1024)
                .setDecompressionSupported(false)
                .setHttp2ClearTextEnabled(false)
                // No idle handler of Vert.x's: Connections times out reading and idle connections, and
                // leaves event streams alone. A TLS handshake is part of the header timeout; Vert.x's
                // own handshake timeout only backs it up.
                .setIdleTimeout(0)
                .setSslHandshakeTimeout(2 * limits.readHeaderTimeout().toMillis())
                .setSslHandshakeTimeoutUnit(TimeUnit.MILLISECONDS);
        WebConfig web = config.webConfig();
        boolean tls = web != null && web.tls();
        if (tls) {
            options.setSsl(true).setKeyCertOptions(new PemKeyCertOptions()
                    .setCertValue(Buffer.buffer(web.certPem()))
                    .setKeyValue(Buffer.buffer(web.keyPem())));
        }
        TopHandler top = new TopHandler(vertx, index, workloads, sampler, build, config.retention(),
                config.grafanaUrl(), telemetryPath);
        Api api = new Api(index, workloads, registry, telemetryPath, streams, web, collector.authRefused, top);
        api.hierarchies(hierarchies != null ? hierarchies : HierarchyIndexes.unified(index, ""));
        try {
            router = api.router(vertx);
            server = vertx.createHttpServer(options)
                    .requestHandler(router)
                    .invalidRequestHandler(Errors::invalidRequest)
                    .connectionHandler(connection -> {
                        VersionGuard.install(connection);
                        Connection.install(connection);
                    })
                    // Failures before HTTP starts: TLS handshakes (a plain HTTP client, a client
                    // that does not trust the certificate). The client sees its own error.
                    .exceptionHandler(this::beforeHttp)
                    .listen()
                    .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (tls && !(cause instanceof BindException)) {
                // WebConfig checked the files already; whatever the server still refuses is theirs.
                throw new StartupException("--web.config.file=" + config.webConfigFile() + ": TLS with "
                        + web.certFile() + " and " + web.keyFile() + " failed: "
                        + String.valueOf(cause.getMessage()).replace('\n', ' '), 2, cause);
            }
            String why = cause instanceof BindException ? "address already in use" : String.valueOf(cause.getMessage());
            throw new StartupException("cannot listen on " + config.listenAddress() + ": " + why, cause);
        } catch (InterruptedException | TimeoutException e) {
            throw new StartupException("cannot listen on " + config.listenAddress() + ": " + e, e);
        }
        registry.register(collector);
        registered = true;
        if (web != null) {
            LOG.info("http: from --web.config.file=" + config.webConfigFile() + ": "
                    + (tls ? "TLS with " + web.certFile() : "no TLS (plain HTTP)") + ", "
                    + (web.basicAuth() ? "basic auth on every endpoint (/healthz: status only without credentials)"
                            : "no basic auth"));
        }
        LOG.info("http: listening on " + boundAddress() + ", metrics at " + telemetryPath + ", API at /cgroup/<id>,"
                + " /cgroup?path=, /cgroups, /pods, /events (at most " + config.maxStreams() + " streams), /hierarchies, /healthz,"
                + " /api/top; the live page at /; at most " + budget.cap() + " connections" + (budget.limitedByFds()
                        ? " (not --web.max-connections=" + budget.maxConnections() + ": RLIMIT_NOFILE " + budget.limit()
                        + " less " + FdBudget.RESERVE + " in reserve and " + budget.others() + " open leaves no more)"
                        : "")
                + ", requests within " + Durations.format(limits.readHeaderTimeout()) + ", idle for "
                + Durations.format(limits.idleTimeout()));
    }

    private void beforeHttp(Throwable failure) {
        collector.tlsFailures.increment();
        LOG.log(Level.FINE, "connection failed before HTTP: " + failure);
    }

    private String boundAddress() {
        String host = config.listenHost().isEmpty() ? "0.0.0.0" : config.listenHost();
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + server.actualPort();
    }

    /** Ends the event streams, lets in-flight requests finish briefly, then closes everything. */
    @Override
    public void stop() {
        if (registered) {
            registry.unregister(collector);
            registered = false;
        }
        if (vertx == null) {
            return;
        }
        streams.closeAll();
        connections.stop();
        try {
            if (server != null) {
                server.shutdown(SHUTDOWN_GRACE_MILLIS, TimeUnit.MILLISECONDS)
                        .toCompletionStage().toCompletableFuture().get(1, TimeUnit.SECONDS);
            }
        } catch (Exception e) {
            LOG.fine("graceful HTTP shutdown: " + e);
        }
        try {
            vertx.close().toCompletionStage().toCompletableFuture().get(1, TimeUnit.SECONDS);
        } catch (Exception e) {
            LOG.warning("closing the HTTP server: " + e);
        }
        vertx = null;
        server = null;
    }
}
