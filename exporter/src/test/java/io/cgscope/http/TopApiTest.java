package io.cgscope.http;

import io.cgscope.bpf.BpfMaps;
import io.cgscope.bpf.CounterSource;
import io.cgscope.bpf.Feature;
import io.cgscope.bpf.MapTable;
import io.cgscope.index.CgroupIndex;
import io.cgscope.index.IndexHealth;
import io.cgscope.index.FakeTicker;
import io.cgscope.index.Source;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.GZIPInputStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code /api/top} and the page's files against a real server, over an index fed by hand and a
 * hand-fed BPF side whose counters grow by fixed steps at every read.
 */
class TopApiTest {
    private final CgroupIndex index = new CgroupIndex(Duration.ofMinutes(15), new FakeTicker(), Clock.systemUTC());
    private TestServer server;

    private static byte[] n(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private TestServer server(CounterSource counters, String... flags) {
        server = new TestServer(index, counters, flags);
        return server;
    }

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
    }

    private void smallTree() {
        index.root(1);
        index.created(10, 1, n("system.slice"), Source.SWEEP);
        index.created(12, 10, n("nginx.service"), Source.EVENT);
        index.created(13, 10, n("<img src=x onerror=alert(1)>"), Source.EVENT);
        index.created(14, 10, n("gone.service"), Source.EVENT);
        index.deleted(14, 10, n("gone.service"), Source.EVENT);
        index.flush();
        index.health().following(IndexHealth.Mode.FANOTIFY);
    }

    private static JsonObject json(HttpResponse<String> r) {
        assertEquals(200, r.statusCode(), r.body());
        assertEquals("application/json", r.headers().firstValue("Content-Type").orElse(""), r.body());
        return new JsonObject(r.body());
    }

    private static JsonObject byId(JsonArray cgroups, long id) {
        for (int i = 0; i < cgroups.size(); i++) {
            if (cgroups.getJsonObject(i).getLong("id") == id) {
                return cgroups.getJsonObject(i);
            }
        }
        return null;
    }

    @Test
    void theTreeWithRatesOverTheWindow() {
        smallTree();
        SteppingCounters bpf = new SteppingCounters();
        // nginx: 0.5 s of CPU, 50 samples, 100 switches and 99 waits of 16-32 us plus one of 1-2 ms per read
        bpf.step(12, 500_000_000L, 50, 100, 5, 99, 11, 1);
        Client c = server(bpf, "--web.grafana-url=https://grafana.example/", "--web.telemetry-path=/m").client;
        JsonObject top = json(c.get("/api/top?window=5s"));
        // The first request after a quiet spell waits for a second read: a window of about a second.
        double window = top.getDouble("window_seconds");
        assertTrue(window >= 0.99 && window < 5, "window " + window);
        assertEquals(5.0, top.getDouble("requested_window_seconds"));
        assertEquals(new JsonArray().add("cpu").add("samples").add("switches").add("runqlat"), top.getJsonArray("features"));
        assertEquals(index.changes().lastSeq(), top.getLong("last_event_id"));
        assertEquals(4, top.getLong("live"));
        assertEquals(1, top.getLong("dead"));
        assertEquals(1, top.getInteger("short_lived_last_minute"), "gone.service lived less than a minute");
        assertTrue(top.getBoolean("short_lived_complete"));
        assertEquals("https://grafana.example", top.getString("grafana_url"));
        assertEquals("/m", top.getString("telemetry_path"));
        assertEquals(900, top.getLong("retention_seconds"));
        assertFalse(top.getBoolean("truncated"));
        assertTrue(top.getInteger("cpus") >= 1);

        JsonArray cgroups = top.getJsonArray("cgroups");
        assertEquals(5, cgroups.size(), cgroups.encodePrettily());
        // Live ones by path, then the dead.
        assertEquals("/", cgroups.getJsonObject(0).getString("path"));
        assertEquals("gone.service", cgroups.getJsonObject(4).getString("path").substring(13));
        assertEquals("dead", cgroups.getJsonObject(4).getString("state"));
        assertNotNull(cgroups.getJsonObject(4).getString("deleted_at"));

        JsonObject nginx = byId(cgroups, 12);
        assertEquals("system.slice/nginx.service", nginx.getString("path"));
        assertEquals(10, nginx.getLong("parent_id"));
        assertEquals("live", nginx.getString("state"));
        assertEquals(50, nginx.getLong("samples"), "exactly one step of samples");
        double cpu = nginx.getDouble("cpu");
        assertEquals(0.5 / window, cpu, 0.002, "half a core (the window is rounded to ms)");
        assertEquals(100 / window, nginx.getDouble("switches"), 0.5);
        double p99 = nginx.getDouble("runq_p99");
        assertTrue(p99 >= 16e-6 && p99 <= 32e-6, "p99 in the 16-32 us slot: " + p99);

        JsonObject idle = byId(cgroups, 10);
        assertEquals(0.0, idle.getDouble("cpu"));
        assertEquals(0, idle.getLong("samples"));
        assertNull(idle.getValue("runq_p99"), "no waits, no percentile");
        assertEquals("<img src=x onerror=alert(1)>", byId(cgroups, 13).getString("path").substring(13));

        JsonObject total = top.getJsonObject("total");
        assertEquals(cpu, total.getDouble("cpu"), 0.0002);
        assertEquals(50, total.getLong("samples"));
    }

