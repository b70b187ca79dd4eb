package io.cgscope.http;

import io.cgscope.index.CgroupIndex;
import io.cgscope.index.IndexHealth;
import io.cgscope.index.FakeTicker;
import io.cgscope.index.Source;
import io.cgscope.testing.TestTls;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The server with {@code --web.config.file}: TLS from a certificate made now by openssl, basic
 * auth with bcrypt hashes made now and one made by htpasswd. Every endpoint needs credentials
 * except an anonymous {@code /healthz}, which says only its status.
 */
class HttpTlsAuthTest {
    @TempDir
    static Path dir;
    static TestServer server;
    static HttpClient https;
    static CgroupIndex index;

    @BeforeAll
    static void start() throws Exception {
        TestTls.selfSignedRsa(dir.resolve("cert.pem"), dir.resolve("key.pem"));
        Files.writeString(dir.resolve("web-config.yml"), "tls_server_config:\n"
                + "  cert_file: cert.pem\n"
                + "  key_file: key.pem\n"
                + "basic_auth_users:\n"
                + "  prom: '" + TestTls.PROM_S3CRET_2Y + "'\n"
                + "  grafana: '" + TestTls.bcrypt("hunter2", "2b") + "'\n"
                // cost 12 (some 250 ms a check): slow enough to see that checks do not hold the event loop
                + "  slow: '" + at.favre.lib.crypto.bcrypt.BCrypt.withDefaults().hashToString(12, "x".toCharArray())
                + "'\n");
        index = new CgroupIndex(Duration.ofMinutes(5), new FakeTicker(), Clock.systemUTC());
        index.root(1);
        index.created(10, 1, "system.slice".getBytes(StandardCharsets.UTF_8), Source.SWEEP);
        index.flush();
        index.health().following(IndexHealth.Mode.FANOTIFY);
        server = new TestServer(index, "--web.config.file=" + dir.resolve("web-config.yml"));
        https = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).sslContext(trusting(dir.resolve("cert.pem")))
                .connectTimeout(Duration.ofSeconds(5)).build();
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
        if (https != null) {
            https.close();
        }
    }

    /** An SSL context that trusts exactly this certificate (and checks the host name against it). */
    static SSLContext trusting(Path certPem) throws Exception {
        KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
        trust.load(null, null);
        try (InputStream in = Files.newInputStream(certPem)) {
            trust.setCertificateEntry("cgscope", CertificateFactory.getInstance("X.509").generateCertificate(in));
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        SSLContext ssl = SSLContext.getInstance("TLS");
        ssl.init(null, tmf.getTrustManagers(), null);
        return ssl;
    }

    static String basic(String user, String password) {
        return "Basic " + Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
    }

    static HttpRequest request(String method, String path, String authorization) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + server.port() + path))
                .timeout(Duration.ofSeconds(20)).method(method, HttpRequest.BodyPublishers.noBody());
        if (authorization != null) {
            b.header("Authorization", authorization);
        }
        return b.build();
    }

    static HttpResponse<String> get(String path, String authorization) throws Exception {
        return https.send(request("GET", path, authorization), HttpResponse.BodyHandlers.ofString());
    }

    static void assertUnauthorized(HttpResponse<String> r, String what) {
        assertEquals(401, r.statusCode(), what + ": " + r.body());
        assertEquals("Basic realm=\"cgscope\"", r.headers().firstValue("WWW-Authenticate").orElse(null), what);
        assertEquals("application/json", r.headers().firstValue("Content-Type").orElse(null), what);
        if (!r.request().method().equals("HEAD")) {
            assertNotNull(new JsonObject(r.body()).getString("error"), what);
        }
        assertFalse(r.body().contains("cgscope_"), what + ": no metrics data");
    }

    @Test
    void everyEndpointNeedsCredentials() throws Exception {
        for (String path : List.of("/metrics", "/", "/cgroups", "/cgroup/1", "/cgroup?path=/", "/events",
                "/no-such-page", "/healthz/x")) {
            assertUnauthorized(get(path, null), path + " without credentials");
            assertUnauthorized(get(path, basic("prom", "wrong")), path + " with a wrong password");
        }
        assertUnauthorized(https.send(request("POST", "/metrics", null), HttpResponse.BodyHandlers.ofString()), "POST");
        assertUnauthorized(https.send(request("HEAD", "/metrics", basic("nobody", "s3cret")),
                HttpResponse.BodyHandlers.ofString()), "an unknown user");
        for (String malformed : List.of("Basic", "Basic !!!", "Basic " + Base64.getEncoder().encodeToString(
                "no-colon".getBytes(StandardCharsets.UTF_8)), "Bearer abc", "Digest username=\"prom\"")) {
            assertUnauthorized(get("/metrics", malformed), malformed);
        }
    }

    @Test
    void goodCredentialsGetData() throws Exception {
        for (String auth : List.of(basic("prom", "s3cret"), basic("grafana", "hunter2"), "basic "
                + Base64.getEncoder().encodeToString("prom:s3cret".getBytes(StandardCharsets.UTF_8)))) {
            HttpResponse<String> metrics = get("/metrics", auth);
            assertEquals(200, metrics.statusCode(), metrics.body());
            assertTrue(metrics.body().contains("cgscope_http_auth_refused_total"), metrics.body());
            assertEquals(200, get("/cgroups", auth).statusCode());
            assertEquals(404, get("/no-such-page", auth).statusCode(), "routing goes on after auth");
        }
        assertUnauthorized(get("/metrics", basic("grafana", "s3cret")), "another user's password");
    }

    @Test
    void healthzWithoutCredentialsSaysOnlyItsStatus() throws Exception {
        HttpResponse<String> anonymous = get("/healthz", null);
        assertEquals(200, anonymous.statusCode(), anonymous.body());
        assertEquals("{\"status\":\"ok\"}\n", anonymous.body());
        assertTrue(anonymous.headers().firstValue("WWW-Authenticate").isEmpty());

        HttpResponse<String> full = get("/healthz", basic("prom", "s3cret"));
        assertEquals(200, full.statusCode(), full.body());
        assertEquals("ok", new JsonObject(full.body()).getString("status"));
        assertNotNull(new JsonObject(full.body()).getString("index_mode"), "details for an authenticated client");

        assertUnauthorized(get("/healthz", basic("prom", "wrong")), "/healthz with wrong credentials");

        index.health().notFollowing("fanotify reader failed: EBADF on /some/path; retrying");
        try {
            HttpResponse<String> down = get("/healthz", null);
            assertEquals(503, down.statusCode());
            assertEquals("{\"error\":\"not healthy\"}\n", down.body(), "no reason for an anonymous client");
            HttpResponse<String> why = get("/healthz", basic("prom", "s3cret"));
            assertEquals(503, why.statusCode());
            assertTrue(why.body().contains("EBADF on /some/path"), why.body());
        } finally {
            index.health().followingAgain();
        }
    }

    @Test
    void plainHttpToTheTlsPortFailsCleanlyAndTlsGoesOn() throws Exception {
        double before = refusedHandshakes();
        for (int i = 0; i < 3; i++) {
            try (Socket s = new Socket(InetAddress.getLoopbackAddress(), server.port())) {
                s.setSoTimeout(10_000);
                OutputStream out = s.getOutputStream();
                out.write("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                out.flush();
                byte[] answer;
                try {
                    answer = s.getInputStream().readAllBytes();
                } catch (IOException e) {
                    answer = new byte[0]; // a reset: also a clean refusal
                }
                String text = new String(answer, StandardCharsets.ISO_8859_1);
                assertFalse(text.startsWith("HTTP/1.1 5") || text.contains("cgscope_"), "no 5xx, no data: " + text);
            }
        }
        HttpResponse<String> after = get("/metrics", basic("prom", "s3cret"));
        assertEquals(200, after.statusCode(), "HTTPS still served");
        assertTrue(refusedHandshakes() >= before + 3, "counted: " + refusedHandshakes());
    }

    /**
     * bcrypt runs on its own worker: while wrong passwords for a cost-12 hash keep it busy for
     * seconds, remembered credentials are answered at once.
     */
    @Test
    void passwordChecksDoNotHoldOtherRequests() throws Exception {
        String good = basic("grafana", "hunter2");
        assertEquals(200, get("/cgroups", good).statusCode()); // now remembered
        List<CompletableFuture<HttpResponse<String>>> slow = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            slow.add(https.sendAsync(request("GET", "/metrics", basic("slow", "wrong" + i)),
                    HttpResponse.BodyHandlers.ofString()));
        }
        Thread.sleep(100);
        HttpResponse<String> fast = get("/cgroups", good);
        assertEquals(200, fast.statusCode());
        boolean slowStillRunning = slow.stream().anyMatch(f -> !f.isDone());
        for (CompletableFuture<HttpResponse<String>> f : slow) {
            assertUnauthorized(f.get(), "slow wrong password");
        }
        assertTrue(slowStillRunning, "remembered credentials answered while the bcrypt checks were still running");
    }

    private static double refusedHandshakes() throws Exception {
        for (String line : get("/metrics", basic("prom", "s3cret")).body().split("\n")) {
            if (line.startsWith("cgscope_http_tls_handshake_errors_total ")) {
                return Double.parseDouble(line.substring(line.indexOf(' ') + 1));
            }
        }
        throw new AssertionError("no cgscope_http_tls_handshake_errors_total");
    }
}
