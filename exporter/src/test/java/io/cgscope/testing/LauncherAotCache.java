package io.cgscope.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The AOT cache beside the built jar ({@code exporter/target/cgscope.aot} and its {@code .aot.id}), which
 * the launcher passes to java while it fits the jar and the java (README, "Start-up and the AOT
 * cache"). {@code run.sh} makes it once per build, and the systemd deployment ships it; a test that
 * starts the agent as that deployment does makes it the same way, with {@code scripts/train.sh}.
 * The cache trained on the host maps in a kernel-matrix guest, which reads the same JDK and jar. Under
 * QEMU's emulation it shortens the agent's start by 8-13 s of 48-66 s (KernelMatrixIT, one run with
 * and one without, back to back, host load 4-12), about what the training costs (15-20 s): it buys
 * the deployment's start, not time.
 */
public final class LauncherAotCache {
    /** One round of Training.java's churn (about 20,000 events): the start-up's classes and a profile. */
    private static final String TRAINING_EVENTS = "20000";
    private static final Duration TRAINING_TIMEOUT = Duration.ofMinutes(10);

    private LauncherAotCache() {
    }

    /**
     * Makes {@code cgscope.aot} beside {@code launcher} with {@code scripts/train.sh} unless the
     * launcher would already pass one (it exists, and {@code cgscope --version} says nothing against it).
     * Needs root, cgroup2 and BPF, as the training run starts the agent as deployed.
     */
    public static void ensure(Path launcher) throws IOException, InterruptedException {
        Path cache = launcher.resolveSibling("cgscope.aot");
        if (Files.isRegularFile(cache) && !run(List.of(launcher.toString(), "--version"), Duration.ofMinutes(2))
                .contains("cgscope: not using")) {
            return;
        }
        Path train = GuestVm.matrixScript().resolveSibling("train.sh");
        String out = run(List.of(train.toString(), "--events", TRAINING_EVENTS), TRAINING_TIMEOUT);
        if (!Files.isRegularFile(cache) || run(List.of(launcher.toString(), "--version"), Duration.ofMinutes(2))
                .contains("cgscope: not using")) {
            throw new AssertionError(train + " made no cache the launcher passes:\n" + out);
        }
    }

    /** Runs a command, returns its output (stdout and stderr); fails unless it exits 0 in time. */
    private static String run(List<String> command, Duration timeout) throws IOException, InterruptedException {
        Path log = Files.createTempFile("cgscope-aot", ".log");
        try {
            ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
            pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
            pb.environment().remove("CGSCOPE_JAVA_OPTS");
            pb.environment().remove("CGSCOPE_AOT");
            Process p = pb.start();
            p.getOutputStream().close();
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroy();
                p.waitFor(30, TimeUnit.SECONDS);
                throw new AssertionError(String.join(" ", command) + " did not finish in " + timeout + ":\n"
                        + Files.readString(log, StandardCharsets.UTF_8));
            }
            String out = Files.readString(log, StandardCharsets.UTF_8);
            if (p.exitValue() != 0) {
                throw new AssertionError(String.join(" ", command) + " exited with " + p.exitValue() + ":\n" + out);
            }
            return out;
        } finally {
            Files.deleteIfExists(log);
        }
    }
}
