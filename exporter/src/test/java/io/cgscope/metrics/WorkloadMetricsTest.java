package io.cgscope.metrics;

import io.cgscope.bpf.Feature;
import io.cgscope.config.Config.RollUp;
import io.cgscope.index.CgroupIndex;
import io.cgscope.index.FakeTicker;
import io.cgscope.index.Source;
import io.cgscope.testing.Cleanup;
import io.cgscope.testing.RuntimeBundles;
import io.cgscope.testing.RuntimeBundles.Identity;
import io.cgscope.testing.KubeletLogTree;
import io.cgscope.workload.BundleReader;
import io.cgscope.workload.Bundles;
import io.cgscope.workload.KubeletLogs;
import io.cgscope.workload.WorkloadResolver;
import io.prometheus.client.Collector;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Workloads in the metrics, on hand-built maps, a hand-fed index and bundles written as containerd
 * writes them: {@code cgscope_cgroup_info}, the workload labels, series whose labels never change,
 * and the container and pod roll-ups across a container's restart.
 */
class WorkloadMetricsTest {
    private static final Duration RETENTION = Duration.ofMinutes(15);
    private static final String CPU = "cgscope_cgroup_cpu_seconds_total";
    private static final String SWITCHES = "cgscope_cgroup_context_switches_total";
    private static final String INFO = "cgscope_cgroup_info";
    private static final String UID = "0b7e8f1c-2d3a-4b5c-8d9e-0f1a2b3c4d5e";
    private static final String POD = "kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod"
            + UID.replace('-', '_') + ".slice";
    private static final String SB = "aa".repeat(32);
    private static final String C1 = "c1".repeat(32);
    private static final String C2 = "c2".repeat(32);
    private static final String C3 = "c3".repeat(32);

    private final FakeTicker ticker = new FakeTicker();
    private final AtomicLong nanos = new AtomicLong(1_000);
    private CgroupIndex index;
    private FakeCounterSource bpf;
    private Path runtime;

    @BeforeEach
    void setUp() throws Exception {
        index = new CgroupIndex(RETENTION, ticker, Clock.systemUTC());
        index.root(1);
        bpf = new FakeCounterSource(Feature.CPU, Feature.SWITCHES, Feature.RUNQLAT);
        runtime = Files.createTempDirectory("cgscope-runtime-");
        mkdir(10, 1, "kubepods.slice");
        mkdir(11, 10, "kubepods-burstable.slice");
        mkdir(12, 11, POD.substring(POD.lastIndexOf('/') + 1));
        mkdir(20, 1, "system.slice");
        mkdir(21, 20, "nginx.service");
    }

    @AfterEach
    void tearDown() throws Exception {
        Cleanup.deleteTree(runtime);
    }

    private CgroupCollector collector(RollUp rollUp, String... workloadLabels) {
        SeriesKeys keys = new SeriesKeys(WorkloadResolver.of(List.of(runtime)), new CgroupLabels(0, null, null),
                List.of(workloadLabels), rollUp);
        return new CgroupCollector(index, bpf, keys, RunqBuckets.of("pow4"), RETENTION, nanos::get);
    }

    private CgroupCollector collector() {
        return collector(RollUp.NONE, "namespace", "pod", "container");
    }

    private void mkdir(long id, long parent, String name) {
        index.created(id, parent, name.getBytes(StandardCharsets.UTF_8), Source.SWEEP);
    }

    private void container(long id, String containerId, String name) {
        mkdir(id, 12, "cri-containerd-" + containerId + ".scope");
    }

    private void bundle(String containerId, String name) {
        RuntimeBundles.containerd(runtime, new Identity(containerId, SB, UID, "shop", "cart-7d9f-x2k9l", name,
                "registry.example.org/shop/" + name + ":3"), name == null);
    }

    /** Each sample of this name as its label map, with its value under "value". */
    private static List<Map<String, String>> samples(List<Collector.MetricFamilySamples> m, String name) {
        List<Map<String, String>> out = new ArrayList<>();
        for (Collector.MetricFamilySamples f : m) {
            for (Collector.MetricFamilySamples.Sample s : f.samples) {
                if (s.name.equals(name)) {
                    Map<String, String> labels = new LinkedHashMap<>();
                    for (int i = 0; i < s.labelNames.size(); i++) {
                        labels.put(s.labelNames.get(i), s.labelValues.get(i));
                    }
                    labels.put("value", Double.toString(s.value));
                    out.add(labels);
                }
            }
        }
        return out;
    }

    private static Map<String, String> only(List<Map<String, String>> samples, String cgroup) {
        List<Map<String, String>> of = samples.stream().filter(s -> cgroup.equals(s.get("cgroup"))).toList();
        assertEquals(1, of.size(), "one series of " + cgroup + ": " + samples);
        return of.getFirst();
    }

