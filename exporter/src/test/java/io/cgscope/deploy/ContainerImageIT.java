package io.cgscope.deploy;

import io.cgscope.BuildInfo;
import io.cgscope.testing.GuestVm;
import io.cgscope.testing.KernelTest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeFormatterBuilder;
import java.time.temporal.ChronoField;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

import static io.cgscope.testing.KernelTest.Requirement.BPF;
import static io.cgscope.testing.KernelTest.Requirement.CGROUP2;
import static io.cgscope.testing.KernelTest.Requirement.QEMU;
import static io.cgscope.testing.KernelTest.Requirement.ROOT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The container image as {@code scripts/image.sh} builds it on this machine (README, "Container
 * image"), built once for every test here: built again from the same inputs it has the same digests,
 * its layers hold no shell, no package manager and no compiler, every file is owned by 0:0 with the
 * same mtime, its config carries the JVM flags of jvm.options, the DaemonSet's flags and the OCI
 * labels, and podman runs it in the kernel matrix's guest as the DaemonSet runs it. The first build
 * trains its AOT cache (a shorter training than a release's) and loads the image into an image store
 * of its own, as it loads a release into podman's; the second is given that cache, since no two
 * training runs give the same bytes. Measured on a 2-core host shared with other work: 129 s at load
 * 4-5 (the first build 31 s, its training 14 s; the podman run about 85 s, QEMU 81 s, of which the
 * agent's JVM start under emulation 44 s; the second build 12 s), 249-309 s at load 8-21 (the first
 * build 72-117 s, the podman run 125-138 s, the second build 16-58 s).
 */
@KernelTest({ROOT, CGROUP2, BPF})
class ContainerImageIT {
    private static final Path IMAGE_SH = Path.of("scripts/image.sh").toAbsolutePath();
    private static final Path GUEST_SCRIPT = Path.of("scripts/image-test-guest.sh").toAbsolutePath();
    private static final Path DAEMONSET = Path.of("deploy/kubernetes/daemonset.yaml").toAbsolutePath();
    private static final Path OUT = Path.of("target/image-it").toAbsolutePath();
    /** The first build: its OCI layout, archive and digests; what every test here looks at. */
    static final Path FIRST = OUT.resolve("first");
    private static final Path SECOND = OUT.resolve("second");
    /** podman's image store (containers-storage) that the first build is loaded into. */
    private static final Path STORE = OUT.resolve("store");
    private static final String VERSION = BuildInfo.load().version();
    /** The training's length in the tests: enough for a cache that maps; a release trains 200,000. */
    private static final String TRAINING_EVENTS = "20000";

    @BeforeAll
    static void buildOnce() throws Exception {
        unmountBelow(STORE);
        io.cgscope.testing.Cleanup.deleteTree(STORE);
        Files.createDirectories(STORE);
        Path storageConf = STORE.resolve("storage.conf");
        Files.writeString(storageConf, """
                [storage]
                driver = "overlay"
                graphroot = "%s"
                runroot = "%s"
                """.formatted(STORE.resolve("graph"), STORE.resolve("run")));
        long start = System.nanoTime();
        try {
            imageSh(FIRST, Map.of("CONTAINERS_STORAGE_CONF", storageConf.toString()),
                    "--training-events", TRAINING_EVENTS);
            System.out.printf("ContainerImageIT: the first build (training, loading) took %d s%n",
                    TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start));
        } finally {
            // containers/storage leaves its overlay directory bind-mounted on itself.
            unmountBelow(STORE);
        }
    }

    private static void imageSh(Path out, Map<String, String> env, String... more) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(IMAGE_SH.toString(), "--out", out.toString()));
        if (!env.containsKey("CONTAINERS_STORAGE_CONF")) {
            cmd.add("--no-load");
        }
        cmd.addAll(List.of(more));
        Path log = Files.createDirectories(OUT).resolve(out.getFileName() + ".log");
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().putAll(env);
        Process p = pb.start();
        p.getOutputStream().close();
        if (!p.waitFor(10, TimeUnit.MINUTES)) {
            p.destroy();
            throw new AssertionError("image.sh did not finish in 15 minutes; log " + log);
        }
        assertEquals(0, p.exitValue(), "image.sh " + String.join(" ", more) + " said:\n" + Files.readString(log));
    }

    /** Unmounts every mount at or below {@code dir}, deepest first. */
    private static void unmountBelow(Path dir) throws IOException, InterruptedException {
        List<String> mounts = new ArrayList<>();
        for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
            String point = line.split(" ")[4];
            if (point.equals(dir.toString()) || point.startsWith(dir + "/")) {
                mounts.add(point);
            }
        }
        mounts.sort((a, b) -> b.length() - a.length());
        for (String m : mounts) {
            run("umount", m);
        }
    }

    @Test
    void twoBuildsOfTheSameInputsGiveTheSameDigests() throws Exception {
        long start = System.nanoTime();
        imageSh(SECOND, Map.of(), "--aot-cache", FIRST.resolve("cgscope.aot").toString());
        System.out.printf("ContainerImageIT: the second build (the first's AOT cache) took %d s%n",
                TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start));
        String first = Files.readString(FIRST.resolve("digests"));
        assertEquals(first, Files.readString(SECOND.resolve("digests")), "manifest, config and layer digests");
        assertEquals(4, first.lines().filter(l -> l.startsWith("layer ")).count(), "four layers: " + first);
        assertEquals(-1L, Files.mismatch(archive(FIRST), archive(SECOND)), "the OCI archives, byte for byte");
    }

    @Test
    void layersHoldNoShellNoPackageManagerNoCompiler() throws Exception {
        List<String> entries = new ArrayList<>();
        for (String layer : manifest().getJsonArray("layers").stream().map(l -> ((JsonObject) l).getString("digest")).toList()) {
            entries.addAll(run("tar", "--list", "--verbose", "--numeric-owner", "--full-time", "--gzip", "--file",
                    blob(layer).toString()).lines().toList());
        }
        List<String> executables = new ArrayList<>();
        String mtime = null;
        for (String e : entries) {
            // -rwxr-xr-x 0/0 16264 2026-12-07 21:10:02 opt/java/bin/java
            String[] f = e.trim().split("\\s+", 6);
            assertEquals("0/0", f[1], "owned by root by number: " + e);
            String time = f[3] + " " + f[4];
            assertTrue(mtime == null || mtime.equals(time), "one mtime for every file: " + e);
            mtime = time;
            String path = f[5].replaceFirst(" -> .*", "");
            if (f[0].startsWith("-") && f[0].contains("x") && !path.contains(".so")) {
                executables.add(path);
            }
        }
        assertEquals(List.of("opt/java/bin/java", "opt/java/bin/jfr", "opt/java/bin/keytool",
                "opt/java/lib/jexec", "opt/java/lib/jspawnhelper"), executables.stream().sorted().toList(),
                "the only executables are the Java runtime's");
        for (String forbidden : List.of("bin/sh", "bin/bash", "bin/dash", "bin/busybox", "bin/dpkg", "bin/apt",
                "bin/apt-get", "bin/gcc", "bin/cc", "bin/ld", "sbin/ldconfig", "bin/javac")) {
            assertFalse(entries.stream().anyMatch(e -> e.endsWith(" " + forbidden) || e.endsWith("/" + forbidden)),
                    "no " + forbidden);
        }
        for (String needed : List.of("usr/lib/x86_64-linux-gnu/libbpf.so.1", "usr/lib/locale/C.utf8/LC_CTYPE",
                "etc/passwd", "var/lib/dpkg/status.d/libbpf1", "opt/cgscope/cgscope.jar", "opt/cgscope/cgscope.aot")) {
            assertTrue(entries.stream().anyMatch(e -> e.endsWith(" " + needed) || e.contains(" " + needed + " -> ")),
                    "the image has " + needed);
        }
    }

    @Test
    void configRunsJavaWithTheFlagsOfJvmOptions() throws Exception {
        JsonObject image = new JsonObject(Files.readString(blob(manifest().getJsonObject("config").getString("digest"))));
        JsonObject config = image.getJsonObject("config");
        List<String> entrypoint = new ArrayList<>(List.of("/opt/java/bin/java"));
        entrypoint.addAll(JvmOptions.read(Path.of("src/main/dist/jvm.options")));
        entrypoint.addAll(List.of("-XX:AOTCache=/opt/cgscope/cgscope.aot", "-jar", "/opt/cgscope/cgscope.jar"));
        assertEquals(entrypoint, strings(config.getJsonArray("Entrypoint")));
        assertEquals(List.of("--web.listen-address=:9486", "--cgroup.root=/host/cgroup",
                        "--workload.runtime-dirs=/host/run/containerd/io.containerd.runtime.v2.task,"
                                + "/host/run/containers/storage/overlay-containers",
                        "--workload.pod-logs-dir=/host/var/log/pods",
                        "--workload.container-logs-dir=/host/var/log/containers", "--run-as=65534"),
                strings(config.getJsonArray("Cmd")), "the DaemonSet's args (DeploymentFilesTest checks them)");
        assertEquals("0:0", config.getString("User"), "root for the privileged start; --run-as drops");
        assertTrue(strings(config.getJsonArray("Env")).contains("LC_ALL=C.UTF-8"));
        JsonObject labels = config.getJsonObject("Labels");
        assertEquals("https://github.com/cgscope/cgscope", labels.getString("org.opencontainers.image.source"));
        assertEquals(VERSION, labels.getString("org.opencontainers.image.version"));
        assertTrue(labels.getString("org.opencontainers.image.revision").matches("[0-9a-f]{40}"), labels.encode());
        assertEquals("linux", image.getString("os"));
        assertEquals("amd64", image.getString("architecture"));
    }

    /**
     * The image under podman in the kernel matrix's guest (pure cgroup2 with every controller, as on a
     * node: podman refuses this machine's hybrid layout, and no runtime may touch its cgroups), started
     * as the DaemonSet runs it (the capabilities of daemonset.yaml, not --privileged; the host's
     * cgroup2 hierarchy and BTF; a read-only root) from the image store the first build was loaded
     * into, and judged from outside the container: it is the image that was built, a cgroup made
     * outside is named in /metrics, /healthz is 200, every thread of the agent runs as 65534 with
     * CapEff 0, and {@code podman stop --time 2} ends it with status 0 (a SIGKILL after those 2 s
     * would give 137). {@code scripts/image-test-guest.sh} is the guest's half.
     */
    @Test
    @KernelTest({ROOT, CGROUP2, BPF, QEMU})
    void runsUnderPodmanAsTheDaemonSetRunsIt() throws Exception {
        String configDigest = digests().get("config");
        try (GuestVm vm = GuestVm.kernel("6.12").script(GUEST_SCRIPT)
                .env("CGSCOPE_IMAGE_STORE", STORE.resolve("graph").toString())
                .env("CGSCOPE_IMAGE", digests().get("image"))
                .env("CGSCOPE_CAPS", String.join(",", daemonSetCapabilities()))
                .timeout(Duration.ofMinutes(12)).boot()) {
            vm.awaitPowerOff();
            Path r = vm.results();
            String log = Files.exists(r.resolve("agent.log")) ? Files.readString(r.resolve("agent.log")) : "(no agent.log)";
            assertEquals(0, vm.exitStatus(), vm.consoleTail(60) + "\n" + log);
            Properties facts = new Properties();
            try (Reader in = Files.newBufferedReader(r.resolve("facts.properties"))) {
                facts.load(in);
            }
            System.out.printf("ContainerImageIT podman on %s (%s): %s; QEMU ran %d s%n", vm.release(), vm.accel(),
                    facts, vm.wallTime().toSeconds());
            assertEquals(configDigest.substring("sha256:".length()), facts.getProperty("image.id"),
                    "podman ran the image that was built");
            assertEquals("200", facts.getProperty("healthz.status"), "/healthz\n" + log);
            String cgroup = facts.getProperty("cgroup.name");
            assertTrue(Files.readString(r.resolve("metrics.txt")).contains("cgroup=\"" + cgroup + "\""),
                    "a cgroup made outside the container is named in /metrics: " + cgroup + "\n" + log);
            List<String> threads = Files.readAllLines(r.resolve("threads.txt"));
            assertTrue(threads.size() > 10, "the agent's threads: " + threads);
            for (String t : threads) {
                assertTrue(t.strip().endsWith(" 65534 65534 65534 65534 0000000000000000"),
                        "uid (real, effective, saved, fs) 65534 and CapEff 0: " + t);
            }
            assertEquals("0", facts.getProperty("stop.exit_code"), "podman stop --time 2\n" + log);
            Duration stop = stopTime(log, facts.getProperty("stop.finished_at"));
            System.out.printf("ContainerImageIT: from the agent's SIGTERM to the container's end: %d ms%n", stop.toMillis());
            assertTrue(!stop.isNegative() && stop.compareTo(Duration.ofSeconds(2)) <= 0,
                    "ended within 2 s of SIGTERM: " + stop.toMillis() + " ms\n" + log);
            assertTrue(log.contains("dropped privileges: now uid 65534"), log);
            assertFalse(log.contains("level=error"), log);
            assertFalse(log.contains("[aot]"), "the image's JVM maps its AOT cache without a word: " + log);
        }
    }

    /**
     * From the agent's "received SIGTERM" (its log's {@code ts=}) to the container's end as podman
     * recorded it ({@code 2026-12-08 01:08:16.794266509 +0000 UTC}): the guest's one clock for both.
     */
    private static Duration stopTime(String log, String finishedAt) {
        Instant term = log.lines().filter(l -> l.startsWith("ts=") && l.contains("received SIGTERM"))
                .map(l -> Instant.parse(l.substring(3, l.indexOf(' ')))).findFirst()
                .orElseThrow(() -> new AssertionError("no SIGTERM in the agent's log:\n" + log));
        DateTimeFormatter podman = new DateTimeFormatterBuilder().appendPattern("yyyy-MM-dd HH:mm:ss")
                .appendFraction(ChronoField.NANO_OF_SECOND, 0, 9, true).appendPattern(" xx").toFormatter();
        Instant finished = OffsetDateTime.parse(finishedAt.substring(0, finishedAt.lastIndexOf(' ')), podman).toInstant();
        return Duration.between(term, finished);
    }

    /** The DaemonSet's {@code securityContext.capabilities.add}. */
    @SuppressWarnings("unchecked")
    private static List<String> daemonSetCapabilities() throws IOException {
        Map<String, Object> ds = new Yaml().load(Files.readString(DAEMONSET));
        Map<String, Object> pod = (Map<String, Object>) ((Map<String, Object>) ((Map<String, Object>) ds.get("spec"))
                .get("template")).get("spec");
        Map<String, Object> container = ((List<Map<String, Object>>) pod.get("containers")).getFirst();
        Map<String, Object> caps = (Map<String, Object>) ((Map<String, Object>) container.get("securityContext"))
                .get("capabilities");
        assertEquals(List.of("ALL"), caps.get("drop"));
        return (List<String>) caps.get("add");
    }

    /** The first build's {@code digests} file: image, manifest, config (layers are left out). */
    private static Map<String, String> digests() throws IOException {
        Map<String, String> d = new HashMap<>();
        for (String line : Files.readAllLines(FIRST.resolve("digests"))) {
            String[] f = line.split(" ", 2);
            d.putIfAbsent(f[0], f[1]);
        }
        return d;
    }

    static Path archive(Path out) {
        return out.resolve("cgscope-" + VERSION + ".oci.tar");
    }

    private static JsonObject manifest() throws IOException {
        JsonObject index = new JsonObject(Files.readString(FIRST.resolve("oci/index.json")));
        return new JsonObject(Files.readString(blob(index.getJsonArray("manifests").getJsonObject(0).getString("digest"))));
    }

    private static Path blob(String digest) {
        return FIRST.resolve("oci/blobs/sha256").resolve(digest.substring("sha256:".length()));
    }

    private static List<String> strings(JsonArray a) {
        return a.stream().map(Object::toString).toList();
    }

    private static String run(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), String.join(" ", command));
        assertEquals(0, p.exitValue(), String.join(" ", command) + ": " + out);
        return out;
    }
}
