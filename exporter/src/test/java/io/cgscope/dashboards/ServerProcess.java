package io.cgscope.dashboards;

import io.cgscope.testing.Await;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
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
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A server the end-to-end test starts as a real process on a loopback port: cgscope (the packaged
 * jar) or Prometheus. Its output goes to a log file in the test's folder; {@link #close()} stops it
 * by its PID (SIGTERM, then SIGKILL after a grace period), never by name.
 */
public final class ServerProcess implements AutoCloseable {
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private static final Pattern CGSCOPE_LISTENING = Pattern.compile("http: listening on (\\S+):(\\d+),");

    private final String name;
    private final Process process;
    private final Path log;
    private final String address;

    private ServerProcess(String name, Process process, Path log, String address) {
        this.name = name;
        this.process = process;
        this.log = log;
        this.address = address;
    }

    /** Starts cgscope from {@code $CGSCOPE_JAR} on an ephemeral loopback port; returns once it serves. */
    public static ServerProcess cgscope(Path dir, String... flags) throws IOException {
        String jar = System.getenv("CGSCOPE_JAR");
        if (jar == null || !Files.isRegularFile(Path.of(jar))) {
            throw new IllegalStateException("CGSCOPE_JAR names no jar (" + jar + "): run through `mvn verify`");
        }
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:+UseShenandoahGC", "-Xmx256m", "-jar", jar, "--web.listen-address=127.0.0.1:0",
                "--cgroup.hierarchy=unified")); // its cgroups are in the unified hierarchy (auto may pick a v1 one)
        command.addAll(List.of(flags));
        Path log = dir.resolve("cgscope.log");
        Process p = start(command, log);
        // the HTTP component logs the port it bound
        String[] bound = new String[1];
        Await.until(Duration.ofSeconds(60), () -> {
            Matcher m = CGSCOPE_LISTENING.matcher(read(log));
            if (m.find()) {
                bound[0] = m.group(1) + ":" + m.group(2);
                return true;
            }
            if (!p.isAlive()) {
                throw new AssertionError("cgscope exited with " + p.exitValue() + ":\n" + read(log));
            }
            return false;
        }, () -> "cgscope listening; its log:\n" + read(log));
        return new ServerProcess("cgscope", p, log, bound[0]);
    }

    /**
     * Starts Prometheus ({@code /usr/bin/prometheus}) with its own config and storage in {@code dir},
     * on a free loopback port; returns once it is ready.
     */
    public static ServerProcess prometheus(Path dir, String config) throws IOException {
        Path configFile = dir.resolve("prometheus.yml");
        Files.writeString(configFile, config);
        Path storage = Files.createDirectories(dir.resolve("data"));
        String address = "127.0.0.1:" + freePort();
        Path log = dir.resolve("prometheus.log");
        Process p = start(List.of("/usr/bin/prometheus", "--config.file=" + configFile,
                "--storage.tsdb.path=" + storage, "--web.listen-address=" + address,
                "--storage.tsdb.retention.time=1h", "--log.level=warn"), log);
        ServerProcess server = new ServerProcess("prometheus", p, log, address);
        Await.until(Duration.ofSeconds(30), () -> {
            if (!p.isAlive()) {
                throw new AssertionError("prometheus exited with " + p.exitValue() + ":\n" + read(log));
            }
            try {
                return server.get("/-/ready").statusCode() == 200;
            } catch (IOException e) {
                return false;
            }
        }, () -> "prometheus ready; its log:\n" + read(log));
        return server;
    }

    private static Process start(List<String> command, Path log) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        Process p = pb.start();
        p.getOutputStream().close();
        return p;
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    static String read(Path file) {
        try {
            return Files.exists(file) ? Files.readString(file) : "";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public String address() {
        return address;
    }

    public long pid() {
        return process.pid();
    }

    public String log() {
        return read(log);
    }

    public HttpResponse<String> get(String pathAndQuery) throws IOException {
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://" + address + pathAndQuery))
                .timeout(Duration.ofSeconds(20)).GET().build();
        try {
            return HTTP.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
    }

    /** Prometheus: an instant query through {@code /api/v1/query}; the JSON answer, error or not. */
    /** The result vector of an instant query; a query Prometheus refuses fails the test, no answer gives an empty one. */
    public io.vertx.core.json.JsonArray results(String promql) {
        try {
            JsonObject answer = query(promql);
            if (!"success".equals(answer.getString("status"))) {
                throw new AssertionError(promql + ": " + answer.encode());
            }
            return answer.getJsonObject("data").getJsonArray("result");
        } catch (IOException e) {
            return new io.vertx.core.json.JsonArray();
        }
    }

    public JsonObject query(String promql) throws IOException {
        HttpResponse<String> r = get("/api/v1/query?query=" + URLEncoder.encode(promql, StandardCharsets.UTF_8));
        try {
            return new JsonObject(r.body());
        } catch (RuntimeException e) {
            throw new AssertionError("not JSON (HTTP " + r.statusCode() + ") for " + promql + ": " + r.body(), e);
        }
    }

    /** Prometheus: GET an API path, its JSON answer. */
    public JsonObject api(String path) throws IOException {
        HttpResponse<String> r = get(path);
        if (r.statusCode() != 200) {
            throw new AssertionError(path + ": HTTP " + r.statusCode() + " " + r.body());
        }
        return new JsonObject(r.body());
    }

    /** Stops the process by its PID: SIGTERM, then SIGKILL after 15 s; returns its exit code. */
    public int stop() {
        process.destroy();
        try {
            if (!process.waitFor(15, TimeUnit.SECONDS)) {
                System.err.println(name + " (pid " + process.pid() + ") ignored SIGTERM for 15 s: killing it");
                process.destroyForcibly();
                process.waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
        return process.isAlive() ? -1 : process.exitValue();
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            stop();
        }
    }
}
