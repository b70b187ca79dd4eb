package io.cgscope.workload;

import io.cgscope.dashboards.ServerProcess;
import io.cgscope.testing.Await;
import io.cgscope.testing.Cleanup;
import io.cgscope.testing.Exposition;
import io.cgscope.testing.KernelTest;
import io.cgscope.testing.KernelTest.Requirement;
import io.cgscope.testing.TestCgroups;
import io.cgscope.testing.WorkloadTree;
import io.cgscope.testing.WorkloadTree.Made;
import io.cgscope.testing.WorkloadTree.SystemdPod;
import io.cgscope.testing.Workloads;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

import static io.cgscope.testing.WorkloadTree.containerId;
import static io.cgscope.testing.WorkloadTree.podUid;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Workloads end to end: the packaged cgscope over real cgroups in every layout kubelet (both
 * drivers), containerd, CRI-O, docker, podman and systemd make, with bundles written as containerd
 * and CRI-O write them (some before cgscope starts, some after), real CPU in two containers of a
 * pod, and a real Prometheus scraping it: {@code cgscope_cgroup_info} names each one, the CPU
 * series carry the workload labels, Prometheus' {@code sum by (pod)} equals the pod's containers'
 * series and the kernel's own count for the pod ({@code cpu.stat} of the pod's slice, hierarchical),
 * and the API's filters and {@code /pods} find them.
 */
@KernelTest({Requirement.ROOT, Requirement.CGROUP2, Requirement.BPF})
class WorkloadIT {
    private static final Duration LONG = Duration.ofSeconds(90);
    private static final String CPU = "cgscope_cgroup_cpu_seconds_total";

