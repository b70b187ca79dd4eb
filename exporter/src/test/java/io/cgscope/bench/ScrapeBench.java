package io.cgscope.bench;

import io.cgscope.bpf.BpfCompanion;
import io.cgscope.bpf.BpfMaps;
import io.cgscope.bpf.Feature;
import io.cgscope.config.Config;
import io.cgscope.config.Flags;
import io.cgscope.index.CgroupIndex;
import io.cgscope.index.Source;
import io.cgscope.metrics.BenchSeam;
import io.cgscope.metrics.CgroupCollector;
import io.cgscope.metrics.ExpositionWriter;
import io.cgscope.programs.UserPrograms;
import io.cgscope.workload.WorkloadResolver;
import io.prometheus.client.Collector;
import io.prometheus.client.CollectorRegistry;
import io.prometheus.client.exporter.common.TextFormat;
import io.vertx.core.buffer.Buffer;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.StringWriter;
import java.io.Writer;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.zip.GZIPOutputStream;

/**
 * Benchmark (not a test): a whole scrape as {@code GET /metrics} makes it (read the maps, name the
 * ids, sum, build the families, write the text, make the response body of it) for N cgroups with
 * every family, and gzip of the body as the server does for Prometheus (level 6, Vert.x's default;
 * and level 1 for comparison). Collectors over the
 * same maps and index, measured in turn in each repetition:
 * <ul>
 *   <li>{@code before}: the reference, what {@code /metrics} did before workloads were named: the
 *       {@code cgroup} label alone, written by simpleclient's {@code TextFormat} into a
 *       {@code StringWriter};</li>
 *   <li>{@code before_fast}: the same collector written by {@link ExpositionWriter};</li>
 *   <li>{@code info_only}: {@code --metrics.workload-labels=} (classification, bundles and
 *       {@code cgscope_cgroup_info}), {@link ExpositionWriter};</li>
 *   <li>{@code workload_labels}: the default labels on every series, {@link ExpositionWriter}
 *       (what {@code /metrics} does now);</li>
 *   <li>{@code workload_labels_simpleclient}: the same written by simpleclient (what it did before
 *       {@link ExpositionWriter}).</li>
 * </ul>
 * Also, per variant, {@code TextFormat.write004} of its samples already built ({@code bare}).
 * Layout {@code systemd}: 100 slices of 100 services; {@code containers}: Kubernetes containers
 * with the systemd driver, two per pod, with containerd bundles in a temporary directory.
 * With {@code user}, one more collector, {@code with_user}: {@code workload_labels}'s and a user
 * program in ebpf_exporter's format in the same registry ({@code target/test-bpf/scrape-bench}: a
 * counter and an exp2 histogram per cgroup, 4 buckets and the sum filled for each, named by the
 * {@code cgroup} decoder), so its ratio against {@code before} is the cost of the user families in
 * the whole scrape.
 * Usage: {@code ScrapeBench CGROUPS REPEATS [systemd|containers] [user]}.
 */
public final class ScrapeBench {
    private ScrapeBench() {
    }

    /** Counts bytes as UTF-8 would need, keeps nothing (what a socket would see, minus the I/O). */
    static final class CountingWriter extends Writer {
        long chars;

        @Override
        public void write(char[] buf, int off, int len) {
            chars += len;
        }

        @Override
        public void write(String s, int off, int len) {
            chars += len;
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    }

    /** One collector measured: its registry, its writer, and its scrapes. */
    private record Variant(String name, CgroupCollector collector, UserPrograms user, CollectorRegistry registry,
                           boolean fast, double[] scrape, double[] bare, long[] bytes, long[] allocated,
                           long[] retained, double[] gzip, long[] gzipBytes, double[] gzip1, long[] gzip1Bytes,
                           int[] lastSize) {
        static Variant of(String name, CgroupCollector c, boolean fast, int reps) {
            return of(name, c, null, fast, reps);
        }

        /** With {@code user} (may be null) registered beside the collector. */
        static Variant of(String name, CgroupCollector c, UserPrograms user, boolean fast, int reps) {
            CollectorRegistry r = new CollectorRegistry();
            c.register(r);
            if (user != null) {
                user.register(r);
            }
            return new Variant(name, c, user, r, fast, new double[reps], new double[reps], new long[1], new long[1],
                    new long[1], new double[3], new long[1], new double[3], new long[1], new int[] {16 * 1024});
        }

        List<Collector.MetricFamilySamples> collect() {
            List<Collector.MetricFamilySamples> built = new ArrayList<>(collector.collect());
            if (user != null) {
                built.addAll(user.collect());
            }
            return built;
        }

        /**
         * A whole scrape as the handler makes it: the text (its builder sized by the last scrape, as
         * MetricsHandler does), then the response body Vert.x makes of it.
         */
        Buffer scrapeBytes() throws IOException {
            CharSequence text;
            if (fast) {
                text = ExpositionWriter.write(TextFormat.CONTENT_TYPE_004, registry.metricFamilySamples(), lastSize[0]);
            } else {
                StringWriter w = new StringWriter(lastSize[0]);
                TextFormat.writeFormat(TextFormat.CONTENT_TYPE_004, w, registry.metricFamilySamples());
                text = w.getBuffer();
            }
            lastSize[0] = Math.max(16 * 1024, text.length() + text.length() / 8);
            return Buffer.buffer(text.toString());
        }
    }

