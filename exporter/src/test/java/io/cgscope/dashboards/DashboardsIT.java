package io.cgscope.dashboards;

import io.cgscope.dashboards.Dashboard.Target;
import io.cgscope.testing.Await;
import io.cgscope.testing.Cleanup;
import io.cgscope.testing.KernelTest;
import io.cgscope.testing.KernelTest.Requirement;
import io.cgscope.testing.OomKiller;
import io.cgscope.testing.TestCgroups;
import io.cgscope.testing.WorkloadTree;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The dashboards and alert rules against the real thing: cgscope (the packaged jar) measures a
 * workload in a test cgroup, a real Prometheus scrapes it every second, and every panel's query,
 * with its variables substituted as Grafana would, must parse and show the workload.
 */
@KernelTest({Requirement.ROOT, Requirement.CGROUP2, Requirement.BPF})
class DashboardsIT {
    private static final Path PROMETHEUS = Path.of("/usr/bin/prometheus");
    private static final Path PROMTOOL = Path.of("/usr/bin/promtool");

    /** The cgroup metric families a per-cgroup panel can show; each must be proven on each dashboard. */
    private static final List<String> CGROUP_FAMILIES = List.of("cgscope_cgroup_cpu_seconds_total",
            "cgscope_cgroup_cpu_samples_total", "cgscope_cgroup_context_switches_total",
            "cgscope_cgroup_runqueue_latency_seconds_bucket", "cgscope_cgroup_pressure_seconds_total",
            "cgscope_cgroup_oom_kills_total");
    /** What the pod dashboard shows per container: the BPF counters (not the kernel's accounting yet). */
    private static final List<String> POD_FAMILIES = CGROUP_FAMILIES.subList(0, 4);

    /**
     * The families of each --collector.cgroupfs collector. A collector this host cannot serve (its
     * controller sits in a v1 hierarchy the index does not follow: cgscope_cgroupfs_collector_up 0)
     * has no series here: its panels are checked to parse, not to show data, and the test says so.
     * The kernel tests check these families on this host's v1 hierarchies (CgroupFsKernelTest).
     */
    private static final Map<String, List<String>> CGROUPFS_FAMILIES = Map.of(
            "pressure", List.of("cgscope_cgroup_pressure_seconds_total"),
            "cpu", List.of("cgscope_cgroup_cpu_periods_total", "cgscope_cgroup_cpu_throttled_periods_total",
                    "cgscope_cgroup_cpu_throttled_seconds_total", "cgscope_cgroup_cpu_limit_cores"),
            "memory", List.of("cgscope_cgroup_memory_bytes", "cgscope_cgroup_memory_working_set_bytes",
                    "cgscope_cgroup_memory_peak_bytes", "cgscope_cgroup_memory_limit_bytes",
                    "cgscope_cgroup_memory_events_total", "cgscope_cgroup_memory_stat_bytes"),
            "io", List.of("cgscope_cgroup_io_bytes_total", "cgscope_cgroup_io_operations_total"),
            "pids", List.of("cgscope_cgroup_pids", "cgscope_cgroup_pids_limit"));
    private static final Pattern COLLECTOR_DOWN =
            Pattern.compile("(?m)^cgscope_cgroupfs_collector_up\\{collector=\"(\\w+)\",?} 0\\.0$");

    private static final String POD_NAMESPACE = "shop";
    private static final String POD_NAME = "cart-7d9f-x2k9l";
    private static final String CONTAINER = "cart";

    /** Series Prometheus makes itself for every target; the only names not from cgscope allowed. */
    private static final Set<String> PROMETHEUS_OWN = Set.of("up");

