package io.cgscope.http;

import io.cgscope.index.CgroupIndex;
import io.cgscope.index.IndexHealth;
import io.cgscope.index.Source;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.zip.GZIPInputStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every endpoint and error path of the API against a real server on an ephemeral port, over an
 * index fed by hand (this test's thread is the index's writer).
 */
class HttpApiTest {
    private static final Instant NOW = Instant.parse("2026-11-25T12:00:00.100Z");
    /** An id above 2^63: negative as a Java long, must print unsigned. */
    private static final long BIG = 0x8000_0000_0000_0001L;

    private final CgroupIndex index = new CgroupIndex(Duration.ofMinutes(15),
            com.github.benmanes.caffeine.cache.Ticker.systemTicker(), Clock.fixed(NOW, ZoneOffset.UTC));
    private TestServer server;

    HttpApiTest() {
        index.root(1);
        index.created(10, 1, n("system.slice"), Source.SWEEP);
        index.created(12, 10, n("nginx.service"), Source.EVENT);
        index.deleted(12, 10, n("nginx.service"), Source.EVENT);
        index.created(14, 10, n("nginx.service"), Source.EVENT);
        index.created(20, 1, n("odd \"name\" \\ =:ü"), Source.EVENT);
        index.created(21, 1, new byte[] {'b', 'a', 'd', (byte) 0xff}, Source.EVENT);
        index.created(BIG, 1, n("big"), Source.EVENT);
        index.flush();
    }

    private static byte[] n(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private TestServer server(String... flags) {
        server = new TestServer(index, flags);
        return server;
    }

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
    }

    private static JsonObject json(HttpResponse<String> r) {
        assertEquals("application/json", r.headers().firstValue("Content-Type").orElse(""), r.body());
        return new JsonObject(r.body());
    }

    private static void assertError(HttpResponse<String> r, int status, String contains) {
        assertEquals(status, r.statusCode(), r.body());
        String error = json(r).getString("error");
        assertTrue(error != null && error.contains(contains), "error \"" + error + "\" should contain \"" + contains + "\"");
    }

    @Test
    void cgroupById() {
        Client c = server().client;
        JsonObject o = json(c.get("/cgroup/14"));
        assertEquals(14L, o.getLong("id"));
        assertEquals("system.slice/nginx.service", o.getString("path"));
        assertEquals(10L, o.getLong("parent_id"));
        assertEquals("live", o.getString("state"));
        assertEquals("2026-11-25T12:00:00.100Z", o.getString("created_at"));
        assertNull(o.getValue("deleted_at"));
        assertEquals("event", o.getString("source"));
        assertEquals(json(c.get("/cgroup/14")).encode(), json(c.get("/cgroup/0xe")).encode());
        assertEquals(json(c.get("/cgroup/14")).encode(), json(c.get("/cgroup/0X0E")).encode());

        JsonObject dead = json(c.get("/cgroup/12"));
        assertEquals("dead", dead.getString("state"));
        assertEquals("system.slice/nginx.service", dead.getString("path"));
        assertEquals("2026-11-25T12:00:00.100Z", dead.getString("deleted_at"));

        JsonObject sweep = json(c.get("/cgroup/10"));
        assertNull(sweep.getValue("created_at"), "existed before cgscope saw it");
        assertEquals("sweep", sweep.getString("source"));

        JsonObject root = json(c.get("/cgroup/1"));
        assertEquals("/", root.getString("path"));
        assertNull(root.getValue("parent_id"));
    }

    @Test
    void idsAreUnsignedNumbersAndNamesAreEscaped() {
        Client c = server().client;
        String body = c.get("/cgroup/9223372036854775809").body();
        assertTrue(body.startsWith("{\"id\":9223372036854775809,\"path\":\"big\""), body);
        assertEquals(body, c.get("/cgroup/0x8000000000000001").body());
        assertEquals("odd \"name\" \\ =:ü", json(c.get("/cgroup/20")).getString("path"));
        assertEquals("bad\\xff", json(c.get("/cgroup/21")).getString("path"));
        assertEquals(21L, json(c.get("/cgroup?path=bad%5Cxff")).getJsonArray("cgroups").getJsonObject(0).getLong("id"));
    }

