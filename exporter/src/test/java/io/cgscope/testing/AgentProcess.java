package io.cgscope.testing;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * cgscope as a real process: {@code java -jar $CGSCOPE_JAR} on a loopback port, its log in a
 * temporary file. Signals go to its PID; {@link #close()} ends it by PID.
 */
public final class AgentProcess implements AutoCloseable {
    private final Process process;
    private final int port;
    private final Path log;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private AgentProcess(Process process, int port, Path log) {
        this.process = process;
        this.port = port;
        this.log = log;
    }

    /** Starts the jar with these flags (plus a free loopback port) and waits until /healthz says 200. */
    public static AgentProcess start(String... flags) throws IOException {
        return start(List.of(), flags);
    }

    /**
     * Starts the jar as {@link #start(String...)} does, through a launcher that execs it (e.g.
     * {@code setpriv ... --}): the launcher's PID becomes the JVM's, so signals and /proc still work.
     */
    public static AgentProcess start(List<String> launcher, String... flags) throws IOException {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        return start(launcher, port, flags);
    }

    /** Starts the jar on this loopback port (e.g. the one of an agent that stopped: a restart). */
    public static AgentProcess startOn(int port, String... flags) throws IOException {
        return start(List.of(), port, flags);
    }

    /**
     * Starts the jar as {@link #start(List, String...)} does, but waits only until its log says it
     * listens (for an agent whose /healthz needs TLS).
     */
    public static AgentProcess startListening(List<String> launcher, String... flags) throws IOException {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        return start(launcher, port, agent -> agent.log().contains("msg=\"http: listening on"), flags);
    }

    private static AgentProcess start(List<String> launcher, int port, String... flags) throws IOException {
        return start(launcher, port, agent -> agent.status("/healthz") == 200, flags);
    }

    private static AgentProcess start(List<String> launcher, int port, java.util.function.Predicate<AgentProcess> ready,
                                      String... flags) throws IOException {
        String jar = System.getenv("CGSCOPE_JAR");
        if (jar == null || !Files.isRegularFile(Path.of(jar))) {
            throw new IllegalStateException("CGSCOPE_JAR does not name the built jar (run through mvn verify): " + jar);
        }
        Path log = Files.createTempFile("cgscope-agent", ".log");
        List<String> cmd = new ArrayList<>(launcher);
        cmd.addAll(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:+UseShenandoahGC", "-Xmx512m", "-jar", jar, "--web.listen-address=127.0.0.1:" + port,
                // The tests make their cgroups in the unified hierarchy; on a hybrid host --cgroup.hierarchy=auto
                // may name the metrics by a v1 hierarchy instead. A test's own flag comes later and wins.
                "--cgroup.hierarchy=unified"));
        cmd.addAll(List.of(flags));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        AgentProcess agent = new AgentProcess(p, port, log);
        try {
            Await.until(Duration.ofSeconds(60), () -> {
                if (!p.isAlive()) {
                    throw new AssertionError("cgscope exited with " + p.exitValue() + ": " + agent.log());
                }
                return ready.test(agent);
            }, () -> "cgscope not ready: " + agent.log());
        } catch (RuntimeException | Error e) {
            agent.close();
            throw e;
        }
        return agent;
    }

    public long pid() {
        return process.pid();
    }

    public int port() {
        return port;
    }

    public String log() {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }

    /** GET, body as a string; throws on connection failure. */
    public HttpResponse<String> get(String pathAndQuery) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + pathAndQuery))
                .timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
    }

    /** The status of a GET, or -1 when the server does not answer. */
    public int status(String pathAndQuery) {
        try {
            return get(pathAndQuery).statusCode();
        } catch (IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    /**
     * The value of a sample in /metrics: {@code name} sums all its samples, {@code name{a="b"}}
     * (labels exactly as exported, in order) picks one.
     */
    public double metric(String nameWithLabels) throws IOException, InterruptedException {
        double sum = 0;
        boolean found = false;
        for (String raw : get("/metrics").body().split("\n")) {
            String line = raw.replace(",}", "}"); // text format 0.0.4 as simpleclient writes it: {a="b",}
            if (line.startsWith(nameWithLabels + " ") || line.startsWith(nameWithLabels + "{")
                    && nameWithLabels.indexOf('{') < 0) {
                sum += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
                found = true;
            }
        }
        if (!found) {
            throw new AssertionError("no sample " + nameWithLabels + " in /metrics");
        }
        return sum;
    }

    /** The live cgroups at or below {@code prefix} as {@code /cgroups} lists them: id -> path (empty if it does not answer). */
    public java.util.Map<Long, String> liveCgroups(String prefix) {
        try {
            io.vertx.core.json.JsonObject o = new io.vertx.core.json.JsonObject(
                    get("/cgroups?state=live&limit=10000&prefix=" + prefix).body());
            java.util.Map<Long, String> out = new java.util.TreeMap<>();
            io.vertx.core.json.JsonArray cgroups = o.getJsonArray("cgroups");
            for (int i = 0; i < cgroups.size(); i++) {
                io.vertx.core.json.JsonObject c = cgroups.getJsonObject(i);
                out.put(c.getLong("id"), c.getString("path"));
            }
            return out;
        } catch (IOException e) {
            return java.util.Map.of();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return java.util.Map.of();
        }
    }

    /** Sends a signal to the process by its PID ({@code kill -SIG pid}). */
    public void signal(String signal) throws IOException, InterruptedException {
        Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(process.pid())).inheritIO().start();
        if (kill.waitFor() != 0) {
            throw new IllegalStateException("kill -" + signal + " " + process.pid() + " failed");
        }
    }

    /** Waits for the process to exit and returns its status. */
    public int waitFor(Duration timeout) throws InterruptedException {
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new AssertionError("cgscope did not exit within " + timeout);
        }
        return process.exitValue();
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            process.destroy(); // SIGTERM to its PID
            try {
                if (!process.waitFor(5, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                    process.waitFor(5, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                process.destroyForcibly();
            }
        }
        try {
            Files.deleteIfExists(log);
        } catch (IOException ignored) {
            // a temp file
        }
    }
}