    @Test
    void dashboardsAndRulesWorkAgainstARealPrometheus() throws Exception {
        // Under CI=true a failed assumption fails the test (KernelTest); test.sh installs both.
        assumeTrue(Files.isExecutable(PROMETHEUS) && Files.isExecutable(PROMTOOL),
                "needs Debian's prometheus package (/usr/bin/prometheus, /usr/bin/promtool)");
        Cleanup cleanup = new Cleanup();
        Path dir = Files.createTempDirectory("cgscope-dashboards-it-");
        cleanup.push(() -> Cleanup.deleteTree(dir));
        try {
            TestCgroups cgroups = new TestCgroups();
            cleanup.push(cgroups);
            String busyPath = cgroups.parentPath() + "/busy.service";
            // a pod's container (kubelet's systemd driver, containerd's bundle): the pod panels' workload
            WorkloadTree tree = new WorkloadTree(cgroups, dir.resolve("runtime"));
            WorkloadTree.SystemdPod pod = tree.systemdPod("burstable", WorkloadTree.podUid("dashboards/shop"), POD_NAMESPACE,
                    POD_NAME);
            String sandbox = WorkloadTree.containerId("dashboards-sandbox");
            pod.sandbox(sandbox);
            WorkloadTree.Made container = pod.containerd(WorkloadTree.containerId("dashboards-cart"), sandbox, CONTAINER,
                    "registry.example.org/shop/cart:3");

            // Only the test's own cgroups are exported: the machine is shared, and thousands of other
            // cgroups (another suite's churn) would make each scrape read their accounting files too,
            // past Prometheus's 1 s scrape timeout on a loaded machine. exporter/bench/cgroupfs.sh measures that cost.
            ServerProcess cgscope = ServerProcess.cgscope(dir, tree.runtimeDirsFlag(),
                    "--cgroup.include=" + Pattern.quote(cgroups.parentPath()) + "(/.*)?");
            cleanup.push(cgscope);

            Path busyDir = cgroups.create("busy.service");
            Process busy = startBusy(busyDir);
            cleanup.push(() -> stopProcess(busy));
            Process busyContainer = startBusy(container.dir());
            cleanup.push(() -> stopProcess(busyContainer));
            Churn churn = new Churn(cgroups);
            cleanup.push(churn);

            ServerProcess prometheus = ServerProcess.prometheus(dir, """
                    global:
                      scrape_interval: 1s
                      scrape_timeout: 1s
                      evaluation_interval: 1s
                    rule_files:
                      - %s
                    scrape_configs:
                      - job_name: cgscope
                        static_configs:
                          - targets: ["%s"]
                    """.formatted(Dashboard.DIR.resolve("alerts.yml"), cgscope.address()));
            cleanup.push(prometheus);

            // an OOM kill in the busy cgroup (a dd past a memory limit), for the OOM panels and alert
            Await.until(Duration.ofSeconds(30), () -> {
                try {
                    return cgscope.get("/metrics").body().contains("cgscope_bpf_program_up{program=\"oom\",} 1.0");
                } catch (IOException e) {
                    return false;
                }
            }, () -> "the oom program up: " + cgscope.log());
            OomKiller killer = OomKiller.create().orElseThrow(() -> new AssertionError("no memory controller here"));
            cleanup.push(killer);
            killer.kill(busyDir, busyPath);

            // long enough for every rate: the busy cgroup's series fills more than a rate interval
            String filled = "count_over_time(cgscope_cgroup_cpu_seconds_total{cgroup=\"" + busyPath + "\"}[15s]) >= 12"
                    + " and on() count_over_time(cgscope_cgroup_cpu_seconds_total{container=\"" + CONTAINER + "\"}[15s]) >= 12";
            Await.until(Duration.ofSeconds(50), () -> !prometheus.results(filled).isEmpty(),
                    () -> "15 s of samples of " + busyPath + "; cgscope log:\n" + cgscope.log()
                            + "\nprometheus log:\n" + prometheus.log());
            assertTrue(churn.created.get() > 10, "the churn made short-lived cgroups: " + churn.created.get());

            String exposition = cgscope.get("/metrics").body();
            checkPromtoolMetrics(exposition);
            Set<String> exported = exportedNames(exposition);
            Set<String> unavailable = unavailableNames(exposition);
            checkMetricNames(exported, unavailable);

            for (Dashboard d : Dashboard.all()) {
                checkDashboard(d, prometheus, cgscope.address(), cgroups.parentPath(), busyPath, unavailable);
            }

            checkRulesLoaded(prometheus, busyPath);
            promtool(Dashboard.DIR, "check", "rules", "alerts.yml");
            promtool(Dashboard.DIR, "test", "rules", "alerts.test.yml");

            churn.close();
            assertEquals(null, churn.failure.get(), "the churn ran without errors");
            assertEquals(0, cgscope.stop(), "cgscope stops cleanly on SIGTERM; its log:\n" + cgscope.log());
        } finally {
            cleanup.close();
        }
    }

