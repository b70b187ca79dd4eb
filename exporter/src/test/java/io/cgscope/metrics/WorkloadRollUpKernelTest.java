package io.cgscope.metrics;

import io.cgscope.bpf.BpfCompanion;
import io.cgscope.bpf.Feature;
import io.cgscope.cgroupfs.CgroupFs;
import io.cgscope.cgroupfs.KernelLookup;
import io.cgscope.config.Config.RollUp;
import io.cgscope.fanotify.CgroupWatcher;
import io.cgscope.index.CgroupIndex;
import io.cgscope.index.FakeTicker;
import io.cgscope.testing.Await;
import io.cgscope.testing.Cleanup;
import io.cgscope.testing.KernelTest;
import io.cgscope.testing.TestCgroups;
import io.cgscope.testing.WorkloadTree;
import io.cgscope.testing.WorkloadTree.Made;
import io.cgscope.testing.WorkloadTree.SystemdPod;
import io.cgscope.testing.Workloads;
import io.cgscope.workload.WorkloadResolver;
import io.prometheus.client.Collector;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;

import static io.cgscope.testing.WorkloadTree.containerId;
import static io.cgscope.testing.WorkloadTree.podUid;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The roll-ups against the kernel: real cgroups of a pod (kubelet's systemd driver, containerd's
 * bundles), real CPU, real BPF, the real index; a container removed and created again (a restart:
 * a new id, the same name). The container's series and the pod's each hold both lives, never
 * decrease, and keep them once the first life's retention ended and it was folded.
 */
@KernelTest({KernelTest.Requirement.ROOT, KernelTest.Requirement.CGROUP2, KernelTest.Requirement.BPF})
class WorkloadRollUpKernelTest {
    private static final Duration RETENTION = Duration.ofMinutes(15);
    private static final Duration LONG = Duration.ofSeconds(60);
    private static final String CPU = "cgscope_cgroup_cpu_seconds_total";

    @Test
    void containerAndPodSeriesHoldBothLivesOfARestartedContainer() throws Exception {
        Cleanup cleanup = new Cleanup();
        try {
            // one BPF companion per collector: a collector deletes the map entries of the ids it folds
            BpfCompanion bpfContainer = new BpfCompanion(EnumSet.of(Feature.CPU), 16384, 99);
            cleanup.push(bpfContainer);
            BpfCompanion bpfPod = new BpfCompanion(EnumSet.of(Feature.CPU), 16384, 99);
            cleanup.push(bpfPod);
            for (BpfCompanion bpf : List.of(bpfContainer, bpfPod)) {
                bpf.start();
                assertTrue(bpf.status().get(Feature.CPU).up(), bpf.status().toString());
            }
            CgroupFs fs = CgroupFs.open(null);
            cleanup.push(fs);
            TestCgroups cgroups = new TestCgroups();
            cleanup.push(cgroups);
            Path runtime = Files.createTempDirectory("cgscope-rollup-");
            cleanup.push(() -> Cleanup.deleteTree(runtime));
            FakeTicker ticker = new FakeTicker();
            CgroupIndex index = new CgroupIndex(RETENTION, ticker, Clock.systemUTC());
            index.setResolver(new KernelLookup(fs));
            CgroupWatcher watcher = new CgroupWatcher(fs, index, true);
            cleanup.push(watcher);
            watcher.start();

            WorkloadTree tree = new WorkloadTree(cgroups, runtime);
            SystemdPod shop = tree.systemdPod("burstable", podUid("rollup/shop"), "shop", "cart-5c8d-p4x7z");
            String sandbox = containerId("rollup-sandbox");
            WorkloadResolver workloads = WorkloadResolver.of(List.of(runtime.resolve("containerd")));
            CgroupCollector byContainer = collector(index, bpfContainer, workloads, RollUp.CONTAINER);
            CgroupCollector byPod = collector(index, bpfPod, workloads, RollUp.POD);
            List<Double> containerScrapes = new ArrayList<>();
            List<Double> podScrapes = new ArrayList<>();
            Runnable scrape = () -> {
                containerScrapes.add(value(byContainer.collect(), shop.path(), "cart"));
                podScrapes.add(value(byPod.collect(), shop.path(), null));
            };

            Made first = shop.containerd(containerId("rollup-cart-1"), sandbox, "cart", "registry.example.org/cart:3");
            awaitIndexed(index, first);
            Workloads.await(Workloads.busy(first.dir(), Duration.ofMillis(300)), LONG);
            double life1 = Workloads.cpuStatSeconds(first.dir());
            long firstId = first.id();
            scrape.run();
            TestCgroups.remove(first.dir()); // the container stops: its cgroup goes, retained by the index
            Await.until(Duration.ofSeconds(10), () -> index.byId(firstId).map(c -> !c.isLive()).orElse(false),
                    () -> "the index saw the removal");
            scrape.run();
            Made second = shop.containerd(containerId("rollup-cart-2"), sandbox, "cart", "registry.example.org/cart:3");
            awaitIndexed(index, second);
            Workloads.await(Workloads.busy(second.dir(), Duration.ofMillis(300)), LONG);
            double life2 = Workloads.cpuStatSeconds(second.dir());
            scrape.run();
            ticker.advance(RETENTION.plusSeconds(1)); // the first life's retention ends: folded
            Await.until(Duration.ofSeconds(10), () -> index.byId(firstId).isEmpty(), () -> "retention never ended");
            scrape.run();
            scrape.run();

            for (List<Double> s : List.of(containerScrapes, podScrapes)) {
                for (int i = 1; i < s.size(); i++) {
                    assertTrue(s.get(i) >= s.get(i - 1), "never decreases: " + s);
                }
                double last = s.getLast();
                System.out.printf("both lives %.6f s (cpu.stat), the series %.6f s, scrapes %s%n", life1 + life2, last, s);
                assertTrue(Math.abs(last - (life1 + life2)) <= 0.02 * (life1 + life2),
                        "the series holds both lives: " + last + " vs cpu.stat " + (life1 + life2) + ", scrapes " + s);
            }
        } finally {
            cleanup.close();
        }
    }

    private static CgroupCollector collector(CgroupIndex index, BpfCompanion bpf, WorkloadResolver workloads,
                                             RollUp rollUp) {
        return new CgroupCollector(index, bpf, new SeriesKeys(workloads, new CgroupLabels(0, null, null),
                List.of("namespace", "pod", "container"), rollUp), RunqBuckets.of("pow4"), RETENTION, System::nanoTime);
    }

    private static void awaitIndexed(CgroupIndex index, Made m) {
        Await.until(Duration.ofSeconds(10), () -> m.path().equals(index.pathOf(m.id())), () -> "index named " + m.path());
    }

    /** The CPU series of the pod's cgroup (with this container label, or none), 0 when absent. */
    private static double value(List<Collector.MetricFamilySamples> m, String podPath, String container) {
        for (Collector.MetricFamilySamples f : m) {
            for (Collector.MetricFamilySamples.Sample s : f.samples) {
                if (s.name.equals(CPU) && podPath.equals(s.labelValues.get(0))) {
                    int at = s.labelNames.indexOf("container");
                    String c = at < 0 ? null : s.labelValues.get(at);
                    if (java.util.Objects.equals(c, container)) {
                        assertNotNull(s.labelValues);
                        return s.value;
                    }
                }
            }
        }
        return 0;
    }
}