    @Test
    void badAndUnknownIds() {
        Client c = server().client;
        assertError(c.get("/cgroup/99"), 404, "no cgroup with id 99");
        assertError(c.get("/cgroup/18446744073709551615"), 404, "18446744073709551615");
        assertError(c.get("/cgroup/18446744073709551616"), 400, "out of range");
        assertError(c.get("/cgroup/0x10000000000000000"), 400, "out of range");
        assertError(c.get("/cgroup/0"), 400, "ids start at 1");
        for (String bad : new String[] {"abc", "-1", "+1", "1.0", "1e3", "0x", "0xg", "%20", "1%20", "%zz", "%", "%C3%A9",
                "%D9%A1", "0b1", "1,2", "%00", "%2B1", "0x-1", "1%2F2"}) {
            Client.Raw r = c.rawGet("/cgroup/" + bad);
            assertEquals(400, r.status(), bad + ": " + r.head() + r.body());
            assertTrue(new JsonObject(r.body()).getString("error").length() > 5, r.body());
        }
        assertEquals(14L, json(c.get("/cgroup/00000000000000000000000000014")).getLong("id"), "leading zeros are fine");
        assertError(c.get("/cgroup/1?x=1"), 400, "unknown query parameter");
        assertError(c.get("/cgroup/1/2"), 404, "not found");
    }

    @Test
    void unknownIdsAreAskedOfTheKernelOffTheEventLoop() {
        index.setResolver(id -> id == 77 ? List.of(new CgroupIndex.Discovered(77, 10, n("late.service")))
                : List.of());
        Client c = server().client;
        JsonObject o = json(c.get("/cgroup/77"));
        assertEquals("system.slice/late.service", o.getString("path"));
        assertEquals("lookup", o.getString("source"));
        index.setResolver(id -> {
            throw new IllegalStateException("kernel said no");
        });
        assertError(c.get("/cgroup/78"), 404, "no cgroup with id 78");
    }

    @Test
    void cgroupByPath() {
        Client c = server().client;
        JsonObject o = json(c.get("/cgroup?path=system.slice/nginx.service"));
        assertEquals("system.slice/nginx.service", o.getString("path"));
        JsonArray list = o.getJsonArray("cgroups");
        assertEquals(2, list.size());
        assertEquals(14L, list.getJsonObject(0).getLong("id"), "newest first");
        assertEquals(12L, list.getJsonObject(1).getLong("id"));
        assertEquals(o.encode(), json(c.get("/cgroup?path=/system.slice/nginx.service")).encode());
        assertEquals(o.encode(), json(c.get("/cgroup?path=%2Fsystem.slice%2Fnginx.service%2F")).encode());
        assertEquals(1L, json(c.get("/cgroup?path=/")).getJsonArray("cgroups").getJsonObject(0).getLong("id"));
        assertEquals(20L, json(c.get("/cgroup?path=odd%20%22name%22%20%5C%20%3D%3A%C3%BC"))
                .getJsonArray("cgroups").getJsonObject(0).getLong("id"));
        assertError(c.get("/cgroup?path=system.slice/nope"), 404, "no cgroup with path");
        assertError(c.get("/cgroup?path=a//b"), 404, "no cgroup with path");
        assertError(c.get("/cgroup"), 400, "missing path");
        assertError(c.get("/cgroup?path="), 400, "missing path");
        assertError(c.get("/cgroup?path=a&path=b"), 400, "more than once");
        Client.Raw malformed = c.rawGet("/cgroup?path=%zz");
        assertEquals(400, malformed.status());
        assertEquals("malformed query string", new JsonObject(malformed.body()).getString("error"));
        assertError(c.get("/cgroup?pth=a"), 400, "unknown query parameter");
    }