    public static void main(String[] args) throws Exception {
        int n = Integer.parseInt(args[0]);
        int reps = Integer.parseInt(args[1]);
        String layout = args.length > 2 ? args[2] : "systemd";
        if (!layout.equals("systemd") && !layout.equals("containers")) {
            throw new IllegalArgumentException("layout: systemd or containers, not " + layout);
        }
        boolean user = args.length > 3 && args[3].equals("user");
        CgroupIndex index = new CgroupIndex(Duration.ofMinutes(15));
        index.root(1);
        long base = 1L << 32;
        Path runtimeDir = Files.createTempDirectory("cgscope-scrapebench-");
        List<Long> ids = layout.equals("containers") ? containers(index, base, n, runtimeDir) : systemd(index, base, n);
        try (BpfCompanion bpf = new BpfCompanion(EnumSet.allOf(Feature.class), Math.max(16384, n + 16), 99)) {
            bpf.start();
            for (int i = 0; i < ids.size(); i++) {
                for (String map : BpfMaps.PER_CGROUP) {
                    long[] words = new long[BpfMaps.words(map)];
                    for (int w = 0; w < words.length; w++) {
                        words[w] = 1000L * (i + 1) + w;
                    }
                    bpf.put(map, ids.get(i), words);
                }
            }
            Config none = ((Flags.Run) Flags.parse("--metrics.workload-labels=",
                    "--workload.runtime-dirs=" + runtimeDir)).config();
            Config labels = ((Flags.Run) Flags.parse("--workload.runtime-dirs=" + runtimeDir)).config();
            List<Variant> variants = new ArrayList<>();
            // the reference: /metrics as it was before workloads were named
            variants.add(Variant.of("before", BenchSeam.withoutWorkloads(index, bpf, labels), false, reps));
            variants.add(Variant.of("before_fast", BenchSeam.withoutWorkloads(index, bpf, labels), true, reps));
            variants.add(Variant.of("info_only", new CgroupCollector(index, bpf, none,
                    WorkloadResolver.of(none.runtimeDirs())), true, reps));
            variants.add(Variant.of("workload_labels", new CgroupCollector(index, bpf, labels,
                    WorkloadResolver.of(labels.runtimeDirs())), true, reps));
            variants.add(Variant.of("workload_labels_simpleclient", new CgroupCollector(index, bpf, labels,
                    WorkloadResolver.of(labels.runtimeDirs())), false, reps));
            UserPrograms programs = user ? userPrograms(index, n, base, runtimeDir) : null;
            if (programs != null) {
                variants.add(Variant.of("with_user", new CgroupCollector(index, bpf, labels,
                        WorkloadResolver.of(labels.runtimeDirs())), programs, true, reps));
            }
            for (Variant v : variants) {
                System.gc();
                long heapBefore = usedHeap();
                long t0 = System.nanoTime();
                v.scrapeBytes(); // names every id
                double first = (System.nanoTime() - t0) / 1e6;
                System.gc();
                v.retained[0] = usedHeap() - heapBefore;
                for (int i = 0; i < 20; i++) {
                    v.scrapeBytes();
                }
                System.out.printf("%s: first scrape (classifies, reads %s bundles) %.1f ms%n", v.name,
                        layout.equals("containers") && v.name.startsWith("workload") || v.name.equals("info_only")
                                ? Integer.toString(n) : "no", first);
            }
            var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
            long samples = 0;
            long series = 0;
            for (int r = 0; r < reps; r++) {
                for (Variant v : variants) { // interleaved: each repetition measures every variant
                    List<Collector.MetricFamilySamples> built = v.collect();
                    if (r == 0 && v.name.equals("workload_labels")) {
                        samples = built.stream().mapToLong(f -> f.samples.size()).sum();
                        series = built.stream().filter(f -> f.name.startsWith("cgscope_cgroup_cpu_seconds"))
                                .mapToLong(f -> f.samples.size()).sum();
                    }
                    long a0 = threads.getCurrentThreadAllocatedBytes();
                    long t0 = System.nanoTime();
                    Buffer body = v.scrapeBytes();
                    v.scrape[r] = (System.nanoTime() - t0) / 1e6;
                    v.allocated[0] = threads.getCurrentThreadAllocatedBytes() - a0;
                    v.bytes[0] = body.length();
                    long t1 = System.nanoTime();
                    TextFormat.write004(new CountingWriter(), Collections.enumeration(built));
                    v.bare[r] = (System.nanoTime() - t1) / 1e6;
                }
            }
            for (Variant v : variants) { // gzip as the server does it for Prometheus (Accept-Encoding: gzip)
                byte[] bytes = v.scrapeBytes().getBytes();
                for (int i = 0; i < v.gzip.length; i++) {
                    long t0 = System.nanoTime();
                    v.gzipBytes[0] = gzip(bytes, 6);
                    v.gzip[i] = (System.nanoTime() - t0) / 1e6;
                    long t1 = System.nanoTime();
                    v.gzip1Bytes[0] = gzip(bytes, 1);
                    v.gzip1[i] = (System.nanoTime() - t1) / 1e6;
                }
            }
            System.out.printf("scrape layout=%s cgroups=%d series=%d samples(workload_labels)=%d%n", layout, n, series,
                    samples);
            Variant before = variants.getFirst();
            Variant beforeFast = variants.get(1);
            for (Variant v : variants) {
                double[] ratio = new double[reps];
                double[] toBefore = new double[reps];
                double[] toBeforeFast = new double[reps];
                for (int r = 0; r < reps; r++) {
                    ratio[r] = v.scrape[r] / v.bare[r];
                    toBefore[r] = v.scrape[r] / before.scrape[r];
                    toBeforeFast[r] = v.scrape[r] / beforeFast.scrape[r];
                }
                System.out.printf("%s: whole_ms=%s bare_serializer_ms=%s ratio=%s (min/median/max) bytes=%d (%.3f of"
                                + " before's) allocated=%d retained_heap=%d gzip6_ms=%s gzip6_bytes=%d gzip1_ms=%s"
                                + " gzip1_bytes=%d%n", v.name,
                        SwitchCostBench.summary(v.scrape), SwitchCostBench.summary(v.bare),
                        SwitchCostBench.summary(ratio), v.bytes[0], (double) v.bytes[0] / before.bytes[0],
                        v.allocated[0], v.retained[0], SwitchCostBench.summary(v.gzip), v.gzipBytes[0],
                        SwitchCostBench.summary(v.gzip1), v.gzip1Bytes[0]);
                System.out.printf("%s: whole scrape / before's, same repetition: %s (min/median/max); medians %.3f;"
                                + " / before_fast's: %s; with gzip 6, medians: %.3f of before's, %.3f of before_fast's;"
                                + " with gzip 1: %.3f, %.3f%n", v.name,
                        SwitchCostBench.summary(toBefore), median(v.scrape) / median(before.scrape),
                        SwitchCostBench.summary(toBeforeFast),
                        (median(v.scrape) + median(v.gzip)) / (median(before.scrape) + median(before.gzip)),
                        (median(v.scrape) + median(v.gzip)) / (median(beforeFast.scrape) + median(beforeFast.gzip)),
                        (median(v.scrape) + median(v.gzip1)) / (median(before.scrape) + median(before.gzip1)),
                        (median(v.scrape) + median(v.gzip1)) / (median(beforeFast.scrape) + median(beforeFast.gzip1)));
            }
            if (programs != null) {
                double[] userCollect = new double[reps];
                double[] userCollectCpu = new double[reps];
                for (int r = 0; r < reps; r++) {
                    long c0 = threads.getCurrentThreadCpuTime();
                    long t0 = System.nanoTime();
                    programs.collect();
                    userCollect[r] = (System.nanoTime() - t0) / 1e6;
                    userCollectCpu[r] = (threads.getCurrentThreadCpuTime() - c0) / 1e6;
                }
                System.out.printf("user programs: collect_ms=%s cpu_ms=%s (min/median/max; reads both maps, names,"
                        + " sums)%n", SwitchCostBench.summary(userCollect), SwitchCostBench.summary(userCollectCpu));
                programs.close();
            }
        } finally {
            io.cgscope.testing.Cleanup.deleteTree(runtimeDir);
        }
    }

