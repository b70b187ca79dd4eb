package io.cgscope.deploy;

import io.cgscope.BuildInfo;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The deployment files are checked by the tools that will read them: systemd and the Kubernetes schemas. */
class DeploymentFilesTest {
    private static final Path DEPLOY = Path.of("deploy").toAbsolutePath();
    private static final Path LAUNCHER = Path.of("src/main/dist/cgscope").toAbsolutePath();
    private static final Path JVM_OPTIONS = Path.of("src/main/dist/jvm.options").toAbsolutePath();
    private static final Path IMAGE_SH = Path.of("scripts/image.sh").toAbsolutePath();
    private static final String IMAGE_REPOSITORY = "ghcr.io/cgscope/cgscope";

    private static String run(Path dir, long timeoutSeconds, String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
        p.getOutputStream().close();
        if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError(String.join(" ", command) + " did not finish in " + timeoutSeconds + " s");
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), String.join(" ", command) + " said:\n" + out);
        return out;
    }

    /**
     * systemd-analyze checks the unit in a root of its own: the units it depends on (copied from this
     * machine), the launcher where the unit runs it, and the unit itself.
     */
    @Test
    void systemdUnitVerifies(@TempDir Path root) throws Exception {
        Path units = Files.createDirectories(root.resolve("usr/lib/systemd"));
        run(DEPLOY, 60, "cp", "-a", "/usr/lib/systemd/system", units.toString());
        Files.copy(LAUNCHER, Files.createDirectories(root.resolve("opt/cgscope")).resolve("cgscope"));
        Path unitFile = Files.createDirectories(root.resolve("etc/systemd/system")).resolve("cgscope.service");
        Files.copy(DEPLOY.resolve("systemd/cgscope.service"), unitFile);
        String out = run(DEPLOY, 60, "systemd-analyze", "verify", "--root=" + root, "/etc/systemd/system/cgscope.service");
        assertEquals("", out.strip(), "systemd-analyze verify reports nothing");
        String unit = Files.readString(unitFile);
        for (String must : List.of("ProtectSystem=strict", "NoNewPrivileges=yes",
                "ExecStart=/opt/cgscope/cgscope --web.listen-address=:9486 --run-as=nobody",
                "CapabilityBoundingSet=CAP_SYS_ADMIN CAP_BPF CAP_PERFMON CAP_DAC_READ_SEARCH CAP_SETUID CAP_SETGID",
                "MemoryMax=")) {
            assertTrue(unit.contains(must), "the unit has " + must);
        }
        assertFalse(unit.contains("-XX:"), "the JVM flags live in jvm.options, which the launcher passes");
    }

    @Test
    void jvmFlagsLiveInJvmOptions() throws Exception {
        List<String> flags = JvmOptions.read(JVM_OPTIONS);
        assertTrue(flags.contains("-XX:+UseShenandoahGC"), flags.toString());
        assertTrue(flags.contains("-XX:+ExitOnOutOfMemoryError"), flags.toString());
        assertTrue(Files.readString(LAUNCHER).contains("@$dir/jvm.options"), "the launcher passes the file to java");
    }

    /**
     * The DaemonSet runs the image that image.sh builds, by its entrypoint (which carries the JVM
     * flags), with the same cgscope flags as the image's default command.
     */
    @Test
    void daemonSetRunsTheImageByItsEntrypoint() throws Exception {
        Map<String, Object> container = daemonSetContainer();
        assertEquals(IMAGE_REPOSITORY + ":" + BuildInfo.load().version(), container.get("image"),
                "the image image.sh builds, under the name a release pushes");
        assertFalse(container.containsKey("command"), "the image's entrypoint runs java with the JVM flags");
        assertEquals(imageCommand(), container.get("args"), "the same flags as the image's default command");
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> daemonSetContainer() throws IOException {
        Map<String, Object> ds = new Yaml().load(Files.readString(DEPLOY.resolve("kubernetes/daemonset.yaml")));
        Map<String, Object> spec = (Map<String, Object>) ((Map<String, Object>) ((Map<String, Object>) ds.get("spec"))
                .get("template")).get("spec");
        return ((List<Map<String, Object>>) spec.get("containers")).getFirst();
    }

    /** The {@code cmd=(...)} line of image.sh: the image's default command. */
    private static List<String> imageCommand() throws IOException {
        for (String line : Files.readAllLines(IMAGE_SH)) {
            if (line.startsWith("cmd=(") && line.endsWith(")")) {
                return List.of(line.substring(5, line.length() - 1).split(" "));
            }
        }
        throw new AssertionError("image.sh has no cmd=(...) line");
    }

    @SuppressWarnings("unchecked")
    private static <T> T at(Object node, Object... path) {
        Object o = node;
        for (Object step : path) {
            o = step instanceof Integer i ? ((List<Object>) o).get(i) : ((Map<String, Object>) o).get(step);
        }
        return (T) o;
    }

    private static Map<String, Object> yaml(Path file) throws IOException {
        return new Yaml(new SafeConstructor(new LoaderOptions())).load(Files.readString(file));
    }

    /**
     * The DaemonSet mounts the runtimes' bundle directories read-only, and exactly those:
     * {@code --workload.runtime-dirs} names the mount points, each a hostPath of the runtime's
     * directory (not its parent, whose sockets a read-only mount would still let cgscope connect to).
     */
    @Test
    void theDaemonSetReadsTheRuntimesBundlesReadOnly() throws Exception {
        Map<String, Object> ds = yaml(DEPLOY.resolve("kubernetes/daemonset.yaml"));
        Map<String, Object> pod = at(ds, "spec", "template", "spec");
        Map<String, Object> container = at(pod, "containers", 0);
        List<String> args = at(container, "args");
        String flag = args.stream().filter(a -> a.startsWith("--workload.runtime-dirs=")).findFirst()
                .orElseThrow(() -> new AssertionError("no --workload.runtime-dirs in " + args));
        List<String> dirs = List.of(flag.substring(flag.indexOf('=') + 1).split(","));
        Map<String, String> hostPaths = new HashMap<>();
        List<Map<String, Object>> volumes = at(pod, "volumes");
        for (Map<String, Object> v : volumes) {
            if (v.get("hostPath") != null) {
                hostPaths.put((String) v.get("name"), at(v, "hostPath", "path"));
            }
        }
        Map<String, String> expected = Map.of(
                "/host/run/containerd/io.containerd.runtime.v2.task", "/run/containerd/io.containerd.runtime.v2.task",
                "/host/run/containers/storage/overlay-containers", "/run/containers/storage/overlay-containers");
        assertEquals(expected.keySet(), Set.copyOf(dirs), "the flag names the bundle mounts");
        List<Map<String, Object>> mounts = at(container, "volumeMounts");
        for (Map<String, Object> m : mounts) {
            String mountPath = (String) m.get("mountPath");
            if (expected.containsKey(mountPath)) {
                assertEquals(Boolean.TRUE, m.get("readOnly"), mountPath + " is read-only");
                assertEquals(expected.get(mountPath), hostPaths.get((String) m.get("name")), mountPath + "'s hostPath");
            }
            String host = hostPaths.get((String) m.get("name"));
            assertTrue(host == null || !Set.of("/run", "/run/containerd", "/run/containers", "/var/run").contains(host),
                    "no runtime socket directory is mounted: " + host);
        }
        assertTrue(args.contains("--run-as=65534"), "still drops privileges");
    }

    /**
     * The DaemonSet mounts kubelet's two log directories read-only, and only those (not /var/log,
     * which holds other programs' logs): {@code --workload.pod-logs-dir} and
     * {@code --workload.container-logs-dir} name the mount points.
     */
    @Test
    void theDaemonSetReadsKubeletsLogDirectoriesReadOnly() throws Exception {
        Map<String, Object> ds = yaml(DEPLOY.resolve("kubernetes/daemonset.yaml"));
        Map<String, Object> pod = at(ds, "spec", "template", "spec");
        Map<String, Object> container = at(pod, "containers", 0);
        List<String> args = at(container, "args");
        Map<String, String> flags = new HashMap<>();
        for (String a : args) {
            if (a.startsWith("--workload.pod-logs-dir=") || a.startsWith("--workload.container-logs-dir=")) {
                flags.put(a.substring(2, a.indexOf('=')), a.substring(a.indexOf('=') + 1));
            }
        }
        assertEquals(Map.of("workload.pod-logs-dir", "/host/var/log/pods",
                "workload.container-logs-dir", "/host/var/log/containers"), flags);
        Map<String, String> hostPaths = new HashMap<>();
        List<Map<String, Object>> volumes = at(pod, "volumes");
        for (Map<String, Object> v : volumes) {
            if (v.get("hostPath") != null) {
                hostPaths.put((String) v.get("name"), at(v, "hostPath", "path"));
            }
        }
        Map<String, String> mounted = new HashMap<>();
        List<Map<String, Object>> mounts = at(container, "volumeMounts");
        for (Map<String, Object> m : mounts) {
            String host = hostPaths.get((String) m.get("name"));
            if (host != null && host.startsWith("/var/log")) {
                assertEquals(Boolean.TRUE, m.get("readOnly"), m + " is read-only");
                mounted.put((String) m.get("mountPath"), host);
            }
        }
        assertEquals(Map.of("/host/var/log/pods", "/var/log/pods", "/host/var/log/containers", "/var/log/containers"),
                mounted, "exactly kubelet's two directories, where the flags say");
    }

    /**
     * Prometheus keeps cgscope's namespace, pod and container labels (they name the workload, not
     * cgscope's pod): honorLabels in the ServiceMonitor, whose own namespace/pod/container target
     * labels are dropped, and honor_labels in every job of the scrape config.
     */
    @Test
    void prometheusHonoursTheWorkloadLabels() throws Exception {
        Map<String, Object> sm = yaml(DEPLOY.resolve("kubernetes/servicemonitor.yaml"));
        List<Map<String, Object>> endpoints = at(sm, "spec", "endpoints");
        for (Map<String, Object> ep : endpoints) {
            assertEquals(Boolean.TRUE, ep.get("honorLabels"), "honorLabels: " + ep);
            List<Map<String, Object>> relabel = at(ep, "relabelings");
            assertTrue(relabel.stream().anyMatch(r -> "labeldrop".equals(r.get("action"))
                            && java.util.regex.Pattern.compile(String.valueOf(r.get("regex"))).matcher("pod").matches()
                            && java.util.regex.Pattern.compile(String.valueOf(r.get("regex"))).matcher("namespace").matches()),
                    "the operator's namespace and pod target labels are dropped: " + relabel);
        }
        Path config = DEPLOY.resolve("prometheus/scrape-config.yml");
        List<Map<String, Object>> jobs = at(yaml(config), "scrape_configs");
        for (Map<String, Object> job : jobs) {
            assertEquals(Boolean.TRUE, job.get("honor_labels"), "honor_labels in " + job.get("job_name"));
        }
        // Not promtool check config: Debian builds Prometheus without Kubernetes discovery
        // ("field kubernetes_sd_configs not found in type config.ScrapeConfig").
    }

    @Test
    void kubernetesManifestsMatchTheSchemas() throws Exception {
        Path validator = DEPLOY.resolve("validate");
        run(validator, 300, "npm", "ci", "--no-audit", "--no-fund", "--loglevel=error");
        String out = run(validator, 60, "node", "validate.mjs");
        assertTrue(out.contains("3 valid, 0 invalid"), out);
    }
}
