package io.cgscope.http;

import io.cgscope.BuildInfo;
import io.cgscope.bpf.Feature;
import io.cgscope.config.Durations;
import io.cgscope.index.Cgroup;
import io.cgscope.index.CgroupIndex;
import io.cgscope.index.IndexHealth;
import io.cgscope.top.OnlineCpus;
import io.cgscope.top.Rates;
import io.cgscope.top.ShortLived;
import io.cgscope.top.TopSampler;
import io.cgscope.top.TopSnapshot;
import io.cgscope.workload.WorkloadResolver;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.RoutingContext;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.zip.GZIPOutputStream;

/**
 * {@code GET /api/top?window=5s[&active=true][&limit=N]}: the live page's data, as JSON. Per
 * cgroup its object as {@code /cgroup/<id>} has it (its workload included) plus its rates over
 * the window ({@link TopSampler}); the counts of the index; the event id the snapshot is
 * consistent with.
 *
 * <p>Everything runs on one worker thread of its own, never on the event loop nor on the workers
 * that serve scrapes: a snapshot of 10,000 cgroups is milliseconds of work, and a burst of page
 * loads waits for that thread (at most {@link #MAX_PENDING} requests; more get 503) instead of
 * delaying {@code /metrics}. The body is gzipped on that thread too when the client accepts it
 * (the server's own compression would run on the event loop). An answer is reused for the same
 * parameters for up to {@link TopSampler#MIN_SPACING} (its rates cannot change sooner), so any
 * number of pages, or a client asking back to back, cost at most one refresh a second. A tree is
 * reused only while the index has not changed: a page takes it after opening its event stream and
 * applies the events after its {@code last_event_id}, so that id may not be older than the stream.
 */
final class TopHandler {
    static final Duration DEFAULT_WINDOW = Duration.ofSeconds(5);
    static final int LIMIT_DEFAULT = 20_000;
    static final int LIMIT_MAX = 100_000;
    /** Retained dead cgroups a tree snapshot shows at most (the most recently removed). */
    static final int MAX_DEAD = 1000;
    static final int MAX_PENDING = 8;

    private final CgroupIndex index;
    private final WorkloadResolver workloads;
    private final TopSampler sampler;
    private final ShortLived shortLived;
    private final BuildInfo build;
    private final Duration retention;
    private final String grafanaUrl;
    private final String telemetryPath;
    private final int cpus = OnlineCpus.count();
    /** When this process started: a page that sees it change knows cgscope restarted (event ids start again). */
    private final Instant started = Instant.ofEpochMilli(ManagementFactory.getRuntimeMXBean().getStartTime());
    private final WorkerExecutor worker;
    private final AtomicInteger pending = new AtomicInteger();
    /** Recent answers by request; touched on the worker thread only. */
    private final Map<Request, Answer> recent = new HashMap<>();

    private record Answer(long nanos, long lastEventId, Buffer body) {
    }

    TopHandler(Vertx vertx, CgroupIndex index, WorkloadResolver workloads, TopSampler sampler, BuildInfo build,
               Duration retention, String grafanaUrl, String telemetryPath) {
        this.telemetryPath = telemetryPath;
        this.index = index;
        this.workloads = workloads;
        this.sampler = sampler;
        this.shortLived = new ShortLived(index);
        this.build = build;
        this.retention = retention;
        this.grafanaUrl = grafanaUrl;
        this.worker = vertx.createSharedWorkerExecutor("cgscope-top", 1);
    }

    private record Request(Duration window, boolean active, int limit, boolean gzip) {
    }

    void handle(RoutingContext ctx) {
        Query q = Query.of(ctx, Set.of("window", "active", "limit"));
        Request request = new Request(window(q.get("window")), bool(q.get("active")),
                q.integer("limit", LIMIT_DEFAULT, 1, LIMIT_MAX), acceptsGzip(ctx.request().getHeader("Accept-Encoding")));
        if (pending.incrementAndGet() > MAX_PENDING) {
            pending.decrementAndGet();
            ctx.response().putHeader("Retry-After", "1");
            Errors.send(ctx.response(), 503, "too many /api/top requests in progress; retry later");
            return;
        }
        answer(ctx, request, true);
    }