    /**
     * Every target of the dashboard, for each choice of variables: parses; shows the workload: the
     * busy cgroup in panels by cgroup, the busy container in panels by container, its pod in panels
     * by pod.
     */
    private static void checkDashboard(Dashboard d, ServerProcess prometheus, String instance, String parentPath,
                                       String busyPath, Set<String> unavailable) throws IOException {
        // Values of $cgroup: the busy cgroup (its own panels), the test parent (its children's
        // panels: busy.service is a child), and All where the dashboard offers it. Values of
        // $namespace and $pod: All, and the test pod's.
        List<Map<String, String>> choices = new ArrayList<>();
        if (d.variable("cgroup").isPresent()) {
            for (String cgroup : List.of(busyPath, parentPath)) {
                choices.add(Map.of("instance", instance, "cgroup", cgroup));
            }
        }
        // a dashboard whose $cgroup has no All (the cgroup dashboard) keeps the busy cgroup selected
        String cgroupAll = d.variable("cgroup").map(v -> v.includeAll() ? null : busyPath).orElse(null);
        Map<String, String> inPod = new HashMap<>(Map.of("instance", instance, "namespace", POD_NAMESPACE, "pod", POD_NAME));
        Map<String, String> all = new HashMap<>();
        all.put("instance", instance);
        all.put("namespace", null);
        all.put("pod", null);
        if (d.variable("cgroup").isPresent()) {
            inPod.put("cgroup", cgroupAll);
            all.put("cgroup", cgroupAll);
        }
        choices.add(inPod);
        choices.add(all);
        Set<String> familiesShowingBusy = new TreeSet<>();
        List<String> problems = new ArrayList<>();
        for (Target t : d.targets()) {
            String where = d.name() + " '" + t.panel().title() + "' " + t.refId();
            List<String> names = Dashboard.metricNames(t.expr());
            if (!names.isEmpty() && unavailable.containsAll(names)) {
                // no hierarchy this host indexes has these files: the query must parse; it cannot show data
                Map<String, String> values = new HashMap<>(Map.of("instance", instance, "cgroup", busyPath));
                values.put("namespace", null);
                values.put("pod", null);
                String q = d.interpolate(t.expr(), values);
                JsonObject answer = prometheus.query(q);
                if (!"success".equals(answer.getString("status"))) {
                    problems.add(where + ": " + answer.getString("errorType") + ": " + answer.getString("error") + "\n    " + q);
                }
                System.out.println("DashboardsIT: " + where + " parses; no data on this host (collector down: " + names + ")");
                continue;
            }
            boolean anyData = false;
            boolean busyShown = false;
            List<String> tried = new ArrayList<>();
            boolean byContainer = t.legendFormat().contains("{{container}}");
            boolean byPod = !byContainer && t.legendFormat().contains("{{pod}}");
            for (Map<String, String> values : choices) {
                String q = d.interpolate(t.expr(), values);
                JsonObject answer = prometheus.query(q);
                if (!"success".equals(answer.getString("status"))) {
                    problems.add(where + ": " + answer.getString("errorType") + ": " + answer.getString("error") + "\n    " + q);
                    continue;
                }
                JsonArray series = answer.getJsonObject("data").getJsonArray("result");
                tried.add(q + " -> " + series.encode());
                anyData |= !series.isEmpty();
                for (int i = 0; i < series.size(); i++) {
                    JsonObject s = series.getJsonObject(i);
                    JsonObject metric = s.getJsonObject("metric");
                    boolean isBusy = byContainer ? CONTAINER.equals(metric.getString("container"))
                            && POD_NAME.equals(metric.getString("pod"))
                            : byPod ? POD_NAME.equals(metric.getString("pod")) : busyPath.equals(metric.getString("cgroup"));
                    if (isBusy) {
                        double v = Double.parseDouble(s.getJsonArray("value").getString(1));
                        boolean positiveCpu = !t.expr().contains("cgscope_cgroup_cpu_seconds_total") || v > 0;
                        busyShown |= Double.isFinite(v) && v >= 0 && positiveCpu;
                    }
                }
            }
            if (!anyData) {
                problems.add(where + ": no data for any choice of $cgroup:\n    " + String.join("\n    ", tried));
            }
            boolean byCgroup = t.legendFormat().contains("{{cgroup}}");
            if (byCgroup || byContainer || byPod) {
                String what = byContainer ? "container " + CONTAINER + " of " + POD_NAME : byPod ? "pod " + POD_NAME : busyPath;
                if (!busyShown) {
                    problems.add(where + ": shows workloads but not " + what + " with a finite value (CPU > 0):\n    "
                            + String.join("\n    ", tried));
                } else if (byContainer || byCgroup && !d.uid().equals("cgscope-pod")) {
                    CGROUP_FAMILIES.stream().filter(t.expr()::contains).forEach(familiesShowingBusy::add);
                }
            }
            if (t.expr().contains("cgscope_index_events_total")) {
                String created = "sum(rate(cgscope_index_events_total{type=\"create\"}[$__rate_interval])) > 0 and sum(rate(cgscope_index_events_total{type=\"delete\"}[$__rate_interval])) > 0";
                if (prometheus.results(d.interpolate(created, Map.of("instance", instance))).isEmpty()) {
                    problems.add(where + ": the churn panel's metric shows no creates and deletes");
                }
            }
        }
        assertEquals(List.of(), problems, d.name() + ": every panel query parses and shows the workload");
        assertEquals(new TreeSet<>(d.uid().equals("cgscope-pod") ? POD_FAMILIES : CGROUP_FAMILIES), familiesShowingBusy,
                d.name() + ": CPU, samples, context switches and latency are each shown for "
                        + (d.uid().equals("cgscope-pod") ? "the busy container" : busyPath));
    }

