package io.cgscope.bench;

import io.cgscope.BuildInfo;
import io.cgscope.bpf.BpfCompanion;
import io.cgscope.bpf.BpfMaps;
import io.cgscope.bpf.Feature;
import io.cgscope.config.Config;
import io.cgscope.config.Flags;
import io.cgscope.http.HttpComponent;
import io.cgscope.index.CgroupIndex;
import io.cgscope.index.IndexHealth;
import io.cgscope.index.Source;
import io.cgscope.metrics.CgroupCollector;
import io.cgscope.workload.WorkloadResolver;
import io.prometheus.client.CollectorRegistry;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.EnumSet;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Benchmark (not a test): what the live page costs the server, through real HTTP on one server
 * with real BPF maps of N cgroups. The reference is a scrape of {@code /metrics} on the same
 * server in the same run:
 * <ul>
 *   <li>{@code /api/top} (the whole tree, gzipped, as a page loads it) and
 *       {@code /api/top?active=true} (its refresh every 2 s), each against a scrape;</li>
 *   <li>a scrape while another client asks {@code /api/top} back to back (far more than a page
 *       does: one tree and a refresh every 2 s), against a scrape alone: the page must not make
 *       scrapes slower.</li>
 * </ul>
 * Usage: {@code TopBench CGROUPS REPEATS}.
 */
public final class TopBench {
    private TopBench() {
    }

    public static void main(String[] args) throws Exception {
        int n = Integer.parseInt(args[0]);
        int reps = Integer.parseInt(args[1]);
        CgroupIndex index = new CgroupIndex(Duration.ofMinutes(15));
        index.root(1);
        index.health().following(IndexHealth.Mode.FANOTIFY);
        long base = 1L << 32;
        for (int s = 0; s < n / 100; s++) {
            index.created(base + s, 1, ("tenant-" + s + ".slice").getBytes(StandardCharsets.UTF_8), Source.SWEEP);
        }
        try (BpfCompanion bpf = new BpfCompanion(EnumSet.allOf(Feature.class), 16384, 99)) {
            bpf.start();
            for (int i = 0; i < n; i++) {
                long id = base + 100_000 + i;
                index.created(id, base + i / 100, ("app-" + i + ".service").getBytes(StandardCharsets.UTF_8),
                        Source.SWEEP);
                for (String map : BpfMaps.PER_CGROUP) {
                    long[] words = new long[BpfMaps.words(map)];
                    for (int w = 0; w < words.length; w++) {
                        words[w] = 1000L * (i + 1) + w;
                    }
                    bpf.put(map, id, words);
                }
            }
            index.flush();
            Config config = ((Flags.Run) Flags.parse("--web.listen-address=127.0.0.1:0")).config();
            CollectorRegistry registry = new CollectorRegistry();
            WorkloadResolver workloads = WorkloadResolver.pathsOnly();
            new CgroupCollector(index, bpf, config, workloads).register(registry);
            HttpComponent http = new HttpComponent(config, registry, new BuildInfo("bench", "bench"), index, workloads,
                    bpf);
            http.start();
            try (HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
                 HttpClient other = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build()) {
                String root = "http://127.0.0.1:" + http.port();
                HttpRequest metrics = get(root + "/metrics");
                HttpRequest tree = get(root + "/api/top?window=5s");
                HttpRequest active = get(root + "/api/top?window=5s&active=true");
                for (int i = 0; i < 30; i++) { // warm-up: JIT, the sampler's first window
                    time(client, metrics);
                    time(client, tree);
                    time(client, active);
                }
                double[] scrape = new double[reps];
                double[] top = new double[reps];
                double[] refresh = new double[reps];
                double[] topRatio = new double[reps];
                double[] refreshRatio = new double[reps];
                long bytes = 0;
                for (int r = 0; r < reps; r++) {
                    scrape[r] = time(client, metrics);
                    top[r] = time(client, tree);
                    refresh[r] = time(client, active);
                    topRatio[r] = top[r] / scrape[r];
                    refreshRatio[r] = refresh[r] / scrape[r];
                }
                bytes = client.send(tree, HttpResponse.BodyHandlers.ofByteArray()).body().length;
                // Scrapes alone and scrapes while another client asks /api/top back to back, alternating.
                double[] alone = new double[reps];
                double[] contended = new double[reps];
                double[] contendedRatio = new double[reps];
                AtomicLong topRequests = new AtomicLong();
                for (int r = 0; r < reps; r++) {
                    alone[r] = time(client, metrics);
                    AtomicBoolean stop = new AtomicBoolean();
                    long before = topRequests.get();
                    Thread pager = Thread.ofPlatform().start(() -> {
                        while (!stop.get()) {
                            time(other, tree);
                            topRequests.incrementAndGet();
                        }
                    });
                    while (topRequests.get() == before) {
                        Thread.sleep(1); // the pager is under way before the scrape starts
                    }
                    contended[r] = time(client, metrics);
                    stop.set(true);
                    pager.join();
                    contendedRatio[r] = contended[r] / alone[r];
                }
                System.out.printf("top cgroups=%d tree_gzip_bytes=%d%n", n, bytes);
                System.out.printf("top scrape_ms=%s tree_ms=%s active_ms=%s (min/median/max)%n",
                        SwitchCostBench.summary(scrape), SwitchCostBench.summary(top), SwitchCostBench.summary(refresh));
                System.out.printf("top tree/scrape=%s active/scrape=%s (min/median/max of paired ratios)%n",
                        SwitchCostBench.summary(topRatio), SwitchCostBench.summary(refreshRatio));
                System.out.printf("top scrape_alone_ms=%s scrape_while_paged_ms=%s ratio=%s (min/median/max; %d /api/top"
                                + " requests meanwhile)%n", SwitchCostBench.summary(alone),
                        SwitchCostBench.summary(contended), SwitchCostBench.summary(contendedRatio), topRequests.get());
            } finally {
                http.stop();
            }
        }
    }

    private static HttpRequest get(String url) {
        return HttpRequest.newBuilder(URI.create(url)).header("Accept-Encoding", "gzip")
                .timeout(Duration.ofSeconds(60)).build();
    }

    /** Milliseconds for one request, its body read whole. */
    private static double time(HttpClient client, HttpRequest request) {
        long t0 = System.nanoTime();
        try {
            HttpResponse<byte[]> r = client.send(request, HttpResponse.BodyHandlers.ofByteArray());
            if (r.statusCode() != 200) {
                throw new IllegalStateException(request.uri() + ": " + r.statusCode());
            }
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
        return (System.nanoTime() - t0) / 1e6;
    }
}