    @Test
    void listings() {
        Client c = server().client;
        JsonObject all = json(c.get("/cgroups"));
        assertFalse(all.getBoolean("truncated"));
        JsonArray list = all.getJsonArray("cgroups");
        assertEquals(7, list.size());
        assertEquals("/", list.getJsonObject(0).getString("path"), "sorted by path");
        for (int i = 1; i < list.size(); i++) {
            assertTrue(list.getJsonObject(i - 1).getString("path").compareTo(list.getJsonObject(i).getString("path")) <= 0);
        }
        JsonObject live = json(c.get("/cgroups?state=live&prefix=system.slice"));
        assertEquals(2, live.getJsonArray("cgroups").size());
        assertEquals(14L, live.getJsonArray("cgroups").getJsonObject(1).getLong("id"));
        JsonObject dead = json(c.get("/cgroups?state=dead&prefix=/system.slice/"));
        assertEquals(1, dead.getJsonArray("cgroups").size());
        assertEquals(12L, dead.getJsonArray("cgroups").getJsonObject(0).getLong("id"));
        assertEquals(0, json(c.get("/cgroups?prefix=system")).getJsonArray("cgroups").size(), "whole segments only");
        JsonObject two = json(c.get("/cgroups?limit=2"));
        assertTrue(two.getBoolean("truncated"));
        assertEquals(2, two.getJsonArray("cgroups").size());
        assertEquals(7, json(c.get("/cgroups?limit=10000&state=all&prefix=")).getJsonArray("cgroups").size());
        assertError(c.get("/cgroups?limit=0"), 400, "limit");
        assertError(c.get("/cgroups?limit=10001"), 400, "limit");
        assertError(c.get("/cgroups?limit=x"), 400, "limit");
        assertError(c.get("/cgroups?limit=99999999999999999999"), 400, "limit");
        assertError(c.get("/cgroups?state=zombie"), 400, "state");
        assertError(c.get("/cgroups?limit=1&limit=2"), 400, "more than once");
        assertError(c.get("/cgroups?sort=path"), 400, "unknown query parameter");
    }

    @Test
    void metricsNegotiationFiltersGzipAndHead() throws IOException {
        Client c = server().client;
        HttpResponse<String> text = c.get("/metrics");
        assertEquals(200, text.statusCode());
        assertEquals("text/plain; version=0.0.4; charset=utf-8", text.headers().firstValue("Content-Type").orElseThrow());
        assertTrue(text.body().contains("jvm_threads_current"), "hotspot exports");
        assertTrue(text.body().contains("cgscope_http_event_streams 0.0"), "the API's own metrics");

        HttpResponse<String> om = c.get("/metrics", "Accept",
                "application/openmetrics-text; version=1.0.0; charset=utf-8");
        assertEquals("application/openmetrics-text; version=1.0.0; charset=utf-8",
                om.headers().firstValue("Content-Type").orElseThrow());
        assertTrue(om.body().endsWith("# EOF\n"));

        String filtered = c.get("/metrics?name[]=jvm_threads_current&name[]=cgscope_http_event_streams").body();
        assertTrue(filtered.contains("jvm_threads_current "), filtered);
        assertTrue(filtered.contains("cgscope_http_event_streams "), filtered);
        assertFalse(filtered.contains("jvm_memory"), filtered);
        assertFalse(c.get("/metrics?name%5B%5D=jvm_threads_current").body().contains("jvm_memory"), "encoded brackets");

        HttpResponse<byte[]> gz = c.bytes("/metrics", "Accept-Encoding", "gzip");
        assertEquals("gzip", gz.headers().firstValue("Content-Encoding").orElse(""));
        String unzipped = new String(new GZIPInputStream(new ByteArrayInputStream(gz.body())).readAllBytes(),
                StandardCharsets.UTF_8);
        assertTrue(unzipped.contains("jvm_threads_current"));
        assertFalse(c.bytes("/metrics").headers().firstValue("Content-Encoding").isPresent(), "only when asked");

        HttpResponse<String> head = c.send("HEAD", "/metrics");
        assertEquals(200, head.statusCode());
        assertEquals("", head.body());
        assertTrue(Long.parseLong(head.headers().firstValue("Content-Length").orElseThrow()) > 1000);
        HttpResponse<String> headId = c.send("HEAD", "/cgroup/14");
        assertEquals(200, headId.statusCode());
        assertEquals(c.get("/cgroup/14").body().length(),
                Integer.parseInt(headId.headers().firstValue("Content-Length").orElseThrow()));
    }

