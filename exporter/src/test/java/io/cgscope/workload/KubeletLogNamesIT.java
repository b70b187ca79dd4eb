package io.cgscope.workload;

import io.cgscope.testing.AgentProcess;
import io.cgscope.testing.Await;
import io.cgscope.testing.Cleanup;
import io.cgscope.testing.Exposition;
import io.cgscope.testing.KernelTest;
import io.cgscope.testing.KernelTest.Requirement;
import io.cgscope.testing.KubeletLogTree;
import io.cgscope.testing.TestCgroups;
import io.cgscope.testing.ThreadCredentials;
import io.cgscope.testing.WorkloadTree;
import io.cgscope.testing.WorkloadTree.Made;
import io.cgscope.testing.WorkloadTree.SystemdPod;
import io.cgscope.testing.Workloads;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static io.cgscope.testing.WorkloadTree.containerId;
import static io.cgscope.testing.WorkloadTree.podUid;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The packaged cgscope started by root with {@code --run-as=nobody}, over real cgroups of a pod in
 * kubelet's systemd-driver layout, containerd's bundles with containerd's modes (the bundle
 * directory 0700, root's) and kubelet's log directories (world-readable) in a test's directory:
 * a container created after the drop, whose bundle cgscope can no longer read, is named by kubelet's
 * log files. Its symlink comes after its cgroup and its first CPU, as kubelet makes it after
 * StartContainer: a scrape in between does not export the container yet (held), the next has its
 * names. The containers running before the drop keep their bundles' names (and images).
 */
@KernelTest({Requirement.ROOT, Requirement.CGROUP2, Requirement.BPF})
class KubeletLogNamesIT {
    private static final String CPU = "cgscope_cgroup_cpu_seconds_total";
    private static final int NOBODY = 65534;
    private static final String POD = "cart-7d9f5b6c4-x2k9l";

    @Test
    void aContainerStartedAfterTheDropIsNamedByKubeletsLogFiles() throws Exception {
        Cleanup cleanup = new Cleanup();
        Path dir = Files.createTempDirectory("cgscope-kubelet-logs-it-");
        cleanup.push(() -> Cleanup.deleteTree(dir));
        try {
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x")); // as /run and /var/log
            TestCgroups cgroups = new TestCgroups();
            cleanup.push(cgroups);
            WorkloadTree tree = new WorkloadTree(cgroups, dir.resolve("runtime"));
            KubeletLogTree kubelet = new KubeletLogTree(dir.resolve("log"));
            String uid = podUid("shop/cart");

            // before cgscope starts, in kubelet's order: the pod's log directory, the sandbox, a container
            kubelet.pod("shop", POD, uid);
            SystemdPod shop = tree.systemdPod("burstable", uid, "shop", POD);
            String sandboxId = containerId("shop-sandbox");
            Made sandbox = shop.sandbox(sandboxId);
            String cartId = containerId("shop-cart");
            kubelet.containerDir("shop", POD, uid, "cart");
            Made cart = shop.containerd(cartId, sandboxId, "cart", "registry.example.org/shop/cart:3");
            kubelet.started("shop", POD, uid, "cart", 0, cartId);

            List<String> flags = new ArrayList<>(List.of("--run-as=nobody", tree.runtimeDirsFlag()));
            flags.addAll(List.of(kubelet.flags()));
            AgentProcess agent = AgentProcess.start(flags.toArray(String[]::new));
            cleanup.push(agent);
            Await.until(Duration.ofSeconds(20), () -> ThreadCredentials.notDroppedTo(agent.pid(), NOBODY).isEmpty(),
                    () -> "not dropped to nobody: " + ThreadCredentials.notDroppedTo(agent.pid(), NOBODY));
            Workloads.run(sandbox.dir(), "sleep 0.1"); // their tasks run (and switch), so they have series
            Workloads.run(cart.dir(), "sleep 0.1");

            // the container's first process, ready before its cgroup exists (as runc's init is), so that
            // it runs in the container's cgroup from the moment the cgroup is made, however loaded the machine
            Path staging = cgroups.create("staging");
            Process busy = Workloads.spin(staging, -1);
            cleanup.push(busy::destroyForcibly);
            Await.until(Duration.ofSeconds(30), () -> procs(staging).contains(Long.toString(busy.pid())),
                    () -> "the process did not join " + staging);

            // after the drop: kubelet makes the container's log directory, containerd its bundle (0700,
            // root's), then its cgroup, and its process runs in it
            String workerId = containerId("shop-worker");
            kubelet.containerDir("shop", POD, uid, "worker");
            long made = System.nanoTime();
            Made worker = shop.containerd(workerId, sandboxId, "worker", "registry.example.org/shop/worker:3");
            TestCgroups.move(busy.pid(), worker.dir());
            Path bundleDir = dir.resolve("runtime/containerd/k8s.io").resolve(workerId);
            assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(bundleDir)));
            assertEquals(0, (int) Files.getAttribute(bundleDir, "unix:uid"), "root's");