    @Test
    void everyLayoutNamedAndPodsSummedInPrometheus() throws Exception {
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/prometheus")), "needs Debian's prometheus package");
        Cleanup cleanup = new Cleanup();
        Path dir = Files.createTempDirectory("cgscope-workload-it-");
        cleanup.push(() -> Cleanup.deleteTree(dir));
        try {
            TestCgroups cgroups = new TestCgroups();
            cleanup.push(cgroups);
            WorkloadTree tree = new WorkloadTree(cgroups, dir.resolve("runtime"));

            // before cgscope starts (read by its start-up pass): a Burstable pod on containerd
            String uidA = podUid("shop/cart");
            SystemdPod shop = tree.systemdPod("burstable", uidA, "shop", "cart-7d9f-x2k9l");
            String sandboxA = containerId("shop-sandbox");
            Made sandbox = shop.sandbox(sandboxA);
            Made cart = shop.containerd(containerId("shop-cart"), sandboxA, "cart", "registry.example.org/shop/cart:3");

            ServerProcess cgscope = ServerProcess.cgscope(dir, tree.runtimeDirsFlag());
            cleanup.push(cgscope);

            // after (read by the bundle tracker as the index learns the cgroups)
            Made worker = shop.containerd(containerId("shop-worker"), sandboxA, "worker",
                    "registry.example.org/shop/worker:3");
            String uidB = podUid("edge/proxy-0");
            SystemdPod edge = tree.systemdPod("guaranteed", uidB, "edge", "proxy-0");
            Made envoy = edge.crio(containerId("edge-envoy"), containerId("edge-sandbox"), "envoy",
                    "docker.io/envoyproxy/envoy:v1.31");
            String uidC = podUid("batch/report");
            Made report = tree.cgroupfsContainer("besteffort", uidC, "batch", "report-28391-q7d2k",
                    containerId("batch-report"), "report", "registry.example.org/report:1");
            Made dockerUnit = tree.plain("system.slice/docker-" + containerId("docker-1") + ".scope");
            Made dockerFs = tree.plain("docker/" + containerId("docker-2"));
            Made podmanRoot = tree.plain("machine.slice/libpod-" + containerId("podman-1") + ".scope");
            Made conmon = tree.plain("machine.slice/libpod-conmon-" + containerId("podman-1") + ".scope");
            Made podmanUser = tree.plain("user.slice/user-1000.slice/user@1000.service/user.slice/libpod-"
                    + containerId("podman-2") + ".scope");
            Made podmanFs = tree.plain("libpod_parent/libpod-" + containerId("podman-3"));
            Made appFoo = tree.plain("user.slice/user-1000.slice/user@1000.service/app.slice/app-foo.scope");
            Made session = tree.plain("user.slice/user-1000.slice/session-3.scope");
            Made nested = tree.plain(envoy.path().substring(cgroups.parentPath().length() + 1) + "/container");
            // every one runs a process, so each has series
            for (Made m : List.of(sandbox, envoy, report, dockerUnit, dockerFs, podmanRoot, conmon, podmanUser, podmanFs,
                    appFoo, session, nested)) {
                Workloads.run(m.dir(), "exec true");
            }
            // real CPU in the shop pod's two containers
            Process busyCart = Workloads.busyCpu(cart.dir(), 2);
            cleanup.push(busyCart::destroyForcibly);
            Process busyWorker = Workloads.busyCpu(worker.dir(), 1);
            cleanup.push(busyWorker::destroyForcibly);

            ServerProcess prometheus = ServerProcess.prometheus(dir, """
                    global:
                      scrape_interval: 1s
                      scrape_timeout: 1s
                    scrape_configs:
                      - job_name: cgscope
                        honor_labels: true
                        static_configs:
                          - targets: ["%s"]
                    """.formatted(cgscope.address()));
            cleanup.push(prometheus);
            Workloads.await(busyCart, LONG);
            Workloads.await(busyWorker, LONG);

            // cgscope_cgroup_info names every layout
            List<Exposition.Sample> samples = Exposition.parse(cgscope.get("/metrics").body());
            Map<String, Map<String, String>> info = new LinkedHashMap<>();
            for (Exposition.Sample s : samples) {
                if (s.name().equals("cgscope_cgroup_info")) {
                    info.put(s.label("cgroup"), s.labels());
                }
            }
            expect(info, cart, "container", "shop", "cart-7d9f-x2k9l", "cart", uidA, "burstable", "containerd",
                    "registry.example.org/shop/cart:3");
            expect(info, worker, "container", "shop", "cart-7d9f-x2k9l", "worker", uidA, "burstable", "containerd",
                    "registry.example.org/shop/worker:3");
            expect(info, sandbox, "sandbox", "shop", "cart-7d9f-x2k9l", "POD", uidA, "burstable", "containerd", "");
            expect(info, envoy, "container", "edge", "proxy-0", "envoy", uidB, "guaranteed", "cri-o",
                    "docker.io/envoyproxy/envoy:v1.31");
            expect(info, nested, "container", "edge", "proxy-0", "envoy", uidB, "guaranteed", "cri-o",
                    "docker.io/envoyproxy/envoy:v1.31");
            expect(info, report, "container", "batch", "report-28391-q7d2k", "report", uidC, "besteffort", "containerd",
                    "registry.example.org/report:1");
            for (Made m : List.of(dockerUnit, dockerFs)) {
                expect(info, m, "container", "", "", "", "", "", "docker", "");
            }
            for (Made m : List.of(podmanRoot, podmanUser, podmanFs)) {
                expect(info, m, "container", "", "", "", "", "", "podman", "");
            }
            assertEquals("systemd-unit", info.get(conmon.path()).get("kind"), "podman's monitor is no container");
            assertEquals("app-foo.scope", info.get(appFoo.path()).get("unit"));
            assertEquals("systemd-unit", info.get(appFoo.path()).get("kind"));
            assertEquals("user-session", info.get(session.path()).get("kind"));

            // the workload labels on the per-cgroup series
            Exposition.Sample cartCpu = samples.stream().filter(s -> s.name().equals(CPU)
                    && cart.path().equals(s.label("cgroup"))).findFirst().orElseThrow();
            assertEquals(Map.of("cgroup", cart.path(), "namespace", "shop", "pod", "cart-7d9f-x2k9l", "container", "cart"),
                    cartCpu.labels());
            Exposition.Sample unitCpu = samples.stream().filter(s -> s.name().equals(CPU)
                    && appFoo.path().equals(s.label("cgroup"))).findFirst().orElseThrow();
            assertEquals(Map.of("cgroup", appFoo.path()), unitCpu.labels(), "a unit's series as before");

            // Prometheus: sum by (pod) equals the pod's containers' series, and the kernel's count for the pod
            double podTruth = Workloads.cpuStatSeconds(cgroups.parent().resolve(shop.sliceRelative()));
            double containersSum = samples.stream().filter(s -> s.name().equals(CPU)
                    && s.label("cgroup").startsWith(shop.path() + "/")).mapToDouble(Exposition.Sample::value).sum();
            String query = "sum by (pod) (" + CPU + "{namespace=\"shop\"})";
            double[] byPod = new double[1];
            Await.until(Duration.ofSeconds(30), () -> {
                JsonArray r = prometheus.results(query);
                if (r.size() != 1) {
                    return false;
                }
                byPod[0] = Double.parseDouble(r.getJsonObject(0).getJsonArray("value").getString(1));
                return Math.abs(byPod[0] - containersSum) < 1e-9;
            }, () -> query + " = " + byPod[0] + ", the containers' series sum to " + containersSum);
            assertEquals("cart-7d9f-x2k9l", prometheus.results(query).getJsonObject(0).getJsonObject("metric")
                    .getString("pod"));
            System.out.printf("sum by (pod): %.6f s, the pod's cpu.stat: %.6f s%n", byPod[0], podTruth);
            assertTrue(Math.abs(byPod[0] - podTruth) <= 0.02 * podTruth,
                    "sum by (pod) " + byPod[0] + " within 2% of the pod's cpu.stat " + podTruth);
            assertTrue(podTruth > 2.5, "both containers' CPU counted: " + podTruth);

            // the API: filters and /pods
            assertEquals(ids(sandbox, cart, worker, shop.path(), cgroups), ids(cgscope, "namespace=shop&state=live"));
            assertEquals(Set.of(cart.id()), ids(cgscope, "container=cart"));
            assertEquals(Set.of(sandbox.id()), ids(cgscope, "kind=sandbox&namespace=shop"));
            assertEquals(Set.of(envoy.id(), nested.id()), ids(cgscope, "namespace=edge&kind=container"));
            assertEquals(Set.of(appFoo.id()), ids(cgscope, "unit=app-foo.scope"));
            assertEquals(400, cgscope.get("/cgroups?namespace=Shop").statusCode());
            assertEquals(400, cgscope.get("/cgroups?kind=vm").statusCode());
            JsonArray pods = new JsonObject(cgscope.get("/pods?namespace=shop").body()).getJsonArray("pods");
            assertEquals(1, pods.size(), pods.encodePrettily());
            JsonObject pod = pods.getJsonObject(0);
            assertEquals(uidA, pod.getString("uid"));
            assertEquals(List.of("POD", "cart", "worker"), pod.getJsonArray("containers").stream()
                    .map(c -> ((JsonObject) c).getString("name")).toList());
            assertEquals(cart.id(), pod.getJsonArray("containers").getJsonObject(1).getJsonArray("cgroups")
                    .getJsonObject(0).getLong("id"));
            assertEquals("cart", new JsonObject(cgscope.get("/cgroup/" + cart.id()).body()).getJsonObject("workload")
                    .getString("container"));

            // for the README: the pod's series as exported
            String body = cgscope.get("/metrics?name%5B%5D=cgscope_cgroup_cpu_seconds_total&name%5B%5D=cgscope_cgroup_info")
                    .body();
            System.out.println("README excerpt:\n" + body.lines().filter(l -> l.contains(shop.path()))
                    .collect(Collectors.joining("\n")));
            // the docker and podman containers have no bundle in these runtime directories: missing, 5
            assertEquals(Map.of("missing", 5.0, "unreadable", 0.0, "malformed", 0.0), errors(samples));
            assertEquals(0, cgscope.stop(), "cgscope stops cleanly; its log:\n" + cgscope.log());
        } finally {
            cleanup.close();
        }
    }