    @Test
    void telemetryPathIsConfigurable() {
        Client c = server("--web.telemetry-path=/internal/metrics").client;
        assertEquals(200, c.get("/internal/metrics").statusCode());
        assertError(c.get("/metrics"), 404, "not found");
    }

    @Test
    void healthAndThePage() {
        Client c = server().client;
        index.health().following(IndexHealth.Mode.FANOTIFY);
        JsonObject ok = json(c.get("/healthz"));
        assertEquals("ok", ok.getString("status"));
        assertEquals("fanotify", ok.getString("index_mode"));
        assertEquals(null, ok.getString("degraded"));
        index.health().following(IndexHealth.Mode.SWEEP);
        index.health().degraded("fanotify fd lost and a new mark was refused: EPERM");
        JsonObject degraded = json(c.get("/healthz"));
        assertEquals("sweep", degraded.getString("index_mode"));
        assertTrue(degraded.getString("degraded").contains("EPERM"), degraded.encode());
        index.health().degraded(null);
        index.health().following(IndexHealth.Mode.FANOTIFY);
        index.health().notFollowing("fanotify reader failed: EBADF; retrying");
        assertError(c.get("/healthz"), 503, "fanotify reader failed: EBADF");

        HttpResponse<String> home = c.get("/");
        assertEquals(200, home.statusCode());
        assertEquals("text/html; charset=utf-8", home.headers().firstValue("Content-Type").orElseThrow());
        assertTrue(home.body().contains("<script src=\"static/cgscope.js\" defer></script>"), home.body());
    }

    @Test
    void everythingElseIsAJsonError() {
        Client c = server().client;
        assertError(c.get("/nope"), 404, "not found");
        assertError(c.get("/cgroupsx"), 404, "not found");
        for (String method : new String[] {"POST", "PUT", "DELETE", "PATCH", "OPTIONS", "FOO"}) {
            HttpResponse<String> r = c.send(method, "/cgroup/1");
            assertError(r, 405, "method not allowed");
            assertEquals("GET, HEAD", r.headers().firstValue("Allow").orElse(""));
        }
        assertError(c.send("POST", "/nope"), 404, "not found");

        String longLine = c.raw(("GET /cgroup/" + "1".repeat(20_000) + " HTTP/1.1\r\nHost: x\r\n\r\n").getBytes());
        assertEquals(414, Client.status(longLine), longLine);
        assertTrue(longLine.contains("{\"error\":\"request line too long\"}"), longLine);
        String bigHeader = c.raw(("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + "a".repeat(20_000) + "\r\n\r\n").getBytes());
        assertEquals(431, Client.status(bigHeader), bigHeader);
        assertTrue(bigHeader.contains("{\"error\":\"request headers too large\"}"), bigHeader);
        String body = c.raw("GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\n\r\nabc".getBytes());
        assertEquals(413, Client.status(body), body);
        String garbage = c.raw("\u0001\u0002 nonsense\r\n\r\n".getBytes());
        assertEquals(400, Client.status(garbage), garbage);
        assertTrue(garbage.contains("{\"error\":"), garbage);
        assertEquals(200, c.get("/healthz").statusCode() == 503 ? 200 : c.get("/healthz").statusCode(),
                "still serving");
    }

    @Test
    void telemetryPathMayNotTakeAnApiPath() {
        // Refused by the config, before the server (or anything else) starts: a bad flag, exit 2.
        var e = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class,
                () -> new TestServer(index, "--web.telemetry-path=/cgroups"));
        assertTrue(e.getCause() instanceof io.cgscope.config.ConfigException, String.valueOf(e.getCause()));
        assertTrue(e.getCause().getMessage().contains("--web.telemetry-path"), e.getCause().getMessage());
    }
}
