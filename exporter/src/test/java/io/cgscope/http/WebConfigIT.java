package io.cgscope.http;

import io.cgscope.dashboards.ServerProcess;
import io.cgscope.testing.Await;
import io.cgscope.testing.Cleanup;
import io.cgscope.testing.KernelTest;
import io.cgscope.testing.KernelTest.Requirement;
import io.cgscope.testing.TestTls;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.io.IOException;
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
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * {@code --web.config.file} on the packaged jar: a real Prometheus scrapes it over TLS with basic
 * auth (certificate made by openssl now, the user's hash made by htpasswd), a scrape job with a
 * wrong password and one speaking plain HTTP to the TLS port get nothing, and a bad web config is
 * one line and exit status 2.
 */
class WebConfigIT {
    private static final Path PROMETHEUS = Path.of("/usr/bin/prometheus");

    @Test
    @KernelTest({Requirement.ROOT, Requirement.CGROUP2, Requirement.BPF})
    void prometheusScrapesOverTlsWithBasicAuth() throws Exception {
        // Under CI=true a failed assumption fails the test (KernelTest); test.sh installs prometheus.
        assumeTrue(Files.isExecutable(PROMETHEUS), "needs Debian's prometheus package (/usr/bin/prometheus)");
        Cleanup cleanup = new Cleanup();
        Path dir = Files.createTempDirectory("cgscope-tls-it-");
        cleanup.push(() -> Cleanup.deleteTree(dir));
        try {
            Path cert = dir.resolve("cert.pem");
            TestTls.selfSignedRsa(cert, dir.resolve("key.pem"));
            Path webConfig = dir.resolve("web-config.yml");
            Files.writeString(webConfig, """
                    tls_server_config:
                      cert_file: cert.pem
                      key_file: key.pem
                    basic_auth_users:
                      prom: '%s'
                    """.formatted(TestTls.PROM_S3CRET_2Y));

            ServerProcess cgscope = ServerProcess.cgscope(dir, "--web.config.file=" + webConfig);
            cleanup.push(cgscope);
            String target = cgscope.address();
            HttpClient https = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                    .sslContext(HttpTlsAuthTest.trusting(cert)).connectTimeout(Duration.ofSeconds(5)).build();
            cleanup.push(https::close);

            ServerProcess prometheus = ServerProcess.prometheus(dir, """
                    global:
                      scrape_interval: 1s
                      scrape_timeout: 1s
                    scrape_configs:
                      - job_name: cgscope
                        scheme: https
                        tls_config: {ca_file: %1$s}
                        basic_auth: {username: prom, password: s3cret}
                        static_configs: [{targets: ["%2$s"]}]
                      - job_name: wrong-password
                        scheme: https
                        tls_config: {ca_file: %1$s}
                        basic_auth: {username: prom, password: wrong}
                        static_configs: [{targets: ["%2$s"]}]
                      - job_name: plain-http
                        scheme: http
                        static_configs: [{targets: ["%2$s"]}]
                    """.formatted(cert, target));
            cleanup.push(prometheus);

            // (1) TLS with basic auth: the target is up and cgscope's metrics are queryable
            Await.until(Duration.ofSeconds(60), () -> !prometheus.results("up{job=\"cgscope\"} == 1").isEmpty()
                            && !prometheus.results("cgscope_build_info{job=\"cgscope\"}").isEmpty(),
                    () -> "cgscope up and scraped over TLS; targets: " + targets(prometheus)
                            + "\ncgscope log:\n" + cgscope.log() + "\nprometheus log:\n" + prometheus.log());
            // (2) a wrong password, (3) plain HTTP: down, with the reason, and no data
            Await.until(Duration.ofSeconds(30), () -> {
                JsonObject wrong = target(prometheus, "wrong-password");
                JsonObject plain = target(prometheus, "plain-http");
                return wrong != null && plain != null && "down".equals(wrong.getString("health"))
                        && "down".equals(plain.getString("health"));
            }, () -> "the wrong-password and plain-http targets down; targets: " + targets(prometheus));
            String wrongError = target(prometheus, "wrong-password").getString("lastError");
            assertTrue(wrongError.contains("401"), "wrong password: " + wrongError);
            assertFalse(target(prometheus, "plain-http").getString("lastError").contains("server returned HTTP status 5"),
                    "plain HTTP: " + target(prometheus, "plain-http").getString("lastError"));
            for (String job : List.of("wrong-password", "plain-http")) {
                assertEquals(new JsonArray(), prometheus.results("{job=\"" + job + "\",__name__=~\"cgscope_.*|jvm_.*\"}"),
                        job + " got no metrics data");
            }
            // cgscope counted both refusals
            Await.until(Duration.ofSeconds(20),
                    () -> !prometheus.results("cgscope_http_auth_refused_total{job=\"cgscope\"} > 0").isEmpty()
                            && !prometheus.results("cgscope_http_tls_handshake_errors_total{job=\"cgscope\"} > 0").isEmpty(),
                    () -> "refusals counted; targets: " + targets(prometheus));
            // after all those refusals the good job is still scraped (its latest scrape is up; a
            // single 1 s scrape timeout on a loaded machine is not what this is about)
            Await.until(Duration.ofSeconds(20), () -> !prometheus.results("up{job=\"cgscope\"} == 1").isEmpty(),
                    () -> "the good job still up after the refusals; targets: " + targets(prometheus));

            // the same, asked directly
            HttpResponse<String> wrong = https.send(request(target, "/metrics", "prom", "wrong"),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(401, wrong.statusCode());
            assertEquals("Basic realm=\"cgscope\"", wrong.headers().firstValue("WWW-Authenticate").orElse(null));
            assertFalse(wrong.body().contains("cgscope_"), wrong.body());
            assertPlainHttpRefused(target);
            // (4) /healthz: status only without credentials, details with them
            HttpResponse<String> anonymous = https.send(request(target, "/healthz", null, null),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, anonymous.statusCode(), anonymous.body());
            assertEquals("{\"status\":\"ok\"}\n", anonymous.body());
            HttpResponse<String> full = https.send(request(target, "/healthz", "prom", "s3cret"),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, full.statusCode(), full.body());
            assertTrue(new JsonObject(full.body()).containsKey("index_mode"), full.body());

            String log = cgscope.log();
            assertTrue(log.contains("TLS with " + cert), log);
            assertFalse(log.contains("level=error") || log.contains("internal error"), log);
            assertEquals(0, cgscope.stop(), "cgscope stops cleanly on SIGTERM; its log:\n" + cgscope.log());
        } finally {
            cleanup.close();
        }
    }

    /** (5) Flags are parsed before anything privileged: no root needed to see these fail. */
    @Test
    void aBadWebConfigIsOneLineAndStatus2() throws Exception {
        Path dir = Files.createTempDirectory("cgscope-tls-it-");
        try {
            TestTls.selfSignedRsa(dir.resolve("cert.pem"), dir.resolve("key.pem"));
            TestTls.selfSignedRsa(dir.resolve("other.pem"), dir.resolve("other.key"));
            Files.writeString(dir.resolve("garbage.pem"), "not a certificate\n");
            String[][] cases = {
                {"tls_server_config: {cert_file: cert.pem, key_file: other.key}\n", "does not belong to the certificate"},
                {"tls_server_config: {cert_file: garbage.pem, key_file: key.pem}\n", "no PEM certificate"},
                {"tls_server_config: {cert_file: cert.pem, key_file: cert.pem}\n", "no PEM RSA private key"},
                {"tls_server_config: {cert_file: cert.pem, key_file: missing.pem}\n", "key_file: cannot read"},
                {"basic_auth_users: {prom: s3cret}\n", "not a bcrypt hash"},
                {"basic_auth_user: {prom: x}\n", "unknown key"},
            };
            for (String[] c : cases) {
                Path file = dir.resolve("web-config.yml");
                Files.writeString(file, c[0]);
                Process p = new ProcessBuilder(command("--web.listen-address=127.0.0.1:0", "--web.config.file=" + file))
                        .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
                String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
                assertTrue(p.waitFor(30, TimeUnit.SECONDS), c[0]);
                assertEquals(2, p.exitValue(), c[0] + ": " + err);
                assertEquals(1, err.lines().count(), "one line: " + err);
                assertTrue(err.startsWith("cgscope: --web.config.file=" + file + ": "), err);
                assertTrue(err.contains(c[1]), c[1] + " in " + err);
            }
        } finally {
            Cleanup.deleteTree(dir);
        }
    }

    /** A plain HTTP request on the TLS port: refused (closed, reset, or an error), never a 5xx or data. */
    private static void assertPlainHttpRefused(String target) throws IOException {
        int colon = target.lastIndexOf(':');
        try (Socket s = new Socket(InetAddress.getByName(target.substring(0, colon)),
                Integer.parseInt(target.substring(colon + 1)))) {
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            out.write("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            String answer;
            try {
                answer = new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
            } catch (IOException e) {
                answer = "";
            }
            assertFalse(answer.startsWith("HTTP/1.1 5") || answer.contains("cgscope_"), answer);
        }
    }

    private static HttpRequest request(String target, String path, String user, String password) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("https://" + target + path))
                .timeout(Duration.ofSeconds(20));
        if (user != null) {
            b.header("Authorization", HttpTlsAuthTest.basic(user, password));
        }
        return b.build();
    }

    private static List<String> command(String... flags) {
        String jar = System.getenv("CGSCOPE_JAR");
        if (jar == null || !Files.isRegularFile(Path.of(jar))) {
            throw new IllegalStateException("CGSCOPE_JAR names no jar (" + jar + "): run through `mvn verify`");
        }
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx128m", "-jar", jar));
        command.addAll(List.of(flags));
        return command;
    }

    /** The active target of this job in Prometheus's /api/v1/targets, or null before its first scrape. */
    private static JsonObject target(ServerProcess prometheus, String job) {
        try {
            for (Object o : prometheus.api("/api/v1/targets?state=active").getJsonObject("data")
                    .getJsonArray("activeTargets")) {
                JsonObject t = (JsonObject) o;
                if (job.equals(t.getJsonObject("labels").getString("job")) && !"unknown".equals(t.getString("health"))) {
                    return t;
                }
            }
        } catch (IOException e) {
            return null;
        }
        return null;
    }

    private static String targets(ServerProcess prometheus) {
        try {
            return prometheus.api("/api/v1/targets?state=active").encodePrettily();
        } catch (IOException | RuntimeException e) {
            return "(" + e + ")";
        }
    }
}
