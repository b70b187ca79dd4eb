import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The training run of cgscope's AOT cache (README, "Start-up and the AOT cache"): starts the agent
 * command given after {@code --}, which must write an AOT cache as it exits (-XX:AOTCacheOutput),
 * and drives it through what a node's agent does in its first minutes, so that the cache holds the
 * classes of those paths, loaded and linked, and their method profiles:
 * <ol>
 * <li>the start-up sweep: a tree of about 2,000 cgroups shaped like systemd's and the kubelet's
 *     exists before the agent starts;</li>
 * <li>churn through the fanotify reader: flat siblings, nested units, short-lived cgroups and
 *     same-name restarts, as {@code churn -m a|b|c|d} of the reference programs make them, until
 *     the agent has counted {@code --events} fanotify events;</li>
 * <li>meanwhile, on another thread, scrapes of {@code /metrics} (text and OpenMetrics, gzip, name
 *     filters), API lookups by id (known, hex, unknown: the kernel lookup), by path and listings,
 *     {@code /healthz}, {@code /}, error answers, and an {@code /events} stream read as it goes;</li>
 * <li>SIGTERM, and the exit status must be 0 (the JVM writes the cache as it exits).</li>
 * </ol>
 * Every cgroup is created below one parent named for this process and removed afterwards, children
 * first. Run as root, with only the JDK: {@code java Training.java [--cgroup2 DIR] [--port N]
 * [--events N] [--log FILE] -- COMMAND...}; {@code {port}} in the command stands for the port (a free
 * one on 127.0.0.1 unless given). Prints one summary line; exit status 1 on a failure, 2 on bad usage.
 */
public final class Training {
    private final Path cgroup2;
    private final Path parent;
    private final int port;
    private final long events;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final AtomicLong requests = new AtomicLong();
    private final AtomicLong created = new AtomicLong();
    private final AtomicReference<Exception> clientFailure = new AtomicReference<>();

    private Training(Path cgroup2, int port, long events) {
        this.cgroup2 = cgroup2;
        this.parent = cgroup2.resolve("cgscope-training-" + ProcessHandle.current().pid());
        this.port = port;
        this.events = events;
    }

    public static void main(String[] args) throws Exception {
        Path cgroup2 = null;
        Path log = Path.of("/dev/null");
        int port = 0;
        long events = 200_000;
        int i = 0;
        for (; i < args.length && !args[i].equals("--"); i += 2) {
            String value = i + 1 < args.length ? args[i + 1] : usage("missing value of " + args[i]);
            switch (args[i]) {
                case "--cgroup2" -> cgroup2 = Path.of(value);
                case "--port" -> port = Integer.parseInt(value);
                case "--events" -> events = Long.parseLong(value);
                case "--log" -> log = Path.of(value);
                default -> usage("unknown option " + args[i]);
            }
        }
        List<String> command = i < args.length ? Arrays.asList(args).subList(i + 1, args.length) : List.of();
        if (command.isEmpty()) {
            usage("give the agent's command after --");
        }
        if (port <= 0) {
            try (ServerSocket free = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
                port = free.getLocalPort();
            }
        }
        String portText = Integer.toString(port);
        command = command.stream().map(a -> a.replace("{port}", portText)).toList();
        if (cgroup2 == null) {
            cgroup2 = cgroup2Mount();
        }
        long start = System.nanoTime();
        Training t = new Training(cgroup2, port, events);
        try {
            String summary = t.run(command, log);
            System.out.printf("training: %s in %.1f s%n", summary, (System.nanoTime() - start) / 1e9);
        } catch (Exception e) {
            System.err.println("training: " + e.getMessage() + " (the agent's output: " + log + ")");
            System.exit(1);
        }
    }

    private static String usage(String why) {
        System.err.println("training: " + why
                + "\nusage: java Training.java [--cgroup2 DIR] [--port N] [--events N] [--log FILE] -- COMMAND...");
        System.exit(2);
        return null;
    }

