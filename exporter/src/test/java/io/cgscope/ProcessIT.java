package io.cgscope;

import io.cgscope.testing.BpfPrograms;

import io.cgscope.testing.KernelTest;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The packaged jar as a real process ({@code CGSCOPE_JAR}): start-up lines, exit statuses for a
 * bad flag and a port in use, and SIGTERM / SIGINT: exit 0 within 2 s with no BPF program left.
 */
@KernelTest({KernelTest.Requirement.ROOT, KernelTest.Requirement.CGROUP2, KernelTest.Requirement.BPF})
class ProcessIT {
    private static final Pattern LISTENING = Pattern.compile("http: listening on \\S*:(\\d+)");
    private final HttpClient http = HttpClient.newHttpClient();

    /** A started cgscope: its process, its stderr file, and the port it bound. */
    private record Running(Process process, Path stderr, int port) {
    }

    private static List<String> command(String... flags) {
        String jar = System.getenv("CGSCOPE_JAR");
        assertTrue(jar != null && Files.isRegularFile(Path.of(jar)), "CGSCOPE_JAR must name the packaged jar: " + jar);
        List<String> cmd = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"),
                "-XX:+UseShenandoahGC", "-Xmx256m", "-jar", jar));
        cmd.addAll(List.of(flags));
        return cmd;
    }

    private static Running start(String... flags) throws IOException, InterruptedException {
        Path err = Files.createTempFile("cgscope-it", ".err");
        Process p = new ProcessBuilder(command(flags)).redirectError(err.toFile())
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < deadline) {
            Matcher m = LISTENING.matcher(Files.readString(err));
            if (m.find()) {
                return new Running(p, err, Integer.parseInt(m.group(1)));
            }
            if (!p.isAlive()) {
                break;
            }
            Thread.sleep(50); // polling the log file for the start-up line
        }
        p.destroyForcibly();
        throw new AssertionError("cgscope did not start:\n" + Files.readString(err));
    }

    private static List<String> lines(Path file) throws IOException {
        return Files.readAllLines(file, StandardCharsets.UTF_8).stream().filter(l -> !l.isBlank()).toList();
    }

    @Test
    void logsEachComponentServesAndStopsCleanlyOnSigterm() throws Exception {
        Running r = start("--web.listen-address=127.0.0.1:0");
        HttpResponse<String> health = http.send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + r.port() + "/healthz")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, health.statusCode(), health.body());
        HttpResponse<String> metrics = http.send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + r.port() + "/metrics")).build(), HttpResponse.BodyHandlers.ofString());
        assertTrue(metrics.body().contains("cgscope_build_info{"), "build info exported");

        List<String> log = lines(r.stderr());
        assertTrue(log.stream().anyMatch(l -> l.contains("msg=\"index: cgroup root ") && l.contains("mode fanotify")),
                "index line: " + log);
        assertTrue(log.stream().anyMatch(l -> l.contains("msg=\"http: listening on 127.0.0.1:" + r.port())),
                "http line: " + log);
        Set<Long> programs = BpfPrograms.heldBy(r.process().pid());
        assertTrue(programs.size() >= 3, "BPF programs held (on_switch, cpu_tick, sample): " + programs);

        long t0 = System.nanoTime();
        new ProcessBuilder("kill", "-TERM", Long.toString(r.process().pid())).start().waitFor();
        assertTrue(r.process().waitFor(2, TimeUnit.SECONDS), "exits within 2 s of SIGTERM");
        long millis = (System.nanoTime() - t0) / 1_000_000;
        assertEquals(0, r.process().exitValue(), "exit status after SIGTERM; log: " + lines(r.stderr()));
        System.err.println("ProcessIT: stopped " + millis + " ms after SIGTERM; it held BPF programs " + programs);
        BpfPrograms.awaitUnloaded(programs, Duration.ofSeconds(10));
        assertTrue(lines(r.stderr()).stream().anyMatch(l -> l.contains("received SIGTERM")));
        Files.deleteIfExists(r.stderr());
    }

    @Test
    void sigintStopsWithStatusZeroToo() throws Exception {
        Running r = start("--web.listen-address=127.0.0.1:0", "--log.format=json");
        assertTrue(lines(r.stderr()).stream().allMatch(l -> l.startsWith("{\"ts\":")), "json lines");
        new ProcessBuilder("kill", "-INT", Long.toString(r.process().pid())).start().waitFor();
        assertTrue(r.process().waitFor(2, TimeUnit.SECONDS));
        assertEquals(0, r.process().exitValue());
        Files.deleteIfExists(r.stderr());
    }

    @Test
    void aBadFlagIsOneLineAndStatus2() throws Exception {
        for (String[] flags : new String[][] {{"--web.listen-adress=:1"}, {"--web.max-streams=lots"},
                {"--web.telemetry-path=/cgroups", "--web.listen-address=127.0.0.1:0"}}) {
            Process p = new ProcessBuilder(command(flags)).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(p.waitFor(20, TimeUnit.SECONDS));
            assertEquals(2, p.exitValue(), String.join(" ", flags) + ": " + err);
            List<String> errorLines = err.lines().filter(l -> l.startsWith("cgscope: ")).toList();
            assertEquals(1, errorLines.size(), err);
            assertTrue(errorLines.get(0).contains("--web."), errorLines.get(0));
            assertFalse(err.contains("\tat "), "no stack trace: " + err);
        }
    }

    @Test
    void aPortInUseIsOneLineAndStatus1() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Process p = new ProcessBuilder(command("--web.listen-address=127.0.0.1:" + taken.getLocalPort()))
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(p.waitFor(20, TimeUnit.SECONDS));
            assertEquals(1, p.exitValue(), err);
            List<String> errorLines = err.lines().filter(l -> l.startsWith("cgscope: ")).toList();
            assertEquals(List.of("cgscope: cannot listen on 127.0.0.1:" + taken.getLocalPort()
                    + ": address already in use"), errorLines, err);
            assertFalse(err.contains("\tat "), "no stack trace: " + err);
        }
    }

    /** On an architecture without a system call table it refuses before touching the kernel. */
    @Test
    void anUnknownArchitectureIsOneLineAndStatus1() throws Exception {
        List<String> cmd = new ArrayList<>(command("--web.listen-address=127.0.0.1:0"));
        cmd.add(1, "-Dos.arch=riscv64"); // right after the java binary: a JVM option
        Process p = new ProcessBuilder(cmd).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(20, TimeUnit.SECONDS));
        assertEquals(1, p.exitValue(), err);
        assertEquals(List.of("cgscope: unsupported CPU architecture riscv64: cgscope knows the system call numbers"
                + " and struct layouts of x86-64 (amd64) and arm64 (aarch64)"),
                err.lines().filter(l -> !l.contains("ShenandoahPacing")).toList(), err);
    }
}