    @Test
    void infoAndWorkloadLabels() {
        bundle(C1, "cart");
        bundle(SB, null);
        container(13, C1, "cart");
        container(14, SB, null);
        bpf.set(Feature.CPU, 13, 3_000_000_000L).set(Feature.CPU, 14, 1_000_000L).set(Feature.CPU, 21, 500_000_000L);
        bpf.runq(13, 1000, 0, 1);
        List<Collector.MetricFamilySamples> m = collector().collect();
        String cart = POD + "/cri-containerd-" + C1 + ".scope";
        Map<String, String> info = only(samples(m, INFO), cart);
        assertEquals(Map.ofEntries(Map.entry("cgroup", cart), Map.entry("kind", "container"),
                Map.entry("namespace", "shop"), Map.entry("pod", "cart-7d9f-x2k9l"), Map.entry("container", "cart"),
                Map.entry("pod_uid", UID), Map.entry("container_id", C1), Map.entry("qos_class", "burstable"),
                Map.entry("runtime", "containerd"), Map.entry("unit", "cri-containerd-" + C1 + ".scope"),
                Map.entry("image", "registry.example.org/shop/cart:3"), Map.entry("value", "1.0")), info);
        assertEquals(Map.of("cgroup", cart, "namespace", "shop", "pod", "cart-7d9f-x2k9l", "container", "cart",
                "value", "3.0"), only(samples(m, CPU), cart));
        Map<String, String> bucket = samples(m, CgroupCollector.RUNQ_NAME + "_bucket").getFirst();
        assertEquals(List.of("cgroup", "namespace", "pod", "container", "le"), List.copyOf(bucket.keySet()).subList(0, 5));
        // the sandbox is the pod's POD container
        Map<String, String> sandbox = only(samples(m, INFO), POD + "/cri-containerd-" + SB + ".scope");
        assertEquals("sandbox", sandbox.get("kind"));
        assertEquals("POD", sandbox.get("container"));
        // a unit has no workload labels with a value: its series are as they were, its info says what it is
        assertEquals(Map.of("cgroup", "system.slice/nginx.service", "value", "0.5"),
                only(samples(m, CPU), "system.slice/nginx.service"));
        Map<String, String> nginx = only(samples(m, INFO), "system.slice/nginx.service");
        assertEquals("systemd-unit", nginx.get("kind"));
        assertEquals("nginx.service", nginx.get("unit"));
        assertEquals("", nginx.get("pod"));
        // no workload labels asked for: the cgroup label alone, the info still complete
        m = collector(RollUp.NONE).collect();
        assertEquals(Map.of("cgroup", cart, "value", "3.0"), only(samples(m, CPU), cart));
        assertEquals("cart", only(samples(m, INFO), cart).get("container"));
    }

    /**
     * A series' labels are fixed when it is first exported. Here the first container of a pod has
     * no bundle (the names come a moment late, with the second container's): the pod's series,
     * rolled up, keeps the labels it started with and sums both; each container's own series too.
     */
    @Test
    void aSeriesKeepsItsLabelsWhenABundleIsReadLate() {
        CgroupCollector pods = collector(RollUp.POD, "namespace", "pod", "container");
        CgroupCollector plain = collector();
        container(13, C1, "cart"); // no bundle yet
        bpf.set(Feature.SWITCHES, 13, 5);
        List<Map<String, String>> first = samples(pods.collect(), SWITCHES);
        assertEquals(List.of(Map.of("cgroup", POD, "value", "5.0")), first);
        Map<String, String> plainFirst = only(samples(plain.collect(), SWITCHES), POD + "/cri-containerd-" + C1 + ".scope");
        assertEquals(Map.of("cgroup", POD + "/cri-containerd-" + C1 + ".scope", "value", "5.0"), plainFirst);

        bundle(C1, "cart"); // written late: read never again for this container
        bundle(C2, "worker");
        container(15, C2, "worker");
        bpf.set(Feature.SWITCHES, 15, 7).set(Feature.SWITCHES, 13, 6);
        List<Collector.MetricFamilySamples> m = pods.collect();
        assertEquals(List.of(Map.of("cgroup", POD, "value", "13.0")), samples(m, SWITCHES),
                "one pod series, its first labels, both containers summed");
        assertEquals("", only(samples(m, INFO), POD).get("pod"), "its info as it was first exported");

        m = plain.collect();
        assertEquals(Map.of("cgroup", POD + "/cri-containerd-" + C1 + ".scope", "value", "6.0"),
                only(samples(m, SWITCHES), POD + "/cri-containerd-" + C1 + ".scope"), "labels as first exported");
        assertEquals(Map.of("cgroup", POD + "/cri-containerd-" + C2 + ".scope", "namespace", "shop",
                "pod", "cart-7d9f-x2k9l", "container", "worker", "value", "7.0"),
                only(samples(m, SWITCHES), POD + "/cri-containerd-" + C2 + ".scope"), "a new series gets its names");
    }