    /**
     * gzip at a zlib level (Vert.x compresses responses at 6, its default; 1 is zlib's fastest);
     * returns the compressed size.
     */
    private static long gzip(byte[] bytes, int level) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream(bytes.length / 8);
        try (GZIPOutputStream gz = new GZIPOutputStream(out, 1 << 16) {
            {
                def.setLevel(level);
            }
        }) {
            gz.write(bytes);
        }
        return out.size();
    }

    /** systemd-like: 100 slices of 100 services, names of realistic length. */
    private static List<Long> systemd(CgroupIndex index, long base, int n) {
        for (int s = 0; s < n / 100; s++) {
            index.created(base + s, 1, ("tenant-" + s + ".slice").getBytes(StandardCharsets.UTF_8), Source.SWEEP);
        }
        List<Long> ids = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            long id = base + 100_000 + i;
            index.created(id, base + i / 100, ("app-" + i + ".service").getBytes(StandardCharsets.UTF_8), Source.SWEEP);
            ids.add(id);
        }
        return ids;
    }

    /**
     * Kubernetes with the systemd driver: {@code n} containers, two per Burstable pod
     * ({@code kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod<uid>.slice/cri-containerd-<id>.scope}),
     * each with a bundle in {@code runtimeDir} as containerd lays them out ({@code k8s.io/<id>/config.json}).
     */
    private static List<Long> containers(CgroupIndex index, long base, int n, Path runtimeDir) throws Exception {
        index.created(base, 1, "kubepods.slice".getBytes(StandardCharsets.UTF_8), Source.SWEEP);
        index.created(base + 1, base, "kubepods-burstable.slice".getBytes(StandardCharsets.UTF_8), Source.SWEEP);
        List<Long> ids = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            int pod = i / 2;
            String uid = new java.util.UUID(0x5eed_0000_0000_4000L | pod, 0x8000_0000_0000_0000L | pod).toString();
            long podId = base + 10 + pod;
            if (i % 2 == 0) {
                index.created(podId, base + 1, ("kubepods-burstable-pod" + uid.replace('-', '_') + ".slice")
                        .getBytes(StandardCharsets.UTF_8), Source.SWEEP);
            }
            String cid = String.format("%064x", new java.math.BigInteger(1,
                    java.security.MessageDigest.getInstance("SHA-256").digest(("c" + i).getBytes(StandardCharsets.UTF_8))));
            long id = base + 100_000 + i;
            index.created(id, podId, ("cri-containerd-" + cid + ".scope").getBytes(StandardCharsets.UTF_8),
                    Source.SWEEP);
            ids.add(id);
            Path bundle = Files.createDirectories(runtimeDir.resolve("k8s.io").resolve(cid));
            Files.writeString(bundle.resolve("config.json"), "{\"ociVersion\":\"1.2.0\",\"annotations\":{"
                    + "\"io.kubernetes.cri.container-name\":\"" + (i % 2 == 0 ? "app" : "sidecar") + "\","
                    + "\"io.kubernetes.cri.container-type\":\"container\","
                    + "\"io.kubernetes.cri.image-name\":\"registry.example.org/team/app:1.4.2\","
                    + "\"io.kubernetes.cri.sandbox-name\":\"app-7c5ddbdf54-" + Integer.toString(pod, 36) + "\","
                    + "\"io.kubernetes.cri.sandbox-namespace\":\"team-" + pod % 50 + "\","
                    + "\"io.kubernetes.cri.sandbox-uid\":\"" + uid + "\"}}");
        }
        return ids;
    }

    private static double median(double[] a) {
        double[] c = a.clone();
        java.util.Arrays.sort(c);
        return c[c.length / 2];
    }

    /**
     * The benchmark's user program, loaded as cgscope loads one, its maps filled for the same
     * cgroups as the built-in maps: a counter per cgroup, 4 histogram buckets and the sum per cgroup.
     */
    private static UserPrograms userPrograms(CgroupIndex index, int n, long base, Path runtimeDir) throws Exception {
        Config config = ((io.cgscope.config.Flags.Run) io.cgscope.config.Flags.parse(
                "--config.dir=" + java.nio.file.Path.of(System.getProperty("cgscope.test-bpf", "target/test-bpf"))
                        .toAbsolutePath(),
                "--config.names=scrape-bench", "--workload.runtime-dirs=" + runtimeDir)).config();
        // the workload labels of workload_labels' collector, from the same bundles
        UserPrograms programs = new UserPrograms(config, index, WorkloadResolver.of(config.runtimeDirs()), true);
        System.out.println(programs.start(null));
        java.nio.ByteBuffer key = java.nio.ByteBuffer.allocate(16).order(java.nio.ByteOrder.nativeOrder());
        for (int i = 0; i < n; i++) {
            long id = base + 100_000 + i;
            byte[] idKey = java.nio.ByteBuffer.allocate(8).order(java.nio.ByteOrder.nativeOrder()).putLong(id).array();
            programs.put("scrape-bench", "bench_cgroup_events_total", idKey, 1000L * (i + 1));
            for (int bucket : new int[] {3, 5, 8, 12, 27}) {
                key.clear();
                key.putLong(id).putLong(bucket);
                programs.put("scrape-bench", "bench_cgroup_latency_seconds", key.array().clone(),
                        bucket == 27 ? 4000L * (i + 1) : i + bucket);
            }
        }
        return programs;
    }

    private static long usedHeap() {
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }
}
