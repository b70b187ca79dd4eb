package io.cgscope.deploy;

import io.cgscope.BuildInfo;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.yaml.snakeyaml.Yaml;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
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

    @Test
    void kubernetesManifestsMatchTheSchemas() throws Exception {
        Path validator = DEPLOY.resolve("validate");
        run(validator, 300, "npm", "ci", "--no-audit", "--no-fund", "--loglevel=error");
        String out = run(validator, 60, "node", "validate.mjs");
        assertTrue(out.contains("3 valid, 0 invalid"), out);
    }
}