    /** The cgroup2 mount point, from /proc/self/mountinfo (the host's unified hierarchy). */
    private static Path cgroup2Mount() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
            String[] f = line.split(" ");
            int dash = Arrays.asList(f).indexOf("-");
            if (dash > 0 && f[dash + 1].equals("cgroup2") && f[3].equals("/")) {
                return Path.of(f[4]);
            }
        }
        throw new IOException("no cgroup2 mount in /proc/self/mountinfo");
    }

    private String run(List<String> command, Path log) throws Exception {
        Files.createDirectory(parent);
        Process agent = null;
        AtomicBoolean churning = new AtomicBoolean(true);
        Thread client = null;
        try {
            startupTree();
            agent = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.to(log.toFile())).start();
            agent.getOutputStream().close();
            awaitHealthy(agent, Duration.ofSeconds(180));
            long events0 = metric("cgscope_index_events_total");
            client = Thread.ofPlatform().name("training-client").start(() -> clientLoop(churning));
            long done;
            int round = 0;
            long progressed = System.nanoTime();
            long counted = 0;
            while ((done = metric("cgscope_index_events_total") - events0) < events) {
                if (done > counted) {
                    counted = done;
                    progressed = System.nanoTime();
                } else if (System.nanoTime() - progressed > TimeUnit.SECONDS.toNanos(120)) {
                    // Its index follows another tree than the one churned here (say, a v1 hierarchy).
                    throw new IOException("the agent counted no new index event in 120 s of churn in " + parent
                            + ": does it index that cgroup2 hierarchy (--cgroup.root, --cgroup.hierarchy=unified)?");
                }
                churnRound(round++);
                if (!agent.isAlive()) {
                    throw new IOException("the agent exited with status " + agent.exitValue() + " during the churn");
                }
            }
            churning.set(false);
            client.join();
            if (clientFailure.get() != null) {
                throw new IOException("the training client failed: " + clientFailure.get(), clientFailure.get());
            }
            lookups();
            agent.destroy();  // SIGTERM
            if (!agent.waitFor(600, TimeUnit.SECONDS)) {
                throw new IOException("the agent did not exit within 600 s of SIGTERM");
            }
            if (agent.exitValue() != 0) {
                throw new IOException("the agent exited with status " + agent.exitValue() + " after SIGTERM");
            }
            return String.format("%d cgroups created and removed, %d fanotify events, %d requests",
                    created.get(), done, requests.get());
        } finally {
            churning.set(false);
            if (client != null) {
                client.join();
            }
            if (agent != null && agent.isAlive()) {
                agent.destroyForcibly().waitFor();
            }
            removeTree(parent);
        }
    }

    /** What the start-up sweep finds: units of a systemd slice, and pods with containers. */
    private void startupTree() throws IOException {
        Path system = mkdir(parent.resolve("system.slice"));
        for (int i = 0; i < 500; i++) {
            mkdir(system.resolve("unit-" + i + ".service"));
        }
        Path pods = mkdir(mkdir(parent.resolve("kubepods.slice")).resolve("kubepods-burstable.slice"));
        for (int p = 0; p < 300; p++) {
            Path pod = mkdir(pods.resolve("kubepods-burstable-pod" + p + ".slice"));
            for (int c = 0; c < 4; c++) {
                mkdir(pod.resolve("cri-containerd-" + p + "x" + c + ".scope"));
            }
        }
    }

    /** One round of each churn mode, about 20,000 fanotify events in all. */
    private void churnRound(int round) throws IOException {
        Path flat = mkdir(parent.resolve("flat-" + round));  // mode a: many siblings, then all removed
        List<Path> siblings = new ArrayList<>();
        for (int i = 0; i < 3000; i++) {
            siblings.add(mkdir(flat.resolve("c" + i)));
        }
        for (Path p : siblings) {
            Files.delete(p);
        }
        Files.delete(flat);
        Path nested = mkdir(mkdir(parent.resolve("x" + round + ".slice")).resolve("y.slice"));  // mode b
        for (int i = 0; i < 2000; i++) {
            Files.delete(mkdir(nested.resolve("unit" + i + ".service")));
        }
        Files.delete(nested);
        Files.delete(nested.getParent());
        for (int i = 0; i < 3000; i++) {  // mode c: short-lived, each its own name
            Files.delete(mkdir(parent.resolve("short-" + round + "-" + i)));
        }
        Path same = parent.resolve("restarted.service");  // mode d: the same name again and again
        for (int i = 0; i < 2000; i++) {
            Files.delete(mkdir(same));
        }
    }

    /** Scrapes and lookups while the churn runs, as Prometheus and API clients would. */
    private void clientLoop(AtomicBoolean churning) {
        HttpRequest.Builder events = HttpRequest.newBuilder(uri("/events")).timeout(Duration.ofSeconds(30));
        var stream = http.sendAsync(events.build(), HttpResponse.BodyHandlers.ofInputStream());
        int n = 0;
        try {
            while (churning.get()) {
                get("/metrics", "text/plain");
                get("/metrics", "application/openmetrics-text; version=1.0.0; charset=utf-8");
                get("/metrics?name%5B%5D=cgscope_index_events_total&name%5B%5D=cgscope_index_cgroups", "*/*");
                lookups();
                if (n++ % 10 == 0) {
                    readSome(stream.get(30, TimeUnit.SECONDS).body());
                }
                Thread.sleep(20);
            }
            stream.get(30, TimeUnit.SECONDS).body().close();
        } catch (Exception e) {
            clientFailure.set(e);
        }
    }

    private static void readSome(InputStream body) throws IOException {
        byte[] buffer = new byte[16384];
        int available = Math.min(body.available(), buffer.length);
        if (available > 0) {
            body.readNBytes(buffer, 0, available);
        }
    }

    private void lookups() throws IOException, InterruptedException {
        long system = (Long) Files.getAttribute(parent.resolve("system.slice"), "unix:ino");
        String relative = cgroup2.relativize(parent).toString();
        get("/healthz", null);
        get("/", "text/html");
        get("/cgroup/" + system, null);
        get("/cgroup/0x" + Long.toHexString(system), null);
        get("/cgroup/" + (Long) Files.getAttribute(parent, "unix:ino"), null);
        get("/cgroup?path=" + relative + "/system.slice/unit-7.service", null);
        get("/cgroup?path=/" + relative + "/restarted.service", null);
        get("/cgroups?prefix=" + relative + "/kubepods.slice&state=live&limit=100", null);
        get("/cgroups?prefix=" + relative + "&state=dead&limit=1000", null);
        get("/cgroup/abc", null);  // 400
        get("/cgroup/18446744073709551615", null);  // unknown: asked of the kernel, 404
        get("/nothing-here", null);  // 404
        send(HttpRequest.newBuilder(uri("/metrics")).DELETE());  // 405
    }

    private void get(String path, String accept) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri(path)).header("Accept-Encoding", "gzip");
        if (accept != null) {
            b.header("Accept", accept);
        }
        send(b);
    }

    private String send(HttpRequest.Builder request) throws IOException, InterruptedException {
        requests.incrementAndGet();
        return new String(http.send(request.timeout(Duration.ofSeconds(30)).build(),
                HttpResponse.BodyHandlers.ofByteArray()).body(), java.nio.charset.StandardCharsets.ISO_8859_1);
    }

    private long metric(String name) throws IOException, InterruptedException {
        String body = send(HttpRequest.newBuilder(uri("/metrics?name%5B%5D=" + name)));
        long sum = 0;
        for (String line : body.split("\n")) {
            if (line.startsWith(name)) {
                sum += (long) Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        return sum;
    }

    private void awaitHealthy(Process agent, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (!agent.isAlive()) {
                throw new IOException("the agent exited with status " + agent.exitValue() + " before /healthz answered 200");
            }
            try {
                if (http.send(HttpRequest.newBuilder(uri("/healthz")).timeout(Duration.ofSeconds(5)).build(),
                        HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
                    return;
                }
            } catch (IOException notYet) {
                // not listening yet
            }
            Thread.sleep(50);
        }
        throw new IOException("/healthz did not answer 200 within " + timeout.toSeconds() + " s");
    }

    private URI uri(String path) {
        return URI.create("http://127.0.0.1:" + port + path);
    }

    private Path mkdir(Path p) throws IOException {
        Files.createDirectory(p);
        created.incrementAndGet();
        return p;
    }

    /** Removes a cgroup and everything below it, children first; a cgroup already gone is fine. */
    private static void removeTree(Path dir) throws IOException {
        List<Path> children = new ArrayList<>();
        try (DirectoryStream<Path> s = Files.newDirectoryStream(dir, Files::isDirectory)) {
            s.forEach(children::add);
        } catch (NoSuchFileException gone) {
            return;
        }
        for (Path c : children) {
            removeTree(c);
        }
        try {
            Files.delete(dir);
        } catch (NoSuchFileException gone) {
            // removed meanwhile
        }
    }
}