    /**
     * After {@code --run-as} no bundle can be read: kubelet's log files name the containers. A
     * container's symlink comes a moment after its cgroup, so the container's first export is held
     * until it is named, and at most {@link KubeletLogs#WAIT_NANOS}: then it starts with what is
     * known (its pod's names), and keeps those labels.
     */
    @Test
    void aContainerNamedByKubeletsLogsIsHeldUntilNamedNotFrozenWithoutIt() throws Exception {
        Path logDir = Files.createTempDirectory("cgscope-kubelet-");
        try {
            KubeletLogTree tree = new KubeletLogTree(logDir);
            tree.pod("shop", "cart-7d9f-x2k9l", UID); // before the sandbox: kubelet's createPodSandbox
            KubeletLogs logs = new KubeletLogs(tree.podsDir(), tree.containersDir(), nanos::get);
            WorkloadResolver resolver = new WorkloadResolver(new Bundles(new BundleReader(List.of(runtime))), logs);
            CgroupCollector c = new CgroupCollector(index, bpf, new SeriesKeys(resolver, new CgroupLabels(0, null, null),
                    List.of("namespace", "pod", "container"), RollUp.NONE), RunqBuckets.of("pow4"), RETENTION, nanos::get);
            String cart = POD + "/cri-containerd-" + C1 + ".scope";
            container(13, C1, "cart"); // its cgroup; no bundle readable, no symlink yet
            bpf.set(Feature.CPU, 13, 3_000_000_000L).set(Feature.CPU, 21, 500_000_000L);
            List<Collector.MetricFamilySamples> m = c.collect();
            assertEquals(List.of(), samples(m, CPU).stream().filter(s -> cart.equals(s.get("cgroup"))).toList(),
                    "held: not exported without its name");
            assertEquals(List.of(), samples(m, INFO).stream().filter(s -> cart.equals(s.get("cgroup"))).toList());
            assertEquals(1.0, MetricsText.value(m, "cgscope_cgroup_held_ids"));
            assertEquals(0.5, value(m, CPU, Map.of("cgroup", "system.slice/nginx.service")), "the rest as ever");

            logs.refresh(); // the tracker's turn: lists the pod's directory
            nanos.addAndGet(KubeletLogs.WAIT_NANOS / 5);
            tree.started("shop", "cart-7d9f-x2k9l", UID, "cart", 0, C1); // kubelet, after StartContainer
            logs.refresh();
            bpf.set(Feature.CPU, 13, 3_500_000_000L);
            m = c.collect();
            assertEquals(Map.of("cgroup", cart, "namespace", "shop", "pod", "cart-7d9f-x2k9l", "container", "cart",
                    "value", "3.5"), only(samples(m, CPU), cart), "all its counts, first exported with its names");
            Map<String, String> info = only(samples(m, INFO), cart);
            assertEquals(List.of("container", "containerd", "", "burstable"), List.of(info.get("kind"),
                    info.get("runtime"), info.get("image"), info.get("qos_class")), "the path's; no image from logs");
            assertEquals(0.0, MetricsText.value(m, "cgscope_cgroup_held_ids"));

            // never linked (a sandbox, or no log file): held WAIT_NANOS at most, then its pod's names
            String sandbox = POD + "/cri-containerd-" + SB + ".scope";
            container(14, SB, null);
            bpf.set(Feature.CPU, 14, 1_000_000L);
            m = c.collect();
            assertEquals(1.0, MetricsText.value(m, "cgscope_cgroup_held_ids"));
            nanos.addAndGet(KubeletLogs.WAIT_NANOS);
            logs.refresh();
            m = c.collect();
            assertEquals(Map.of("cgroup", sandbox, "namespace", "shop", "pod", "cart-7d9f-x2k9l", "value", "0.001"),
                    only(samples(m, CPU), sandbox));
            assertEquals("container", only(samples(m, INFO), sandbox).get("kind"), "a sandbox is one only by its bundle");
            assertEquals(Map.of(KubeletLogs.Failure.MISSING, 1L, KubeletLogs.Failure.UNREADABLE, 0L,
                    KubeletLogs.Failure.MALFORMED, 0L, KubeletLogs.Failure.TRUNCATED, 0L), logs.failures());
        } finally {
            Cleanup.deleteTree(logDir);
        }
    }