            // scrapes before kubelet links its log file: the container is held, never exported unnamed
            List<Exposition.Sample> held = new ArrayList<>();
            Await.until(Duration.ofSeconds(30), () -> {
                List<Exposition.Sample> s = scrape(agent);
                assertEquals(Optional.empty(), sample(s, CPU, worker.path()), "exported before its names came");
                if (value(s, "cgscope_cgroup_held_ids") >= 1) {
                    held.addAll(s);
                }
                return !held.isEmpty();
            }, () -> "no scrape held the new container; log:\n" + agent.log());
            System.out.printf("held %d ms after its cgroup was made%n",
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - made));

            kubelet.started("shop", POD, uid, "worker", 0, workerId); // kubelet, after StartContainer returned
            Exposition.Sample[] found = new Exposition.Sample[1];
            Await.until(Duration.ofSeconds(30), () -> {
                found[0] = sample(scrape(agent), CPU, worker.path()).orElse(null);
                return found[0] != null;
            }, () -> "no CPU series of the container started after the drop; log:\n" + agent.log());
            assertEquals(Map.of("cgroup", worker.path(), "namespace", "shop", "pod", POD, "container", "worker"),
                    found[0].labels(), "named by kubelet's log files from its first export on");

            Await.until(Duration.ofSeconds(30), () -> sample(scrape(agent), "cgscope_cgroup_info", cart.path()).isPresent()
                    && sample(scrape(agent), "cgscope_cgroup_info", sandbox.path()).isPresent(),
                    () -> "no series of the containers started before cgscope");
            List<Exposition.Sample> samples = scrape(agent);
            Map<String, String> info = sample(samples, "cgscope_cgroup_info", worker.path()).orElseThrow().labels();
            assertEquals(List.of("container", "shop", POD, "worker", uid, workerId, "containerd", ""),
                    List.of(info.get("kind"), info.get("namespace"), info.get("pod"), info.get("container"),
                            info.get("pod_uid"), info.get("container_id"), info.get("runtime"), info.get("image")),
                    "the path's and the log files' names; no image without the bundle");
            Map<String, String> cartInfo = sample(samples, "cgscope_cgroup_info", cart.path()).orElseThrow().labels();
            assertEquals(List.of("cart", "registry.example.org/shop/cart:3"),
                    List.of(cartInfo.get("container"), cartInfo.get("image")), "read from its bundle before the drop");
            assertEquals("sandbox", sample(samples, "cgscope_cgroup_info", sandbox.path()).orElseThrow().labels()
                    .get("kind"));
            assertTrue(value(samples, "cgscope_workload_bundle_errors_total{reason=\"unreadable\"}") >= 1,
                    "the new container's bundle could not be read as nobody");
            assertEquals(0.0, value(samples, "cgscope_workload_log_name_errors_total"), "no log name missing");
            assertTrue(value(samples, "cgscope_workload_log_listings_total") >= 2);

            JsonObject w = new JsonObject(agent.get("/cgroup/" + worker.id()).body()).getJsonObject("workload");
            assertEquals("worker", w.getString("container"), w.encode());
            assertEquals(List.of(), ThreadCredentials.notDroppedTo(agent.pid(), NOBODY), "still nobody on every thread");
            assertEquals(0.0, value(samples, "cgscope_scrape_errors_total"));
        } finally {
            cleanup.close();
        }
    }

    private static String procs(Path cgroup) {
        try {
            return Files.readString(cgroup.resolve("cgroup.procs"));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static List<Exposition.Sample> scrape(AgentProcess agent) {
        try {
            return Exposition.parse(agent.get("/metrics").body());
        } catch (Exception e) {
            throw new AssertionError("GET /metrics: " + e, e);
        }
    }

    private static Optional<Exposition.Sample> sample(List<Exposition.Sample> samples, String name, String cgroup) {
        return samples.stream().filter(s -> s.name().equals(name) && cgroup.equals(s.label("cgroup"))).findFirst();
    }

    /** A sample's value, {@code name} or {@code name{label="value"}}; the sum over all when several match. */
    private static double value(List<Exposition.Sample> samples, String selector) {
        int brace = selector.indexOf('{');
        String name = brace < 0 ? selector : selector.substring(0, brace);
        Map<String, String> want = brace < 0 ? Map.of() : Stream.of(selector.substring(brace + 1, selector.length() - 1)
                .split(",")).map(kv -> kv.split("=", 2))
                .collect(Collectors.toMap(kv -> kv[0], kv -> kv[1].substring(1, kv[1].length() - 1)));
        return samples.stream().filter(s -> s.name().equals(name)
                        && want.entrySet().stream().allMatch(e -> e.getValue().equals(s.label(e.getKey()))))
                .mapToDouble(Exposition.Sample::value).sum();
    }
}