    /**
     * Computes off the event loop. When this is the first read of the maps after a quiet spell
     * there is no window yet: the answer waits (on a timer, not a thread) for the next read.
     */
    private void answer(RoutingContext ctx, Request request, boolean mayWait) {
        worker.executeBlocking(() -> {
            long now = System.nanoTime();
            long lastEventId = index.changes().lastSeq();
            Answer last = recent.get(request);
            if (last != null && now - last.nanos < TopSampler.MIN_SPACING.toNanos()
                    && (request.active || last.lastEventId == lastEventId)) {
                return last.body;
            }
            Rates rates = sampler.rates(request.window);
            if (!rates.known() && sampler.enabled() && mayWait) {
                return null;
            }
            Buffer body = render(request, rates);
            if (recent.size() >= 16) {
                recent.clear(); // many kinds of request: the cache is only for repeats
            }
            recent.put(request, new Answer(now, lastEventId, body));
            return body;
        }, false).onComplete(ar -> {
            if (ar.succeeded() && ar.result() == null) {
                long delay = Math.max(1, sampler.untilNextRead().toMillis() + 10);
                ctx.vertx().setTimer(delay, t -> answer(ctx, request, false));
                return;
            }
            pending.decrementAndGet();
            if (ctx.response().closed()) {
                return; // the client went away while we worked
            }
            if (ar.failed()) {
                ctx.fail(ar.cause());
                return;
            }
            if (request.gzip) {
                ctx.response().putHeader("Content-Encoding", "gzip");
            }
            ctx.response().putHeader("Vary", "Accept-Encoding").putHeader("Cache-Control", "no-store");
            Responses.send(ctx, Json.CONTENT_TYPE, ar.result());
        });
    }

    private Buffer render(Request request, Rates rates) {
        ShortLived.Count counted = shortLived.count();
        TopSnapshot s = request.active ? TopSnapshot.active(index, rates, counted)
                : TopSnapshot.tree(index, rates, counted, request.limit, MAX_DEAD);
        StringBuilder sb = new StringBuilder(512 + s.cgroups.size() * 260);
        sb.append("{\"time\":");
        Json.time(sb, Instant.ofEpochMilli(s.nowMillis));
        sb.append(",\"window_seconds\":");
        if (rates.known()) {
            number(sb, rates.seconds(), 3);
        } else {
            sb.append("null");
        }
        sb.append(",\"requested_window_seconds\":");
        number(sb, request.window.toMillis() / 1000.0, 3);
        sb.append(",\"features\":[");
        boolean first = true;
        for (Feature f : Feature.values()) {
            if (rates.up().contains(f)) {
                sb.append(first ? "" : ",").append('"').append(f.label()).append('"');
                first = false;
            }
        }
        sb.append("],\"cpus\":").append(cpus);
        sb.append(",\"live\":").append(s.live).append(",\"dead\":").append(s.dead);
        sb.append(",\"short_lived_last_minute\":").append(s.shortLived.shortLived());
        sb.append(",\"short_lived_complete\":").append(s.shortLived.complete());
        sb.append(",\"last_event_id\":").append(s.lastEventId);
        sb.append(",\"started_at\":");
        Json.time(sb, started);
        sb.append(",\"active_only\":").append(request.active);
        sb.append(",\"truncated\":").append(s.truncated);
        sb.append(",\"retention_seconds\":").append(retention.toSeconds());
        IndexHealth.Status health = index.health().status();
        sb.append(",\"index_mode\":");
        Json.string(sb, health.mode().label());
        sb.append(",\"following\":").append(health.following());
        sb.append(",\"build\":");
        Json.string(sb, build.toString());
        sb.append(",\"telemetry_path\":");
        Json.string(sb, telemetryPath);
        sb.append(",\"grafana_url\":");
        Json.string(sb, grafanaUrl.isEmpty() ? null : grafanaUrl);
        sb.append(",\"total\":{");
        totals(sb, rates);
        sb.append("},\"cgroups\":[");
        for (int i = 0; i < s.cgroups.size(); i++) {
            Cgroup c = s.cgroups.get(i);
            if (i > 0) {
                sb.append(',');
            }
            // Its workload may read its container's bundle once: this thread may block.
            Json.cgroup(sb, c, workloads.of(c.id(), c.path()), null);
            sb.setLength(sb.length() - 1); // the object's '}': the rates go inside
            sb.append(',');
            rowMetrics(sb, rates, rates.row(c.id()));
            sb.append('}');
        }
        sb.append("]}\n");
        byte[] body = sb.toString().getBytes(StandardCharsets.UTF_8);
        return Buffer.buffer(request.gzip ? gzip(body) : body);
    }