    @Test
    void activeListsOnlyTheCgroupsThatCountedAnything() {
        smallTree();
        SteppingCounters bpf = new SteppingCounters();
        bpf.step(12, 1_000_000, 1, 2, 0, 1);
        Client c = server(bpf).client;
        JsonObject top = json(c.get("/api/top?window=2s&active=true"));
        JsonArray cgroups = top.getJsonArray("cgroups");
        assertEquals(1, cgroups.size(), cgroups.encode());
        assertEquals(12, cgroups.getJsonObject(0).getLong("id"));
        assertTrue(top.getBoolean("active_only"));
        // Later requests within a second reuse the newest read: no wait.
        long t0 = System.nanoTime();
        json(c.get("/api/top?window=2s&active=true"));
        assertTrue(System.nanoTime() - t0 < 900_000_000L, "a second request waited for a read");
    }

    @Test
    void aTreeIsNeverOlderThanTheIndexChangesItMissed() {
        smallTree();
        Client c = server(new SteppingCounters()).client;
        JsonObject first = json(c.get("/api/top"));
        index.created(20, 10, n("new.service"), Source.EVENT);
        index.flush();
        // Within the second an answer may be reused: not a tree the index has moved past.
        JsonObject second = json(c.get("/api/top"));
        assertTrue(second.getLong("last_event_id") > first.getLong("last_event_id"));
        assertNotNull(byId(second.getJsonArray("cgroups"), 20), "the cgroup created in between");
    }

    @Test
    void withoutBpfTheTreeHasNoRates() {
        smallTree();
        Client c = server(null).client;
        JsonObject top = json(c.get("/api/top"));
        assertNull(top.getValue("window_seconds"));
        assertEquals(new JsonArray(), top.getJsonArray("features"));
        JsonObject nginx = byId(top.getJsonArray("cgroups"), 12);
        assertNull(nginx.getValue("cpu"));
        assertNull(nginx.getValue("samples"));
        assertNull(top.getJsonObject("total").getValue("cpu"));
        assertNull(top.getValue("grafana_url"));
    }