    /** {@code --cgroup.roll-up=container}: a container restarted (new id, same name) is one series that never drops. */
    @Test
    void containerRollUpAcrossARestart() {
        CgroupCollector c = collector(RollUp.CONTAINER, "namespace", "pod", "container");
        bundle(C1, "cart");
        bundle(C2, "cart"); // the restart: a new container id, the same container name
        bundle(C3, "worker");
        container(13, C1, "cart");
        mkdir(16, 13, "init.scope"); // nested: counts for its container
        container(17, C3, "worker");
        bpf.set(Feature.CPU, 13, 2_000_000_000L).set(Feature.CPU, 16, 1_000_000_000L).set(Feature.CPU, 17, 4_000_000_000L);
        Map<String, String> cart = Map.of("cgroup", POD, "namespace", "shop", "pod", "cart-7d9f-x2k9l", "container", "cart");
        assertEquals(3.0, value(c.collect(), CPU, cart));
        index.deleted(16, 13, "init.scope".getBytes(StandardCharsets.UTF_8), Source.EVENT);
        index.deleted(13, 12, ("cri-containerd-" + C1 + ".scope").getBytes(StandardCharsets.UTF_8), Source.EVENT);
        container(18, C2, "cart");
        bpf.set(Feature.CPU, 18, 500_000_000L);
        List<Collector.MetricFamilySamples> m = c.collect();
        assertEquals(3.5, value(m, CPU, cart), "both lives of the container");
        assertEquals(4.0, value(m, CPU, Map.of("cgroup", POD, "namespace", "shop", "pod", "cart-7d9f-x2k9l",
                "container", "worker")));
        Map<String, String> info = samples(m, INFO).stream().filter(s -> "cart".equals(s.get("container")))
                .findFirst().orElseThrow();
        assertEquals("", info.get("container_id"), "a series across restarts names no one container id");
        ticker.advance(RETENTION.plusSeconds(1));
        index.maintain(); // the first life's retention ends: folded, its map entries deleted
        bpf.set(Feature.CPU, 18, 600_000_000L);
        m = c.collect();
        assertEquals(3.6, value(m, CPU, cart), 1e-9);
        assertTrue(bpf.deleted.containsAll(List.of(13L, 16L)), "folded ids deleted: " + bpf.deleted);
        assertEquals(3.6, value(c.collect(), CPU, cart), 1e-9, "and stays");
    }

    /** {@code --cgroup.roll-up=pod}: every cgroup of the pod, its sandbox and a restarted container included. */
    @Test
    void podRollUp() {
        CgroupCollector c = collector(RollUp.POD, "namespace", "pod", "container");
        bundle(SB, null);
        bundle(C1, "cart");
        bundle(C2, "cart");
        container(14, SB, null);
        container(13, C1, "cart");
        bpf.set(Feature.SWITCHES, 14, 1).set(Feature.SWITCHES, 13, 10).set(Feature.SWITCHES, 21, 100);
        Map<String, String> pod = Map.of("cgroup", POD, "namespace", "shop", "pod", "cart-7d9f-x2k9l");
        assertEquals(11.0, value(c.collect(), SWITCHES, pod));
        index.deleted(13, 12, ("cri-containerd-" + C1 + ".scope").getBytes(StandardCharsets.UTF_8), Source.EVENT);
        container(18, C2, "cart");
        bpf.set(Feature.SWITCHES, 18, 4);
        List<Collector.MetricFamilySamples> m = c.collect();
        assertEquals(15.0, value(m, SWITCHES, pod));
        assertEquals(100.0, value(m, SWITCHES, Map.of("cgroup", "system.slice/nginx.service")), "the rest as it was");
        Map<String, String> info = only(samples(m, INFO), POD);
        assertEquals("pod", info.get("kind"));
        assertEquals(UID, info.get("pod_uid"));
        assertEquals("", info.get("container"));
    }

    /** {@code --cgroup.max-depth} above a pod: the series is that ancestor's, without a pod's labels. */
    @Test
    void maxDepthAboveTheWorkload() {
        bundle(C1, "cart");
        container(13, C1, "cart");
        bpf.set(Feature.SWITCHES, 13, 3);
        SeriesKeys keys = new SeriesKeys(WorkloadResolver.of(List.of(runtime)), new CgroupLabels(2, null, null),
                List.of("namespace", "pod", "container"), RollUp.NONE);
        List<Collector.MetricFamilySamples> m = new CgroupCollector(index, bpf, keys, RunqBuckets.of("pow4"), RETENTION,
                nanos::get).collect();
        assertEquals(List.of(Map.of("cgroup", "kubepods.slice/kubepods-burstable.slice", "value", "3.0")),
                samples(m, SWITCHES));
        assertEquals("burstable", only(samples(m, INFO), "kubepods.slice/kubepods-burstable.slice").get("qos_class"));
    }

    private static Double value(List<Collector.MetricFamilySamples> m, String name, Map<String, String> labels) {
        List<String> pairs = new ArrayList<>();
        labels.forEach((k, v) -> {
            pairs.add(k);
            pairs.add(v);
        });
        return MetricsText.value(m, name, pairs.toArray(String[]::new));
    }
}
