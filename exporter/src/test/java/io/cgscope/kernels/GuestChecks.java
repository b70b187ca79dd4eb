package io.cgscope.kernels;

import io.cgscope.testing.Await;
import io.cgscope.testing.BpfPrograms;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The guest half of {@link KernelMatrixIT}: runs inside a {@code GuestVm} (as the guest script
 * {@code exporter/scripts/kernel-matrix-checks.sh}), starts the real jar with the deployment's JVM
 * flags, drives it and writes what it saw into the results directory; the host half asserts.
 * Everything runs from this one JVM (churn, lookups, the busy loop's cgroup): under emulation a
 * process per cgroup operation costs about 0.3 s, and one HTTP request 30-110 ms.
 *
 * <p>Results: {@code checks.properties} (the facts, one per key), {@code metrics.txt} (the last
 * scrape), {@code agent.log}, {@code churn.txt} ({@code id status} per short-lived cgroup),
 * {@code summary.txt} (for a human).
 */
public final class GuestChecks {
    static final int CHURN = 2_000;
    static final String PARENT = "kernel-matrix";
    /** Of the short-lived cgroups, how many are also asked for one by one ({@code /cgroup/<id>}). */
    static final int BY_ID = 100;
    /** One cgroup of a {@code /cgroups} listing: id and path (paths here need no JSON escapes). */
    private static final Pattern LISTED = Pattern.compile("\\{\"id\":(\\d+),\"path\":\"([^\"]*)\"[^}]*\"state\":\"dead\"");
    private static final Pattern MODE = Pattern.compile("\"index_mode\":\"([a-z]+)\"");
    /** The flags after the command in the unit's ExecStart (continuation lines joined). */
    private static final Pattern EXEC_START = Pattern.compile("(?m)^ExecStart=\\S+(.*)$");
    private static final String PORT = "9486";

    private final Path results;
    private final Path cgroupRoot = Path.of("/sys/fs/cgroup");
    private final Map<String, String> facts = new LinkedHashMap<>();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    private final long t0 = System.nanoTime();
    private Process agent;

    private GuestChecks(Path results) {
        this.results = results;
    }

    /** Args: results directory, the built jar, the project's top directory. */
    public static void main(String[] args) throws Exception {
        GuestChecks c = new GuestChecks(Path.of(args[0]));
        try {
            c.run(Path.of(args[1]), Path.of(args[2]));
        } catch (Throwable t) {
            StringWriter w = new StringWriter();
            t.printStackTrace(new PrintWriter(w));
            c.fact("error", t.toString().replace('\n', ' '));
            Files.writeString(c.results.resolve("error.txt"), w.toString());
            t.printStackTrace();
        } finally {
            c.stopAgent();
            c.write();
        }
    }

    private void run(Path jar, Path top) throws Exception {
        fact("kernel", Files.readString(Path.of("/proc/sys/kernel/osrelease")).strip());
        fact("programs.before", BpfPrograms.loaded().toString());
        startAgent(jar, top);
        churn();
        busyCpu();
        scrape();
        shutdown();
    }

    /**
     * cgscope as the deployment's systemd unit starts it: the launcher beside the jar (it passes
     * jvm.options, the deployment's JVM flags) with the unit's flags (so {@code --run-as=nobody}
     * too), listening on loopback instead. The launcher execs java: its PID is the JVM's.
     */
    private void startAgent(Path jar, Path top) throws Exception {
        String unit = Files.readString(top.resolve("exporter/deploy/systemd/cgscope.service")).replace("\\\n", " ");
        Matcher exec = EXEC_START.matcher(unit);
        if (!exec.find()) {
            throw new IllegalStateException("no ExecStart= in the systemd unit");
        }
        Path launcher = jar.resolveSibling("cgscope");
        if (!Files.isExecutable(launcher)) {
            throw new IllegalStateException("no launcher " + launcher + " beside the jar (mvn package builds it)");
        }
        List<String> cmd = new ArrayList<>(List.of(launcher.toString(), "--web.listen-address=127.0.0.1:" + PORT));
        for (String flag : exec.group(1).trim().split("\\s+")) {
            if (!flag.startsWith("--web.listen-address")) {
                cmd.add(flag);
            }
        }
        fact("agent.command", String.join(" ", cmd));
        agent = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(results.resolve("agent.log").toFile()).start();
        fact("agent.pid", Long.toString(agent.pid()));
        // 30-40 s on a quiet host under emulation; 190 s was seen with the host loaded 12x over its cores.
        Await.until(Duration.ofSeconds(420), () -> {
            if (!agent.isAlive()) {
                throw new IllegalStateException("cgscope exited with " + agent.exitValue() + " before it was healthy");
            }
            return status("/healthz") == 200;
        }, () -> "cgscope not healthy");
        fact("agent.healthy_after_s", seconds());
        String health = get("/healthz").body();
        fact("healthz", health);
        Matcher mode = MODE.matcher(health);
        fact("index.mode", mode.find() ? mode.group(1) : "?");
    }

    /**
     * {@value #CHURN} cgroups, each removed right after it was made and its id read (st_ino is
     * the cgroup id); then a live marker, made last: once the index names it, every earlier
     * event has been applied (one reader, in order) or, in sweep mode, a sweep has run since.
     */
    private void churn() throws Exception {
        Path parent = cgroupRoot.resolve(PARENT + "/churn");
        Files.createDirectories(parent);
        long[] ids = new long[CHURN];
        long start = System.nanoTime();
        for (int i = 0; i < CHURN; i++) {
            Path c = parent.resolve("c" + i);
            Files.createDirectory(c);
            ids[i] = (Long) Files.getAttribute(c, "unix:ino");
            Files.delete(c);
        }
        fact("churn.seconds", String.format("%.1f", (System.nanoTime() - start) / 1e9));
        Files.createDirectory(cgroupRoot.resolve(PARENT + "/done"));
        Await.until(Duration.ofSeconds(120), () -> status("/cgroup?path=" + PARENT + "/done") == 200,
                () -> "the marker cgroup " + PARENT + "/done never appeared in the index");
        start = System.nanoTime();
        // All of them in one listing (a request costs 30-110 ms under emulation), then a sample by id.
        Map<Long, String> dead = new LinkedHashMap<>();
        String listing = get("/cgroups?state=dead&limit=10000&prefix=" + PARENT + "/churn").body();
        Matcher e = LISTED.matcher(listing);
        while (e.find()) {
            dead.put(Long.parseUnsignedLong(e.group(1)), e.group(2));
        }
        int resolved = 0;
        StringBuilder lines = new StringBuilder();
        List<String> misses = new ArrayList<>();
        for (int i = 0; i < CHURN; i++) {
            String path = PARENT + "/churn/c" + i;
            boolean ok = path.equals(dead.get(ids[i]));
            if (ok) {
                resolved++;
            } else if (misses.size() < 5) {
                misses.add(Long.toUnsignedString(ids[i]) + " " + path + " listed as " + dead.get(ids[i]));
            }
            lines.append(Long.toUnsignedString(ids[i])).append(' ').append(path).append(' ')
                    .append(ok ? "resolved" : "missing").append('\n');
        }
        int byId = 0;
        int asked = 0;
        for (int i = 0; i < CHURN; i += CHURN / BY_ID) {
            HttpResponse<String> r = get("/cgroup/" + Long.toUnsignedString(ids[i]));
            asked++;
            if (r.statusCode() == 200 && r.body().contains("\"path\":\"" + PARENT + "/churn/c" + i + "\"")
                    && r.body().contains("\"state\":\"dead\"")) {
                byId++;
            } else if (misses.size() < 10) {
                misses.add("/cgroup/" + Long.toUnsignedString(ids[i]) + ": " + r.statusCode() + " " + r.body());
            }
        }
        Files.writeString(results.resolve("churn.txt"), lines);
        fact("churn.created", Integer.toString(CHURN));
        fact("churn.resolved", Integer.toString(resolved));
        fact("churn.by_id.asked", Integer.toString(asked));
        fact("churn.by_id.resolved", Integer.toString(byId));
        fact("churn.misses", String.join(" | ", misses));
        fact("churn.lookup_seconds", String.format("%.1f", (System.nanoTime() - start) / 1e9));
    }

    /**
     * A busy loop alone in a cgroup the index knows, until its {@code cpu.stat} says 3 s, then ended:
     * once it is gone both counts are final, and cgscope's must match the kernel's.
     */
    private void busyCpu() throws Exception {
        Path busy = cgroupRoot.resolve(PARENT + "/busy");
        Files.createDirectories(busy);
        // Named before it runs: this checks accounting, not indexing. (In sweep mode, after the drop
        // to nobody, an id no sweep has seen cannot be looked up on demand: it would count as
        // /unknown, as a short-lived cgroup's CPU does on 6.1 today.)
        Await.until(Duration.ofSeconds(120), () -> status("/cgroup?path=" + PARENT + "/busy") == 200,
                () -> "the busy cgroup never appeared in the index");
        Process loop = new ProcessBuilder("/bin/sh", "-c",
                "echo $$ > " + busy.resolve("cgroup.procs") + " && while :; do :; done").start();
        try {
            Await.until(Duration.ofSeconds(120), () -> usageUsec(busy) >= 3_000_000,
                    () -> "the busy loop never reached 3 s of CPU: " + usageUsec(busy) + " us");
        } finally {
            loop.destroyForcibly();
            loop.waitFor(30, TimeUnit.SECONDS);
        }
        Await.until(Duration.ofSeconds(30), () -> populated(busy).equals("0"), () -> "the busy cgroup stays populated");
        fact("cpu.busy.cpu_stat_seconds", Double.toString(usageUsec(busy) / 1e6));
        String label = "cgscope_cgroup_cpu_seconds_total{cgroup=\"" + PARENT + "/busy\"}";
        String seconds = "absent";
        for (String line : get("/metrics").body().split("\n")) {
            if (line.replace(",}", "}").startsWith(label + " ")) {
                seconds = line.substring(line.lastIndexOf(' ') + 1);
            }
        }
        fact("cpu.busy.cgscope_seconds", seconds);
    }

    private void scrape() throws Exception {
        HttpResponse<String> r = get("/metrics");
        fact("metrics.status", Integer.toString(r.statusCode()));
        Files.writeString(results.resolve("metrics.txt"), r.body());
    }

    /** SIGTERM, as systemd and the kubelet stop it; then no program it held may stay loaded. */
    private void shutdown() throws Exception {
        Set<Long> held = BpfPrograms.heldBy(agent.pid());
        fact("programs.held", held.toString());
        long start = System.nanoTime();
        agent.destroy(); // SIGTERM to its PID
        if (!agent.waitFor(120, TimeUnit.SECONDS)) {
            throw new IllegalStateException("cgscope did not exit within 120 s of SIGTERM");
        }
        fact("agent.exit", Integer.toString(agent.exitValue()));
        fact("agent.stop_seconds", String.format("%.1f", (System.nanoTime() - start) / 1e9));
        Set<Long> left = new TreeSet<>(held);
        try {
            BpfPrograms.awaitUnloaded(held, Duration.ofSeconds(30));
        } catch (AssertionError e) {
            // reported below, as a fact
        }
        left.retainAll(BpfPrograms.loaded());
        fact("programs.left", left.toString());
        fact("programs.after", BpfPrograms.loaded().toString());
    }

    private void stopAgent() {
        if (agent != null && agent.isAlive()) {
            agent.destroyForcibly();
            try {
                agent.waitFor(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static long usageUsec(Path cgroup) {
        try {
            for (String line : Files.readAllLines(cgroup.resolve("cpu.stat"))) {
                if (line.startsWith("usage_usec ")) {
                    return Long.parseLong(line.substring(11).strip());
                }
            }
            throw new IllegalStateException("no usage_usec in " + cgroup.resolve("cpu.stat"));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String populated(Path cgroup) {
        try {
            for (String line : Files.readAllLines(cgroup.resolve("cgroup.events"))) {
                if (line.startsWith("populated ")) {
                    return line.substring(10).strip();
                }
            }
            return "?";
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private HttpResponse<String> get(String pathAndQuery) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + PORT + pathAndQuery))
                .timeout(Duration.ofSeconds(60)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private int status(String pathAndQuery) {
        try {
            return get(pathAndQuery).statusCode();
        } catch (IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    private String seconds() {
        return String.format("%.1f", (System.nanoTime() - t0) / 1e9);
    }

    private void fact(String key, String value) {
        facts.put(key, value);
        System.out.println("guest-checks: " + key + "=" + value + " (at " + seconds() + " s)");
    }

    private void write() throws IOException {
        fact("total_seconds", seconds());
        StringBuilder sb = new StringBuilder();
        facts.forEach((k, v) -> sb.append(k).append('=').append(v.replace("\\", "\\\\").replace("\n", "\\n")).append('\n'));
        Files.writeString(results.resolve("checks.properties"), sb);
        Files.writeString(results.resolve("summary.txt"), String.format(
                "kernel %s: mode %s, %s of %s short-lived cgroups resolved, busy CPU cgscope %s s vs cpu.stat %s s,"
                        + " agent healthy after %s s, exit %s after SIGTERM, programs held %s, left %s%s%n",
                facts.get("kernel"), facts.get("index.mode"), facts.get("churn.resolved"), facts.get("churn.created"),
                facts.get("cpu.busy.cgscope_seconds"), facts.get("cpu.busy.cpu_stat_seconds"),
                facts.get("agent.healthy_after_s"), facts.get("agent.exit"), facts.get("programs.held"),
                facts.get("programs.left"), facts.containsKey("error") ? ", ERROR " + facts.get("error") : ""));
    }
}