    /** {@code promtool check metrics} on cgscope's exposition reports nothing. */
    private static void checkPromtoolMetrics(String exposition) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(PROMTOOL.toString(), "check", "metrics").redirectErrorStream(true).start();
        try (var in = p.getOutputStream()) {
            in.write(exposition.getBytes(StandardCharsets.UTF_8));
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), "promtool check metrics finishes");
        assertEquals("", out.strip(), "promtool check metrics reports nothing");
        assertEquals(0, p.exitValue(), "promtool check metrics exit status");
    }

    private static final Pattern SAMPLE_NAME = Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]", Pattern.MULTILINE);

    /** The sample names in an exposition ({@code _bucket}, {@code _sum}, {@code _count} as written). */
    static Set<String> exportedNames(String exposition) {
        Set<String> names = new TreeSet<>();
        Matcher m = SAMPLE_NAME.matcher(exposition);
        while (m.find()) {
            names.add(m.group(1));
        }
        return names;
    }

    /** The metric names of the cgroupfs collectors cgscope says are down on this host. */
    private static Set<String> unavailableNames(String exposition) {
        Set<String> names = new TreeSet<>();
        Matcher m = COLLECTOR_DOWN.matcher(exposition);
        while (m.find()) {
            names.addAll(CGROUPFS_FAMILIES.getOrDefault(m.group(1), List.of()));
        }
        return names;
    }

    /**
     * Every metric name in the dashboards (panels and variables) and the rules is one cgscope
     * exports, or one of a collector it reports down on this host.
     */
    private static void checkMetricNames(Set<String> exported, Set<String> unavailable) throws IOException {
        Map<String, Set<String>> used = new LinkedHashMap<>();
        for (Dashboard d : Dashboard.all()) {
            for (Target t : d.targets()) {
                Dashboard.metricNames(t.expr()).forEach(n -> used.computeIfAbsent(n, k -> new LinkedHashSet<>()).add(d.name()));
            }
            for (Dashboard.Variable v : d.variables()) {
                Object q = v.json().getValue("query");
                String query = q instanceof JsonObject o ? o.getString("query") : String.valueOf(q);
                Dashboard.metricNames(query).forEach(n -> used.computeIfAbsent(n, k -> new LinkedHashSet<>()).add(d.name() + " $" + v.name()));
            }
        }
        for (String line : Files.readAllLines(Dashboard.DIR.resolve("alerts.yml"))) {
            String s = line.strip();
            if (s.startsWith("expr:")) {
                Dashboard.metricNames(s.substring(5)).forEach(n -> used.computeIfAbsent(n, k -> new LinkedHashSet<>()).add("alerts.yml"));
            }
        }
        assertTrue(used.keySet().containsAll(CGROUP_FAMILIES), "the names were found: " + used.keySet());
        Map<String, Set<String>> missing = new LinkedHashMap<>(used);
        missing.keySet().removeIf(n -> exported.contains(n) || unavailable.contains(n) || PROMETHEUS_OWN.contains(n));
        assertEquals(Map.of(), missing, "metric names used (and where) that cgscope does not export; it exports " + exported);
    }

    /**
     * Prometheus loaded every rule of alerts.yml and evaluates each without error; a healthy agent
     * fires nothing but CgscopeOOMKills, for the busy cgroup and its real OOM kill.
     */
    private static void checkRulesLoaded(ServerProcess prometheus, String busyPath) throws IOException {
        long expected = Files.readAllLines(Dashboard.DIR.resolve("alerts.yml")).stream()
                .filter(l -> l.strip().startsWith("- alert:")).count();
        List<String> states = new ArrayList<>();
        Await.until(Duration.ofSeconds(20), () -> {
            states.clear();
            try {
                JsonArray groups = prometheus.api("/api/v1/rules").getJsonObject("data").getJsonArray("groups");
                for (int g = 0; g < groups.size(); g++) {
                    JsonArray rules = groups.getJsonObject(g).getJsonArray("rules");
                    for (int r = 0; r < rules.size(); r++) {
                        JsonObject rule = rules.getJsonObject(r);
                        states.add(rule.getString("name") + "=" + rule.getString("health")
                                + (rule.containsKey("lastError") ? " " + rule.getString("lastError") : ""));
                    }
                }
            } catch (IOException e) {
                return false;
            }
            return states.size() == expected && states.stream().allMatch(s -> s.endsWith("=ok"));
        }, () -> expected + " rules loaded and evaluated without error: " + states);
        JsonArray alerts = prometheus.api("/api/v1/alerts").getJsonObject("data").getJsonArray("alerts");
        List<String> fired = new ArrayList<>();
        for (int i = 0; i < alerts.size(); i++) {
            JsonObject labels = alerts.getJsonObject(i).getJsonObject("labels");
            fired.add(labels.getString("alertname") + " " + labels.getString("cgroup") + " "
                    + alerts.getJsonObject(i).getString("state"));
        }
        assertEquals(List.of("CgscopeOOMKills " + busyPath + " firing"), fired,
                "a healthy agent raises no alert but the OOM kill's");
    }

    private static void promtool(Path dir, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(PROMTOOL.toString()));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), String.join(" ", command) + " finishes");
        assertEquals(0, p.exitValue(), String.join(" ", command) + " passes:\n" + out);
    }

    /**
     * A process that burns CPU and sleeps 100 times a second (each sleep a short-lived child: wake-ups,
     * context switches and run-queue waits), moved into {@code cgroup}; its children are born there.
     */
    private static Process startBusy(Path cgroup) throws IOException {
        Process p = new ProcessBuilder("/bin/sh", "-c",
                "while :; do i=0; while [ $i -lt 2000 ]; do i=$((i+1)); done; sleep 0.01; done")
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        p.getOutputStream().close();
        TestCgroups.move(p.pid(), cgroup);
        return p;
    }

    private static void stopProcess(Process p) throws InterruptedException {
        p.destroyForcibly();
        p.waitFor(10, TimeUnit.SECONDS);
    }

    /** Short-lived cgroups, one after another: each gets a process that exits at once, then is removed. */
    private static final class Churn implements AutoCloseable {
        final AtomicInteger created = new AtomicInteger();
        final AtomicReference<Throwable> failure = new AtomicReference<>();
        private final AtomicBoolean stop = new AtomicBoolean();
        private final Thread thread;

        Churn(TestCgroups cgroups) {
            thread = Thread.ofPlatform().name("dashboards-it-churn").daemon().start(() -> {
                try {
                    while (!stop.get()) {
                        Path dir = cgroups.create("job-" + created.get() + ".scope");
                        Process p = new ProcessBuilder("/bin/sh", "-c", "echo $$ > \"$1/cgroup.procs\" && exec /bin/true",
                                "sh", dir.toString()).redirectErrorStream(true).start();
                        p.getOutputStream().close();
                        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                        if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
                            p.destroyForcibly();
                            throw new IllegalStateException("a short-lived job failed: " + out);
                        }
                        TestCgroups.removeTree(dir);
                        created.incrementAndGet();
                        Thread.sleep(100); // about 8 cgroups a second: churn without loading the shared machine
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } catch (Throwable t) {
                    failure.set(t);
                }
            });
        }

        @Override
        public void close() throws InterruptedException {
            stop.set(true);
            thread.join(Duration.ofSeconds(20));
        }
    }
}
