package io.cgscope.stress;

import io.cgscope.testing.AgentProcess;
import io.cgscope.testing.Await;
import io.cgscope.testing.CgroupVisitor;
import io.cgscope.testing.Exposition;
import io.cgscope.testing.KernelTest;
import io.cgscope.testing.TestCgroups;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import static io.cgscope.testing.KernelTest.Requirement.BPF;
import static io.cgscope.testing.KernelTest.Requirement.CGROUP2;
import static io.cgscope.testing.KernelTest.Requirement.ROOT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Endless churn, in short: 50,000 short-lived cgroups under the real jar with every BPF program
 * and a 5 s retention, every 10th of them with tasks in it (so it has BPF map entries), while a
 * scraper scrapes every 500 ms as Prometheus would. Then the dead entries expire, their series
 * end, and the BPF map entries of the expired cgroups are deleted (the maps go back to what they
 * held before; the index keeps no dead entry below the test parent).
 */
@KernelTest({ROOT, CGROUP2, BPF})
class ChurnIT {
    private static final int CGROUPS = 50_000;
    private static final int ACTIVE_EVERY = 10;
    private static final List<String> MAPS = List.of("counters", "runqlat");

    @Test
    void expiredCgroupsLeaveTheIndexAndTheBpfMaps() throws Exception {
        try (TestCgroups cgroups = new TestCgroups();
             AgentProcess agent = AgentProcess.start("--cgroup.retention=5s");
             CgroupVisitor visitor = new CgroupVisitor(cgroups.create("home"))) {
            String churnPrefix = cgroups.parentPath() + "/c";
            double endedBefore = agent.metric("cgscope_index_retention_ended_total");
            Map<String, Double> entriesBefore = entries(agent);

            // The scraper: what deletes expired map entries; it also sees the churned cgroups' series.
            AtomicBoolean churning = new AtomicBoolean(true);
            AtomicReference<Throwable> scrapeFailure = new AtomicReference<>();
            Set<String> seenSeries = ConcurrentHashMap.newKeySet();
            Map<String, Double> peakEntries = new ConcurrentHashMap<>();
            List<Double> scrapeSeconds = java.util.Collections.synchronizedList(new ArrayList<>());
            Thread scraper = Thread.ofPlatform().name("test-scraper").start(() -> {
                try {
                    // One more scrape after the churn ended: without it the cgroups churned since the
                    // last scrape began (up to a second of them) were never looked at.
                    boolean last = false;
                    while (!last) {
                        last = !churning.get();
                        long s0 = System.nanoTime();
                        var r = agent.get("/metrics");
                        assertEquals(200, r.statusCode());
                        for (Exposition.Sample s : Exposition.parse(r.body())) {
                            if (s.name().equals("cgscope_cgroup_context_switches_total")
                                    && s.label("cgroup").startsWith(churnPrefix)) {
                                seenSeries.add(s.label("cgroup"));
                            } else if (s.name().equals("cgscope_bpf_map_entries")) {
                                peakEntries.merge(s.label("map"), s.value(), Math::max);
                            }
                        }
                        scrapeSeconds.add((System.nanoTime() - s0) / 1e9); // scrape and parse
                        if (!last) {
                            Thread.sleep(500); // a scrape interval, not a wait for a condition
                        }
                    }
                } catch (Throwable t) {
                    scrapeFailure.set(t);
                }
            });

            long t0 = System.nanoTime();
            int active = 0;
            try {
                for (int i = 0; i < CGROUPS; i++) {
                    Path c = cgroups.create("c" + i);
                    if (i % ACTIVE_EVERY == 0) {
                        visitor.visit(c);
                        active++;
                    }
                    CgroupVisitor.remove(c);
                }
            } finally {
                churning.set(false);
                scraper.join();
            }
            double churnSeconds = (System.nanoTime() - t0) / 1e9;
            if (scrapeFailure.get() != null) {
                throw new AssertionError("scrape failed during churn", scrapeFailure.get());
            }
            System.out.printf("churn: %d cgroups (%d with tasks) in %.1f s; %d churned series seen in %d scrapes"
                    + " (scrape and parse: mean %.2f s, max %.2f s); peak map entries %s (before %s)%n", CGROUPS, active,
                    churnSeconds, seenSeries.size(), scrapeSeconds.size(),
                    scrapeSeconds.stream().mapToDouble(d -> d).average().orElse(0),
                    scrapeSeconds.stream().mapToDouble(d -> d).max().orElse(0), peakEntries, entriesBefore);
            // The churned cgroups really had BPF counts, named by the index as they came and went.
            assertTrue(seenSeries.size() >= active * 8 / 10, seenSeries.size() + " of " + active
                    + " cgroups with tasks were seen as series");
            // Every churned cgroup that got BPF counts was named: each map entry the churn added was
            // a series. (The visitor blocks in every cgroup it visits, so each gets counts: 5,000 of
            // 5,000 seen once the final scrape was added; without it 78-85 %.) Peak entries bound
            // that count from below; 20 spare for cgroups of the host that may have appeared meanwhile.
            double counted = peakEntries.getOrDefault("counters", 0.0) - entriesBefore.get("counters");
            assertTrue(seenSeries.size() >= counted - 20, seenSeries.size() + " churned series seen, but the"
                    + " counters map grew by " + counted + " entries");

            // Then: their retention ends, the series end, and the scrapes delete their map entries. The
            // machine is shared: other cgroups may come and go meanwhile, so the index's global dead
            // count is reported, and the test parent's own dead entries are what must reach zero.
            long t1 = System.nanoTime();
            Map<String, Double> firstMet = new ConcurrentHashMap<>(); // condition -> seconds after the churn
            Await.until(Duration.ofSeconds(60), () -> {
                try {
                    JsonObject dead = new JsonObject(agent.get("/cgroups?state=dead&limit=10&prefix="
                            + cgroups.parentPath()).body());
                    boolean indexClean = dead.getJsonArray("cgroups").isEmpty();
                    boolean seriesGone = true;
                    String body = agent.get("/metrics").body(); // a scrape: folds and deletes what expired
                    for (Exposition.Sample s : Exposition.parse(body)) {
                        String label = s.label("cgroup");
                        if (label != null && label.startsWith(churnPrefix)) {
                            seriesGone = false;
                            break;
                        }
                    }
                    boolean entriesBack = true;
                    Map<String, Double> now = entries(agent);
                    for (String m : MAPS) {
                        entriesBack &= now.get(m) <= entriesBefore.get(m) + 50;
                    }
                    double at = (System.nanoTime() - t1) / 1e9;
                    for (var c : Map.of("no dead entry below the test parent", indexClean, "no churned series",
                            seriesGone, "map entries back", entriesBack).entrySet()) {
                        if (c.getValue()) {
                            firstMet.putIfAbsent(c.getKey(), at);
                        }
                    }
                    return indexClean && seriesGone && entriesBack;
                } catch (IOException | InterruptedException e) {
                    return false;
                }
            }, () -> "expired cgroups still around: " + firstMet + " " + describe(agent));
            System.out.println("conditions first met (s after the churn): " + firstMet);
            double ended = agent.metric("cgscope_index_retention_ended_total") - endedBefore;
            System.out.printf("after churn: all expired within %.1f s; retention ended for %.0f; now %s%n",
                    (System.nanoTime() - t1) / 1e9, ended, describe(agent));
            assertTrue(ended >= CGROUPS, "retention ended for " + ended);
            assertEquals(0, agent.metric("cgscope_scrape_errors_total"));
            assertEquals(0, agent.metric("cgscope_bpf_map_update_failures_total"));
            assertTrue(agent.get("/cgroups?state=all&limit=10000&prefix=" + cgroups.parentPath()).body()
                    .contains("\"" + cgroups.parentPath() + "/home\""));
        }
    }

    private static Map<String, Double> entries(AgentProcess agent) throws IOException, InterruptedException {
        Map<String, Double> out = new ConcurrentHashMap<>();
        for (Exposition.Sample s : Exposition.parse(agent.get("/metrics").body())) {
            if (s.name().equals("cgscope_bpf_map_entries")) {
                out.put(s.label("map"), s.value());
            }
        }
        assertEquals(new HashSet<>(MAPS), out.keySet());
        return out;
    }

    private static String describe(AgentProcess agent) {
        try {
            List<String> lines = new ArrayList<>();
            for (String l : agent.get("/metrics").body().split("\n")) {
                if (l.startsWith("cgscope_bpf_map_entries") || l.startsWith("cgscope_index_cgroups")
                        || l.startsWith("cgscope_index_retention_ended")) {
                    lines.add(l);
                }
            }
            return String.join("; ", lines);
        } catch (IOException | InterruptedException e) {
            return e.toString();
        }
    }
}
