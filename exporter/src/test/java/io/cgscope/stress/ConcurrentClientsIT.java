package io.cgscope.stress;

import io.cgscope.testing.AgentProcess;
import io.cgscope.testing.CgroupVisitor;
import io.cgscope.testing.Exposition;
import io.cgscope.testing.KernelTest;
import io.cgscope.testing.TestCgroups;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static io.cgscope.testing.KernelTest.Requirement.BPF;
import static io.cgscope.testing.KernelTest.Requirement.CGROUP2;
import static io.cgscope.testing.KernelTest.Requirement.ROOT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * 8 scrapers and 8 lookup clients against the real jar (every BPF program) while cgroups come and
 * go, every 20th with a task in it, so series appear and end during the scrapes.
 * <ul>
 *   <li>Scrapes: every answer 200; every body parsed strictly ({@link Exposition#parse}: the text
 *       format, one family declaration, no duplicate series), every histogram cumulative with
 *       {@code +Inf == _count}, the test's counters never decreasing from one scrape to the next;
 *       every 5th body of each scraper also through {@code promtool check metrics} (a process per
 *       body costs ~50 ms of CPU: all of them would starve the churn on two cores).</li>
 *   <li>Lookups: {@code /cgroup/<id>} of long-lived, churning, removed and never-existing ids,
 *       checked against what the test did and when: never a wrong path, never "dead" before the
 *       removal, never 404 for a cgroup that existed during the whole request, "dead" (not live,
 *       not 404) once the removal is older than {@link #LAG} and younger than the retention.</li>
 * </ul>
 */
@KernelTest({ROOT, CGROUP2, BPF})
class ConcurrentClientsIT {
    private static final Duration CHURN = Duration.ofSeconds(15);
    private static final Duration RETENTION = Duration.ofSeconds(30);
    /** How far the index may trail the tree (events queued, not applied yet); generous for a loaded 2-CPU machine. */
    private static final long LAG = Duration.ofSeconds(3).toNanos();
    private static final int CLIENTS = 8;

    /**
     * What the test did to one cgroup, with nanoTime stamps. A removal has two: the rmdir may take
     * effect (and the agent see it) anywhere between them, and the churn thread can be preempted
     * right after the rmdir returns, so "dead too early" is judged against the stamp before it
     * and "still live too late" against the stamp after it.
     */
    private static final class Made {
        final String path;
        final long created;
        volatile long removing = Long.MAX_VALUE;
        volatile long removed = Long.MAX_VALUE;

        Made(String path, long created) {
            this.path = path;
            this.created = created;
        }

        /** Removed more than {@link #LAG} before {@code t}. */
        boolean removedLongBefore(long t) {
            return removed != Long.MAX_VALUE && t - removed > LAG;
        }
    }

    @Test
    void scrapesAndLookupsDuringChurn() throws Exception {
        // Only the test's own cgroups are exported (the agent's reading of the others' accounting
        // files would be measured here, not the concurrency: the machine is shared; cgroupfs.sh measures it).
        try (TestCgroups cgroups = new TestCgroups();
             AgentProcess agent = AgentProcess.start("--cgroup.retention=" + RETENTION.toSeconds() + "s",
                     "--cgroup.include=" + java.util.regex.Pattern.quote(cgroups.parentPath()) + "(/.*)?");
             CgroupVisitor visitor = new CgroupVisitor(cgroups.create("home"))) {
            String prefix = cgroups.parentPath() + "/";
            Map<Long, Made> made = new ConcurrentHashMap<>();
            long[] order = new long[1 << 20];
            AtomicInteger count = new AtomicInteger();
            List<Long> longLived = new ArrayList<>();
            for (int i = 0; i < 100; i++) {
                Path p = cgroups.create("keep/k" + i);
                long id = TestCgroups.id(p);
                made.put(id, new Made(cgroups.mount().relativize(p).toString(), System.nanoTime()));
                longLived.add(id);
                if (i % 10 == 0) {
                    visitor.visit(p);
                }
            }

            AtomicBoolean churning = new AtomicBoolean(true);
            AtomicLong scrapes = new AtomicLong();
            AtomicLong promtooled = new AtomicLong();
            AtomicLong lookups = new AtomicLong();
            Map<String, AtomicLong> answers = new ConcurrentHashMap<>();
            List<String> errors = Collections.synchronizedList(new ArrayList<>());
            List<Future<?>> clients = new ArrayList<>();
            try (ExecutorService pool = Executors.newFixedThreadPool(2 * CLIENTS)) {
                for (int t = 0; t < CLIENTS; t++) {
                    clients.add(pool.submit(() -> scrape(agent, prefix, churning, scrapes, promtooled, errors)));
                    clients.add(pool.submit(() -> lookUp(agent, made, order, count, longLived, churning, lookups,
                            answers, errors)));
                }
                long t0 = System.nanoTime();
                int n = 0;
                try {
                    while (System.nanoTime() - t0 < CHURN.toNanos() && errors.isEmpty()) {
                        Path c = cgroups.create("c" + n);
                        long id = TestCgroups.id(c);
                        Made m = new Made(cgroups.mount().relativize(c).toString(), System.nanoTime());
                        made.put(id, m);
                        order[count.get()] = id;
                        count.incrementAndGet();
                        if (n % 20 == 0) {
                            visitor.visit(c);
                        }
                        m.removing = System.nanoTime();
                        CgroupVisitor.remove(c);
                        m.removed = System.nanoTime();
                        n++;
                    }
                } finally {
                    churning.set(false);
                }
                for (Future<?> f : clients) {
                    f.get();
                }
                System.out.printf("%d cgroups churned in %s; %d scrapes (%d through promtool), %d lookups %s%n",
                        n, CHURN, scrapes.get(), promtooled.get(), lookups.get(), answers);
            }
            assertEquals(List.of(), errors.subList(0, Math.min(10, errors.size())), errors.size() + " errors");
            assertTrue(scrapes.get() >= 50, scrapes.get() + " scrapes");
            assertTrue(lookups.get() >= 1000, lookups.get() + " lookups");
            assertEquals(0, agent.metric("cgscope_scrape_errors_total"));
            assertTrue(agent.log().lines().noneMatch(l -> l.contains("level=error") || l.contains("Exception")),
                    agent.log());
        }
    }

    private static Void scrape(AgentProcess agent, String prefix, AtomicBoolean churning, AtomicLong scrapes,
                               AtomicLong promtooled, List<String> errors) {
        Map<String, Double> last = new HashMap<>();
        int mine = 0;
        while (churning.get()) {
            try {
                HttpResponse<String> r = agent.get("/metrics");
                if (r.statusCode() != 200) {
                    errors.add("scrape: " + r.statusCode() + " " + r.body());
                    continue;
                }
                List<Exposition.Sample> samples = Exposition.parse(r.body());
                checkSeries(samples, prefix, last, errors);
                if (mine++ % 5 == 0) {
                    String said = Exposition.promtool(r.body());
                    if (said != null) {
                        errors.add("promtool: " + said);
                    }
                    promtooled.incrementAndGet();
                }
                scrapes.incrementAndGet();
            } catch (IOException | IllegalArgumentException e) {
                errors.add("scrape: " + e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return null;
            }
        }
        return null;
    }

    /** Histograms cumulative with +Inf = _count; the test's counters never below this scraper's last scrape. */
    private static void checkSeries(List<Exposition.Sample> samples, String prefix, Map<String, Double> last,
                                     List<String> errors) {
        Map<String, Double> lastBucket = new HashMap<>();
        Map<String, Double> inf = new HashMap<>();
        for (Exposition.Sample s : samples) {
            String cgroup = s.label("cgroup");
            if (cgroup == null) {
                continue;
            }
            if (s.name().endsWith("_bucket")) {
                Double before = lastBucket.put(cgroup, s.value());
                if (before != null && s.value() < before) {
                    errors.add("histogram not cumulative for " + cgroup + ": " + s);
                }
                if ("+Inf".equals(s.label("le"))) {
                    inf.put(cgroup, s.value());
                    lastBucket.remove(cgroup);
                }
            } else if (s.name().equals("cgscope_cgroup_runqueue_latency_seconds_count")) {
                if (!Double.valueOf(s.value()).equals(inf.get(cgroup))) {
                    errors.add("_count " + s.value() + " != +Inf bucket " + inf.get(cgroup) + " for " + cgroup);
                }
            }
            if (s.name().endsWith("_total") && cgroup.startsWith(prefix)) {
                // every label: a family like the pressure one has several series per cgroup
                String key = s.name() + new java.util.TreeMap<>(s.labels());
                Double before = last.put(key, s.value());
                if (before != null && s.value() < before) {
                    errors.add("counter went down: " + key + " " + before + " -> " + s.value());
                }
            }
        }
    }

    private static Void lookUp(AgentProcess agent, Map<Long, Made> made, long[] order, AtomicInteger count,
                               List<Long> longLived, AtomicBoolean churning, AtomicLong lookups,
                               Map<String, AtomicLong> answers, List<String> errors) {
        ThreadLocalRandom rnd = ThreadLocalRandom.current();
        while (churning.get()) {
            int n = count.get();
            double r = rnd.nextDouble();
            long id;
            if (r < 0.1 || n == 0) {
                id = longLived.get(rnd.nextInt(longLived.size()));
            } else if (r < 0.2) {
                id = (1L << 60) + rnd.nextLong(1L << 40); // never existed
            } else if (r < 0.6) {
                id = order[Math.max(0, n - 1 - rnd.nextInt(Math.min(n, 200)))]; // just created, maybe removed
            } else {
                id = order[rnd.nextInt(n)]; // any churned one: mostly removed a while ago
            }
            try {
                long t0 = System.nanoTime();
                HttpResponse<String> resp = agent.get("/cgroup/" + Long.toUnsignedString(id));
                long t1 = System.nanoTime();
                lookups.incrementAndGet();
                String verdict = judge(made.get(id), resp, t0, t1);
                answers.computeIfAbsent(resp.statusCode() == 200
                        ? new JsonObject(resp.body()).getString("state") : Integer.toString(resp.statusCode()),
                        k -> new AtomicLong()).incrementAndGet();
                if (verdict != null) {
                    errors.add("/cgroup/" + id + ": " + verdict + ": " + resp.statusCode() + " " + resp.body());
                }
            } catch (IOException e) {
                errors.add("/cgroup/" + id + ": " + e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return null;
            }
        }
        return null;
    }

    /** Null when the answer is right for what the test did between {@code t0} and {@code t1}; else why not. */
    private static String judge(Made m, HttpResponse<String> resp, long t0, long t1) {
        int status = resp.statusCode();
        if (status >= 500) {
            return "server error";
        }
        if (m == null) {
            return status == 404 ? null : "an id that never existed";
        }
        if (status == 404) {
            if (m.removing > t1) {
                return "404 for a cgroup that existed during the whole request";
            }
            if (m.removedLongBefore(t0) && t1 - m.removed < RETENTION.toNanos()) {
                return "404 within the retention";
            }
            return null;
        }
        if (status != 200) {
            return "unexpected status";
        }
        JsonObject o = new JsonObject(resp.body());
        if (!m.path.equals(o.getString("path"))) {
            return "wrong path (expected " + m.path + ")";
        }
        String state = o.getString("state");
        if ("dead".equals(state) && m.removing > t1) {
            return "dead before it was removed";
        }
        if ("live".equals(state) && m.removedLongBefore(t0)) {
            return "still live " + (t0 - m.removed) / 1_000_000 + " ms after its removal";
        }
        if (!"live".equals(state) && !"dead".equals(state)) {
            return "unknown state";
        }
        return null;
    }
}
