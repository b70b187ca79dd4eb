package io.cgscope.metrics;

import io.cgscope.bpf.Feature;
import io.cgscope.config.Config.RollUp;
import io.cgscope.index.CgroupIndex;
import io.cgscope.index.FakeTicker;
import io.cgscope.index.Source;
import io.cgscope.testing.Cleanup;
import io.cgscope.testing.RuntimeBundles;
import io.cgscope.testing.RuntimeBundles.Identity;
import io.cgscope.workload.WorkloadResolver;
import io.prometheus.client.Collector;
import io.prometheus.client.Collector.MetricFamilySamples;
import io.prometheus.client.CollectorRegistry;
import io.prometheus.client.CounterMetricFamily;
import io.prometheus.client.GaugeMetricFamily;
import io.prometheus.client.exporter.common.TextFormat;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The exposition is simpleclient's, byte for byte: each family alone in both formats, and a whole
 * registry (the per-cgroup families first, then the rest as simpleclient writes them), with label
 * values that need escaping and every kind of value.
 */
class ExpositionWriterTest {
    private static final Duration RETENTION = Duration.ofMinutes(15);
    private static final String UID = "0b7e8f1c-2d3a-4b5c-8d9e-0f1a2b3c4d5e";
    private static final String POD = "kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod"
            + UID.replace('-', '_') + ".slice";
    private static final String C1 = "c1".repeat(32);
    private static final List<String> FORMATS = List.of(TextFormat.CONTENT_TYPE_004,
            TextFormat.CONTENT_TYPE_OPENMETRICS_100);

    private final Path runtime;

    ExpositionWriterTest() throws Exception {
        runtime = Files.createTempDirectory("cgscope-exposition-");
    }

    @AfterEach
    void clean() throws Exception {
        Cleanup.deleteTree(runtime);
    }

    /** A collector's families over cgroups whose names need escaping, and a named container. */
    private List<MetricFamilySamples> families() {
        CgroupIndex index = new CgroupIndex(RETENTION, new FakeTicker(), Clock.systemUTC());
        index.root(1);
        FakeCounterSource bpf = new FakeCounterSource(Feature.CPU, Feature.SAMPLES, Feature.SWITCHES, Feature.RUNQLAT);
        String[] names = {"system.slice", "quote\"d.service", "back\\slash.service", "new\nline.scope",
                "ünïcødé.service", "x=\"y\",z.scope"};
        for (int i = 0; i < names.length; i++) {
            index.created(10 + i, i == 0 ? 1 : 10, names[i].getBytes(StandardCharsets.UTF_8), Source.SWEEP);
            bpf.set(Feature.CPU, 10 + i, 1_000_000_000L * i + 123_456_789L).set(Feature.SAMPLES, 10 + i, i * 7L)
                    .set(Feature.SWITCHES, 10 + i, 10_000_000L + i);
            bpf.runq(10 + i, 1000L * i, i, 1);
        }
        index.created(30, 1, "kubepods.slice".getBytes(StandardCharsets.UTF_8), Source.SWEEP);
        index.created(31, 30, "kubepods-burstable.slice".getBytes(StandardCharsets.UTF_8), Source.SWEEP);
        index.created(32, 31, POD.substring(POD.lastIndexOf('/') + 1).getBytes(StandardCharsets.UTF_8), Source.SWEEP);
        index.created(33, 32, ("cri-containerd-" + C1 + ".scope").getBytes(StandardCharsets.UTF_8), Source.SWEEP);
        RuntimeBundles.containerd(runtime, new Identity(C1, "aa".repeat(32), UID, "shop", "cart-0", "cart",
                "registry.example.org/\\\"odd\\\"\\\\image:1"), false); // JSON-escaped in the bundle
        bpf.set(Feature.CPU, 33, 5).set(Feature.SWITCHES, 33, 3);
        bpf.runq(33, 4_000_000L, 0, 1);
        SeriesKeys keys = new SeriesKeys(WorkloadResolver.of(List.of(runtime)), new CgroupLabels(0, null, null),
                List.of("namespace", "pod", "container", "image"), RollUp.NONE);
        CgroupCollector c = new CgroupCollector(index, bpf, keys, RunqBuckets.of("log2"), RETENTION, () -> 1_000L);
        List<MetricFamilySamples> out = new ArrayList<>(c.collect());
        // families of other collectors, as simpleclient builds them
        CounterMetricFamily counter = new CounterMetricFamily("other_things", "Help with \\ and \" and\nnewline.",
                List.of("a"));
        counter.addMetric(List.of("v\"1"), 1.5);
        out.add(counter);
        out.add(new GaugeMetricFamily("other_gauge", "A gauge.", Double.NaN));
        return out;
    }

