package io.cgscope.bench;

import io.cgscope.bpf.BpfCompanion;
import io.cgscope.bpf.BpfMaps;
import io.cgscope.bpf.Feature;
import io.cgscope.config.Config;
import io.cgscope.index.CgroupIndex;
import io.cgscope.index.Source;
import io.cgscope.metrics.CgroupCollector;
import io.prometheus.client.Collector;
import io.prometheus.client.CollectorRegistry;
import io.prometheus.client.exporter.common.TextFormat;

import java.io.Writer;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;

/**
 * Benchmark (not a test): a whole scrape (read the maps, name the ids, sum, build the families,
 * write text 0.0.4) for N cgroups with every family, against simpleclient's TextFormat writing
 * the same samples already built; bytes; heap per exported series. Usage:
 * {@code ScrapeBench CGROUPS REPEATS}.
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

    public static void main(String[] args) throws Exception {
        int n = Integer.parseInt(args[0]);
        int reps = Integer.parseInt(args[1]);
        CgroupIndex index = new CgroupIndex(Duration.ofMinutes(15));
        index.root(1);
        long base = 1L << 32;
        // systemd-like: 100 slices of 100 services, names of realistic length
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
            System.gc();
            long heapBefore = usedHeap();
            CgroupCollector collector = new CgroupCollector(index, bpf, Config.defaults());
            CollectorRegistry registry = new CollectorRegistry();
            collector.register(registry);
            CountingWriter w = new CountingWriter();
            TextFormat.write004(w, registry.metricFamilySamples()); // first scrape: names every id
            System.gc();
            long retained = usedHeap() - heapBefore;
            for (int i = 0; i < 20; i++) {
                TextFormat.write004(new CountingWriter(), registry.metricFamilySamples());
            }
            List<Collector.MetricFamilySamples> built = collector.collect();
            long samples = built.stream().mapToLong(f -> f.samples.size()).sum();
            long series = built.stream().filter(f -> f.name.startsWith("cgscope_cgroup_") && !f.name.contains("unresolved"))
                    .mapToLong(f -> f.type == Collector.Type.HISTOGRAM
                            ? f.samples.stream().filter(s -> s.name.endsWith("_count")).count()
                            : f.samples.size()).sum();
            double[] scrape = new double[reps];
            double[] bare = new double[reps];
            long bytes = 0;
            long allocated = 0;
            var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
            for (int r = 0; r < reps; r++) {
                long a0 = threads.getCurrentThreadAllocatedBytes();
                long t0 = System.nanoTime();
                CountingWriter cw = new CountingWriter();
                TextFormat.write004(cw, registry.metricFamilySamples());
                scrape[r] = (System.nanoTime() - t0) / 1e6;
                allocated = threads.getCurrentThreadAllocatedBytes() - a0;
                bytes = cw.chars;
                long t1 = System.nanoTime();
                TextFormat.write004(new CountingWriter(), Collections.enumeration(built));
                bare[r] = (System.nanoTime() - t1) / 1e6;
            }
            double[] read = new double[reps];
            double[] collect = new double[reps];
            for (int r = 0; r < reps; r++) {
                long t0 = System.nanoTime();
                bpf.read();
                read[r] = (System.nanoTime() - t0) / 1e6;
                long t1 = System.nanoTime();
                collector.collect();
                collect[r] = (System.nanoTime() - t1) / 1e6;
            }
            double[] ratio = new double[reps];
            for (int r = 0; r < reps; r++) {
                ratio[r] = scrape[r] / bare[r];
            }
            System.out.printf("scrape cgroups=%d samples=%d series=%d bytes=%d%n", n, samples, series, bytes);
            System.out.printf("scrape whole_ms=%s bare_serializer_ms=%s ratio=%s (min/median/max)%n",
                    SwitchCostBench.summary(scrape), SwitchCostBench.summary(bare), SwitchCostBench.summary(ratio));
            System.out.printf("parts: map_read_ms=%s collect_ms=%s (min/median/max; collect includes the read)%n",
                    SwitchCostBench.summary(read), SwitchCostBench.summary(collect));
            System.out.printf("heap retained by the collector after the first scrape: %d bytes = %.0f bytes per"
                    + " exported series (%.0f per cgroup); allocated per scrape: %d bytes = %.0f per series%n",
                    retained, (double) retained / series, (double) retained / n, allocated,
                    (double) allocated / series);
        }
    }

    private static long usedHeap() {
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }
}
