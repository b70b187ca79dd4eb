package io.cgscope.deploy;

import io.cgscope.BuildInfo;
import io.cgscope.testing.KernelTest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The container image as {@code scripts/image.sh} builds it on this machine (README, "Container
 * image"): built twice from the same inputs it has the same digests, its layers hold no shell, no
 * package manager and no compiler, every file is owned by 0:0 with the same mtime, and its config
 * carries the JVM flags of jvm.options, the DaemonSet's flags and the OCI labels. The first build
 * trains its AOT cache (a shorter training than a release's, 60,000 events); the second is given
 * that cache, since no two training runs give the same bytes. About 2-3 minutes.
 */
@KernelTest({KernelTest.Requirement.ROOT, KernelTest.Requirement.CGROUP2, KernelTest.Requirement.BPF})
class ContainerImageIT {
    private static final Path IMAGE_SH = Path.of("scripts/image.sh").toAbsolutePath();
    private static final Path OUT = Path.of("target/image-it").toAbsolutePath();
    /** The first build: its OCI layout, archive and digests; what every test here looks at. */
    static final Path FIRST = OUT.resolve("first");
    private static final Path SECOND = OUT.resolve("second");
    private static final String VERSION = BuildInfo.load().version();

    @BeforeAll
    static void buildOnce() throws Exception {
        imageSh(FIRST, "--training-events", "60000");
    }

    private static void imageSh(Path out, String... more) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(IMAGE_SH.toString(), "--no-load", "--out", out.toString()));
        cmd.addAll(List.of(more));
        Path log = Files.createDirectories(OUT).resolve(out.getFileName() + ".log");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        p.getOutputStream().close();
        if (!p.waitFor(15, TimeUnit.MINUTES)) {
            p.destroy();
            throw new AssertionError("image.sh did not finish in 15 minutes; log " + log);
        }
        assertEquals(0, p.exitValue(), "image.sh " + String.join(" ", more) + " said:\n" + Files.readString(log));
    }

    @Test
    void twoBuildsOfTheSameInputsGiveTheSameDigests() throws Exception {
        imageSh(SECOND, "--aot-cache", FIRST.resolve("cgscope.aot").toString());
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
