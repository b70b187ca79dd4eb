package io.cgscope.deploy;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The deployment files are checked by the tools that will read them: systemd and the Kubernetes schemas. */
class DeploymentFilesTest {
    private static final Path DEPLOY = Path.of("deploy").toAbsolutePath();

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

    @Test
    void systemdUnitVerifies() throws Exception {
        String out = run(DEPLOY, 60, "systemd-analyze", "verify", DEPLOY.resolve("systemd/cgscope.service").toString());
        assertEquals("", out.strip(), "systemd-analyze verify reports nothing");
        String unit = Files.readString(DEPLOY.resolve("systemd/cgscope.service"));
        for (String must : List.of("ProtectSystem=strict", "NoNewPrivileges=yes", "--run-as=nobody",
                "CapabilityBoundingSet=CAP_SYS_ADMIN CAP_BPF CAP_PERFMON CAP_DAC_READ_SEARCH CAP_SETUID CAP_SETGID",
                "MemoryMax=", "-XX:+UseShenandoahGC")) {
            assertTrue(unit.contains(must), "the unit has " + must);
        }
    }

    @Test
    void kubernetesManifestsMatchTheSchemas() throws Exception {
        Path validator = DEPLOY.resolve("validate");
        run(validator, 300, "npm", "ci", "--no-audit", "--no-fund", "--loglevel=error");
        String out = run(validator, 60, "node", "validate.mjs");
        assertTrue(out.contains("3 valid, 0 invalid"), out);
    }
}