    private static void expect(Map<String, Map<String, String>> info, Made m, String kind, String namespace,
                               String pod, String container, String podUid, String qos, String runtime, String image) {
        Map<String, String> i = info.get(m.path());
        assertTrue(i != null, "cgscope_cgroup_info of " + m.path() + " in " + info.keySet());
        Map<String, String> got = new LinkedHashMap<>();
        for (String k : List.of("kind", "namespace", "pod", "container", "pod_uid", "qos_class", "runtime", "image")) {
            got.put(k, i.get(k));
        }
        assertEquals(Map.of("kind", kind, "namespace", namespace, "pod", pod, "container", container,
                "pod_uid", podUid, "qos_class", qos, "runtime", runtime, "image", image), got, m.path());
        assertTrue(m.path().contains(i.get("container_id")), m.path() + ": container_id " + i.get("container_id"));
    }

    private static Map<String, Double> errors(List<Exposition.Sample> samples) {
        return samples.stream().filter(s -> s.name().equals("cgscope_workload_bundle_errors_total"))
                .collect(Collectors.toMap(s -> s.label("reason"), Exposition.Sample::value));
    }

    private static Set<Long> ids(Made a, Made b, Made c, String podPath, TestCgroups cgroups) {
        Set<Long> out = new TreeSet<>(List.of(a.id(), b.id(), c.id()));
        out.add(TestCgroups.id(cgroups.mount().resolve(podPath)));
        return out;
    }

    private static Set<Long> ids(ServerProcess cgscope, String query) throws Exception {
        var r = cgscope.get("/cgroups?" + query);
        assertEquals(200, r.statusCode(), query + ": " + r.body());
        JsonArray a = new JsonObject(r.body()).getJsonArray("cgroups");
        List<Long> out = new ArrayList<>();
        for (int i = 0; i < a.size(); i++) {
            out.add(a.getJsonObject(i).getLong("id"));
        }
        return new TreeSet<>(out);
    }
}