    @Test
    void badParametersAreJsonErrors() {
        smallTree();
        Client c = server(null).client;
        for (String q : new String[] {"window=0s", "window=500ms", "window=61s", "window=2m", "window=abc", "window=",
                "window=5", "window=5s&window=6s", "windows=5s", "active=maybe", "limit=0", "limit=100001", "limit=x"}) {
            HttpResponse<String> r = c.get("/api/top?" + q);
            assertEquals(400, r.statusCode(), q + ": " + r.body());
            assertEquals("application/json", r.headers().firstValue("Content-Type").orElse(""), q);
            assertTrue(new JsonObject(r.body()).getString("error").length() > 10, q + ": " + r.body());
        }
        assertTrue(c.get("/api/top?window=0s").body().contains("from 1s to 1m"));
        assertEquals(200, c.get("/api/top?window=1s&active=false&limit=1").statusCode());
        JsonObject limited = json(c.get("/api/top?limit=2"));
        assertTrue(limited.getBoolean("truncated"));
        assertEquals(3, limited.getJsonArray("cgroups").size(), "two live and the dead one");
        HttpResponse<String> head = c.send("HEAD", "/api/top");
        assertEquals(200, head.statusCode());
        assertEquals("", head.body());
    }

    /** The bound: with 10,000 cgroups, one snapshot under 1 MB gzipped. */
    @Test
    void tenThousandCgroupsAreUnderOneMegabyteGzipped() {
        index.root(1);
        index.created(2, 1, n("kubepods.slice"), Source.SWEEP);
        index.created(3, 2, n("kubepods-burstable.slice"), Source.SWEEP);
        SteppingCounters bpf = new SteppingCounters();
        long id = 100;
        java.util.Random random = new java.util.Random(42);
        int cgroups = 3;
        while (cgroups < 10_000) {
            long pod = id++;
            String uid = new java.util.UUID(random.nextLong(), random.nextLong()).toString().replace('-', '_');
            index.created(pod, 3, n("kubepods-burstable-pod" + uid + ".slice"), Source.SWEEP);
            cgroups++;
            for (int k = 0; k < 3 && cgroups < 10_000; k++) {
                long container = id++;
                String hex = Long.toHexString(random.nextLong()) + Long.toHexString(random.nextLong())
                        + Long.toHexString(random.nextLong()) + Long.toHexString(random.nextLong());
                index.created(container, pod, n("cri-containerd-" + hex + ".scope"), Source.SWEEP);
                cgroups++;
                // Every container busy: no value compresses to a zero.
                bpf.step(container, 1_000_000L + random.nextInt(100_000_000), 1 + random.nextInt(90),
                        1 + random.nextInt(5000), random.nextInt(12), 10 + random.nextInt(1000));
            }
        }
        index.flush();
        assertEquals(10_000, index.liveCount());
        Client c = server(bpf).client;
        HttpResponse<byte[]> r = c.bytes("/api/top?window=5s", "Accept-Encoding", "gzip");
        assertEquals(200, r.statusCode());
        assertEquals("gzip", r.headers().firstValue("Content-Encoding").orElse(""));
        byte[] raw = gunzip(r.body());
        JsonObject top = new JsonObject(new String(raw, StandardCharsets.UTF_8));
        assertEquals(10_000, top.getJsonArray("cgroups").size());
        System.out.printf("/api/top with 10,000 cgroups: %,d bytes, %,d gzipped (%.1f bytes per cgroup)%n",
                raw.length, r.body().length, r.body().length / 10_000.0);
        assertTrue(r.body().length < 1_000_000, "gzipped: " + r.body().length + " bytes");
        // Without Accept-Encoding: plain.
        HttpResponse<byte[]> plain = c.bytes("/api/top?window=5s");
        assertTrue(plain.headers().firstValue("Content-Encoding").isEmpty());
        assertEquals('{', plain.body()[0]);
    }

