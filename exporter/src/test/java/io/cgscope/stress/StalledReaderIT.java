package io.cgscope.stress;

import io.cgscope.testing.AgentProcess;
import io.cgscope.testing.Await;
import io.cgscope.testing.KernelTest;
import io.cgscope.testing.TestCgroups;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** cgscope stopped with SIGSTOP while 50,000 cgroups come and go, then resumed. */
@KernelTest
class StalledReaderIT {

    /** Creates and removes {@code count} cgroups below the parent; returns id -> path. */
    private static Map<Long, String> churn(TestCgroups cgroups, String prefix, int count) throws IOException {
        Map<Long, String> made = new HashMap<>(count * 2);
        for (int i = 0; i < count; i++) {
            Path p = cgroups.create(prefix + i);
            made.put(TestCgroups.id(p), cgroups.parentPath() + "/" + prefix + i);
            Files.delete(p);
        }
        return made;
    }

    @Test
    void withTheUnlimitedQueueEveryCgroupResolvesAfterTheStall() throws Exception {
        try (TestCgroups cgroups = new TestCgroups();
             AgentProcess agent = AgentProcess.start("--bpf.programs=")) {
            agent.signal("STOP");
            Map<Long, String> made;
            try {
                made = churn(cgroups, "stalled", 50_000);
            } finally {
                agent.signal("CONT");
            }
            // Every id answers with its path, dead. The queue is drained at its own pace: ask again
            // for the ids that do not answer yet until none is left (or the time is up).
            List<Long> pending = new ArrayList<>(made.keySet());
            List<String> wrong = Collections.synchronizedList(new ArrayList<>());
            long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
            while (!pending.isEmpty() && System.nanoTime() < deadline) {
                wrong.clear();
                pending = check(agent, made, pending, wrong);
                if (!pending.isEmpty()) {
                    Thread.sleep(100); // polling "every id resolves": the index offers nothing to block on over HTTP
                }
            }
            assertEquals(List.of(), wrong.stream().limit(5).toList(), wrong.size() + " of " + made.size() + " wrong");
            assertEquals(0, agent.metric("cgscope_index_overflows_total"));
            assertEquals(0, agent.metric("cgscope_index_unresolved_total"));
        }
    }

    @Test
    void withTheBoundedQueueAnOverflowIsRepairedByAResync() throws Exception {
        try (TestCgroups cgroups = new TestCgroups();
             AgentProcess agent = AgentProcess.start("--bpf.programs=", "--no-fanotify.unlimited-queue")) {
            agent.signal("STOP");
            try {
                churn(cgroups, "burst", 20_000); // 40,000 events: more than the 16,384 the queue holds
                for (int i = 0; i < 25; i++) {
                    cgroups.create("kept" + i + ".slice/unit.service"); // lost with the overflow, found by the re-sync
                }
            } finally {
                agent.signal("CONT");
            }
            Await.until(Duration.ofSeconds(60), () -> {
                try {
                    return agent.metric("cgscope_index_resyncs_total") >= 1;
                } catch (IOException | InterruptedException e) {
                    return false;
                }
            }, () -> "no re-sync: " + agent.log());
            assertTrue(agent.metric("cgscope_index_overflows_total") >= 1);
            Map<Long, String> tree = new TreeMap<>();
            try (Stream<Path> walk = Files.walk(cgroups.parent())) {
                walk.filter(Files::isDirectory).forEach(d -> tree.put(TestCgroups.id(d),
                        cgroups.mount().relativize(d).toString()));
            }
            Await.until(Duration.ofSeconds(30), () -> tree.equals(agent.liveCgroups(cgroups.parentPath())),
                    () -> "index differs from the tree");
        }
    }

    /** Looks the ids up with 8 clients in parallel; returns those that do not resolve (yet), described in {@code wrong}. */
    private static List<Long> check(AgentProcess agent, Map<Long, String> made, List<Long> ids, List<String> wrong)
            throws Exception {
        List<Long> failed = Collections.synchronizedList(new ArrayList<>());
        try (ExecutorService pool = Executors.newFixedThreadPool(8)) {
            List<Future<?>> parts = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                int part = t;
                parts.add(pool.submit(() -> {
                    for (int i = part; i < ids.size(); i += 8) {
                        long id = ids.get(i);
                        try {
                            HttpResponse<String> r = agent.get("/cgroup/" + Long.toUnsignedString(id));
                            JsonObject o = r.statusCode() == 200 ? new JsonObject(r.body()) : null;
                            if (o == null || !made.get(id).equals(o.getString("path"))
                                    || !"dead".equals(o.getString("state"))) {
                                failed.add(id);
                                wrong.add(id + " -> " + r.statusCode() + " " + r.body());
                            }
                        } catch (IOException | InterruptedException e) {
                            failed.add(id);
                            wrong.add(id + " -> " + e);
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : parts) {
                f.get();
            }
        }
        return failed;
    }
}