    /**
     * {@code "cpu":..,"samples":..,"switches":..,"runq_p99":..} of one cgroup ({@code row} < 0: an id
     * with nothing in the maps: zeros, and no percentile). A value is null when its feature is down
     * or there is no window yet; {@code runq_p99} is null too when the cgroup never waited in it.
     */
    private static void rowMetrics(StringBuilder sb, Rates r, int row) {
        boolean some = row >= 0;
        sb.append("\"cpu\":");
        value(sb, r, Feature.CPU, some ? r.cpu(row) : 0, 4);
        sb.append(",\"samples\":");
        value(sb, r, Feature.SAMPLES, some ? r.samples(row) : 0, 0);
        sb.append(",\"switches\":");
        value(sb, r, Feature.SWITCHES, some ? r.switches(row) : 0, 1);
        sb.append(",\"runq_p99\":");
        value(sb, r, Feature.RUNQLAT, some ? r.runqP99(row) : Double.NaN, 7);
    }

    /** The sums over every id in the maps, named or not. */
    private static void totals(StringBuilder sb, Rates r) {
        sb.append("\"cpu\":");
        value(sb, r, Feature.CPU, r.totalCpu(), 4);
        sb.append(",\"samples\":");
        value(sb, r, Feature.SAMPLES, r.totalSamples(), 0);
        sb.append(",\"switches\":");
        value(sb, r, Feature.SWITCHES, r.totalSwitches(), 1);
    }

    private static void value(StringBuilder sb, Rates r, Feature f, double v, int decimals) {
        if (!r.known() || !r.up().contains(f) || Double.isNaN(v)) {
            sb.append("null");
        } else {
            number(sb, v, decimals);
        }
    }

    /** A non-negative number rounded to {@code decimals}, without trailing zeros ({@code 0.5}, {@code 12}, {@code 0.0001}). */
    static void number(StringBuilder sb, double v, int decimals) {
        long scale = 1;
        for (int i = 0; i < decimals; i++) {
            scale *= 10;
        }
        long n = Math.round(Math.max(0, v) * scale);
        sb.append(n / scale);
        long frac = n % scale;
        if (frac == 0) {
            return;
        }
        int digits = decimals;
        while (frac % 10 == 0) {
            frac /= 10;
            digits--;
        }
        sb.append('.');
        String f = Long.toString(frac);
        for (int i = f.length(); i < digits; i++) { // the fraction's leading zeros
            sb.append('0');
        }
        sb.append(f);
    }

    private static Duration window(String text) {
        if (text == null) {
            return DEFAULT_WINDOW;
        }
        Duration d;
        try {
            d = Durations.parse(text);
        } catch (IllegalArgumentException e) {
            throw Errors.badRequest("window=\"" + Errors.echo(text) + "\": expected a duration from 1s to "
                    + Durations.format(TopSampler.MAX_WINDOW) + ", e.g. 5s");
        }
        if (d.compareTo(TopSampler.MIN_SPACING) < 0 || d.compareTo(TopSampler.MAX_WINDOW) > 0) {
            throw Errors.badRequest("window=\"" + Errors.echo(text) + "\": expected a duration from 1s to "
                    + Durations.format(TopSampler.MAX_WINDOW));
        }
        return d;
    }

    private static boolean bool(String text) {
        if (text == null) {
            return false;
        }
        return switch (text) {
            case "true", "1" -> true;
            case "false", "0" -> false;
            default -> throw Errors.badRequest("active=\"" + Errors.echo(text) + "\": expected true or false");
        };
    }

    /** Whether {@code Accept-Encoding} lists gzip (or *) without q=0. */
    static boolean acceptsGzip(String header) {
        if (header == null) {
            return false;
        }
        for (String part : header.split(",")) {
            String[] p = part.strip().split(";");
            String coding = p[0].strip().toLowerCase(Locale.ROOT);
            if (!coding.equals("gzip") && !coding.equals("*")) {
                continue;
            }
            boolean refused = false;
            for (int i = 1; i < p.length; i++) {
                String param = p[i].strip().toLowerCase(Locale.ROOT);
                if (param.startsWith("q=")) {
                    try {
                        refused = Double.parseDouble(param.substring(2)) <= 0;
                    } catch (NumberFormatException e) {
                        refused = true;
                    }
                }
            }
            if (!refused) {
                return true;
            }
        }
        return false;
    }

    private static byte[] gzip(byte[] body) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(body.length / 6 + 64);
        try (GZIPOutputStream z = new GZIPOutputStream(out, 8192)) {
            z.write(body);
        } catch (IOException e) {
            throw new UncheckedIOException(e); // in memory: does not happen
        }
        return out.toByteArray();
    }
}