    @Test
    void thePageItsFilesAndItsHeaders() {
        smallTree();
        Client c = server(null).client;
        HttpResponse<String> page = c.get("/");
        assertEquals(200, page.statusCode());
        assertEquals("text/html; charset=utf-8", page.headers().firstValue("Content-Type").orElse(""));
        String csp = page.headers().firstValue("Content-Security-Policy").orElse("");
        assertEquals(SecurityHeaders.CSP, csp);
        assertFalse(csp.contains("unsafe"), csp);
        assertEquals("nosniff", page.headers().firstValue("X-Content-Type-Options").orElse(""));
        assertEquals("no-referrer", page.headers().firstValue("Referrer-Policy").orElse(""));
        assertFalse(page.body().contains("<script>") || page.body().contains(" style=") || page.body().contains("<style"),
                "inline script or style in the page");

        HttpResponse<String> js = c.get("/static/cgscope.js");
        assertEquals("text/javascript; charset=utf-8", js.headers().firstValue("Content-Type").orElse(""));
        assertFalse(js.body().contains("innerHTML") || js.body().contains("eval(") || js.body().contains("insertAdjacentHTML")
                || js.body().contains("document.write"), "the page's script builds no HTML from strings");
        String etag = js.headers().firstValue("ETag").orElseThrow();
        HttpResponse<String> again = c.get("/static/cgscope.js", "If-None-Match", etag);
        assertEquals(304, again.statusCode());
        assertEquals("", again.body());
        assertEquals(200, c.get("/static/cgscope.css").statusCode());
        assertEquals("image/svg+xml", c.get("/static/favicon.svg").headers().firstValue("Content-Type").orElse(""));

        HttpResponse<String> missing = c.get("/static/nope.js");
        assertEquals(404, missing.statusCode());
        assertTrue(missing.body().startsWith("{\"error\":"), missing.body());
        assertEquals(SecurityHeaders.CSP, missing.headers().firstValue("Content-Security-Policy").orElse(""),
                "errors carry the headers too");
        assertEquals(404, c.get("/static/index.html").statusCode());
        assertEquals(404, c.get("/static/../cgscope.js").statusCode());
        assertEquals(400, c.get("/?x=1").statusCode());
    }

    private static byte[] gunzip(byte[] gz) {
        try (GZIPInputStream in = new GZIPInputStream(new java.io.ByteArrayInputStream(gz))) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            in.transferTo(out);
            return out.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * A hand-fed BPF side: per id, what each read adds to its counters (CPU ns, samples, switches)
     * and to one run-queue slot (or two).
     */
    static final class SteppingCounters implements CounterSource {
        private final Map<Long, long[]> steps = new LinkedHashMap<>();
        private final Map<Long, long[]> counters = new HashMap<>();
        private final Map<Long, long[]> runq = new HashMap<>();

        /** {@code slotCounts}: slot, count pairs added per read. */
        void step(long id, long cpuNs, long samples, long switches, long... slotCounts) {
            long[] s = new long[3 + slotCounts.length];
            s[0] = cpuNs;
            s[1] = samples;
            s[2] = switches;
            System.arraycopy(slotCounts, 0, s, 3, slotCounts.length);
            steps.put(id, s);
        }

        @Override
        public Map<Feature, Status> status() {
            Map<Feature, Status> m = new EnumMap<>(Feature.class);
            for (Feature f : Feature.values()) {
                m.put(f, new Status(true, ""));
            }
            return m;
        }

        @Override
        public synchronized CounterSource.Counters read() {
            MapTable c = new MapTable(BpfMaps.COUNTERS_WORDS);
            MapTable r = new MapTable(BpfMaps.RUNQ_WORDS);
            steps.forEach((id, s) -> {
                long[] v = counters.computeIfAbsent(id, k -> new long[BpfMaps.COUNTERS_WORDS]);
                for (int w = 0; w < 3; w++) {
                    v[w] += s[w];
                }
                c.put(id, v.clone());
                long[] h = runq.computeIfAbsent(id, k -> new long[BpfMaps.RUNQ_WORDS]);
                for (int i = 3; i + 1 < s.length; i += 2) {
                    h[(int) s[i]] += s[i + 1];
                }
                r.put(id, h.clone());
            });
            return new CounterSource.Counters(EnumSet.allOf(Feature.class),
                    Map.of(BpfMaps.COUNTERS, c, BpfMaps.RUNQLAT, r), Map.of());
        }

        @Override
        public Reader newReader() {
            return this::read;
        }

        @Override
        public void delete(long cgroupId) {
        }

        @Override
        public Map<String, RunStats> runStats() {
            return Map.of();
        }

        @Override
        public int maxEntries() {
            return 16384;
        }
    }
}