    private static String simpleclient(String format, List<MetricFamilySamples> families) throws Exception {
        StringWriter w = new StringWriter();
        TextFormat.writeFormat(format, w, Collections.enumeration(families));
        return w.toString();
    }

    private static String ours(String format, List<MetricFamilySamples> families) {
        return ExpositionWriter.write(format, Collections.enumeration(families), 0).toString();
    }

    @Test
    void eachFamilyAsSimpleclientWritesIt() throws Exception {
        List<MetricFamilySamples> families = families();
        int fast = 0;
        for (MetricFamilySamples f : families) {
            if (!f.samples.isEmpty() && f.samples.getFirst() instanceof SeriesSample) {
                fast++;
            }
            for (String format : FORMATS) {
                assertEquals(simpleclient(format, List.of(f)), ours(format, List.of(f)), f.name + " in " + format);
            }
        }
        assertEquals(5, fast, "the per-cgroup families (cpu, samples, switches, runqlat, info) go the fast way");
        String text = ours(TextFormat.CONTENT_TYPE_004, families);
        assertTrue(text.contains("cgroup=\"system.slice/quote\\\"d.service\""), "escaped once, as simpleclient does");
        assertTrue(text.contains("cgroup=\"system.slice/new\\nline.scope\""));
        assertTrue(text.contains("image=\"registry.example.org/\\\"odd\\\"\\\\image:1\""));
    }

    /** The whole registry: the same lines; the per-cgroup families come first, the rest after, OpenMetrics' EOF last. */
    @Test
    void aWholeRegistry() throws Exception {
        CollectorRegistry registry = new CollectorRegistry();
        List<MetricFamilySamples> families = families();
        new Collector() {
            @Override
            public List<MetricFamilySamples> collect() {
                return families;
            }
        }.register(registry);
        new io.prometheus.client.hotspot.MemoryPoolsExports().register(registry);
        List<MetricFamilySamples> scraped = Collections.list(registry.metricFamilySamples()); // one scrape for both
        for (String format : FORMATS) {
            String theirs = simpleclient(format, scraped);
            String mine = ExpositionWriter.write(format, Collections.enumeration(scraped), 64).toString();
            List<String> a = new ArrayList<>(theirs.lines().toList());
            List<String> b = new ArrayList<>(mine.lines().toList());
            Collections.sort(a);
            Collections.sort(b);
            assertEquals(a, b, format);
            assertEquals(theirs.length(), mine.length());
            assertTrue(mine.startsWith("# ") && mine.indexOf("cgscope_cgroup_cpu_seconds") < mine.indexOf("jvm_"), format);
            if (format.equals(TextFormat.CONTENT_TYPE_OPENMETRICS_100)) {
                assertTrue(mine.endsWith("# EOF\n"));
            }
        }
    }

    /** Values as {@link Collector#doubleToGoString}, the whole numbers written without it included. */
    @Test
    void valuesAsSimpleclientWritesThem() {
        List<Double> values = new ArrayList<>(List.of(0.0, -0.0, 1.0, 2.5, 9_999_999.0, 10_000_000.0, 1e7 + 1,
                123_456_789.0, 0.001, 1e-9, -1.0, -5e6, Double.NaN, Double.POSITIVE_INFINITY,
                Double.NEGATIVE_INFINITY, Double.MAX_VALUE, Double.MIN_VALUE, 4.0e15, 9_007_199_254_740_993.0));
        Random r = new Random(16);
        for (int i = 0; i < 100_000; i++) {
            values.add(switch (i % 4) {
                case 0 -> (double) r.nextInt(20_000_000);
                case 1 -> r.nextLong(1L << 60) / 1e9;
                case 2 -> Double.longBitsToDouble(r.nextLong());
                default -> r.nextInt(1000) / 8.0;
            });
        }
        for (double v : values) {
            StringBuilder sb = new StringBuilder();
            ExpositionWriter.value(sb, v);
            assertEquals(Collector.doubleToGoString(v), sb.toString(), Double.toString(v));
        }
    }
}
