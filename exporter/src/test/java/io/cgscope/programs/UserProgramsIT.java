package io.cgscope.programs;

import io.cgscope.testing.AgentProcess;
import io.cgscope.testing.Exposition;
import io.cgscope.testing.KernelTest;
import io.cgscope.testing.KernelTest.Requirement;
import io.cgscope.testing.TestCgroups;
import io.cgscope.testing.Workloads;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The packaged jar with user programs: {@code --config.dir}/{@code --config.names} wired through
 * the agent (loaded beside cgscope's own programs, exported on /metrics, one log line per program
 * that is down, the workload labels of the built-in families on a cgroup label, exit 0 on SIGTERM),
 * and a bad config file refused before anything is loaded: one line naming the file, the line and
 * the key, exit status 2.
 */
@KernelTest({Requirement.ROOT, Requirement.CGROUP2, Requirement.BPF})
class UserProgramsIT {
    private static final Path EXAMPLES = Path.of("target/examples").toAbsolutePath();
    private static final Path TEST_BPF = Path.of("target/test-bpf").toAbsolutePath();

    @Test
    void userProgramsRunBesideCgscopesOwn(@TempDir Path dir) throws Exception {
        // One directory for an example and a test program, as a user would gather them.
        for (String f : List.of("cgroup-syscalls.yaml", "cgroup-syscalls.bpf.o", "cgroup-events.yaml",
                "cgroup-events.bpf.o")) {
            Files.copy(EXAMPLES.resolve(f), dir.resolve(f));
        }
        for (String f : List.of("broken.yaml", "broken.bpf.o")) {
            Files.copy(TEST_BPF.resolve(f), dir.resolve(f));
        }
        try (AgentProcess agent = AgentProcess.start("--config.dir=" + dir,
                "--config.names=cgroup-syscalls,cgroup-events,broken", "--bpf.programs=cpu,switches", "--run-as=nobody",
                "--metrics.workload-labels=kind,pod_uid,container_id")) {
            String log = agent.log();
            assertTrue(log.contains("programs: configs up: cgroup-syscalls (1/1 programs), cgroup-events (2/2 programs),"
                    + " broken (1/3 programs)"), log);
            List<String> down = log.lines().filter(l -> l.contains("config broken: program")).toList();
            assertEquals(2, down.size(), "one line per program that is down: " + log);
            assertTrue(down.stream().anyMatch(l -> l.contains("program refused (tp_btf/sched_switch) is down: load:")
                    && l.contains("invalid mem access")), log);
            String body = agent.get("/metrics").body();
            List<Exposition.Sample> m = Exposition.parse(body);
            assertEquals(1.0, sample(m, "cgscope_user_program_up", "config", "cgroup-syscalls", "program", "count_syscall"));
            assertEquals(0.0, sample(m, "cgscope_user_program_up", "config", "broken", "program", "refused"));
            assertEquals(1.0, sample(m, "cgscope_user_program_up", "config", "broken", "program", "counts"));
            assertEquals(1.0, sample(m, "cgscope_bpf_program_up", "program", "cpu"), "cgscope's own programs too");
            assertEquals(1.0, sample(m, "cgscope_bpf_program_up", "program", "switches"));
            assertTrue(m.stream().anyMatch(s -> s.name().equals("cgscope_user_cgroup_syscalls_total")
                    && "/".equals(s.label("cgroup"))), "the root cgroup's system calls, by path");
            // After --run-as: the maps are still read and the perf buffer still polled, with no capability left.
            assertTrue(Files.readString(Path.of("/proc/" + agent.pid() + "/status")).contains("CapEff:\t0000000000000000"));
            try (TestCgroups cgroups = new TestCgroups()) {
                // A container's cgroup as the kubelet's systemd driver names it: the user metric gets
                // the workload labels the built-in families get (from the path here; no bundle).
                String uid = "3f2a6d1e-7b4c-4e2a-9f10-8c5d2e7a1b90";
                String cid = "9c1e5b4f3f7d2a8e6b0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f60718293a4b5c6";
                String relative = "kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod"
                        + uid.replace('-', '_') + ".slice/cri-containerd-" + cid + ".scope";
                Path exec = cgroups.create(relative);
                String path = cgroups.parentPath() + "/" + relative;
                Workloads.run(exec, "/bin/true; /bin/true; /bin/true");
                io.cgscope.testing.Await.until(Duration.ofSeconds(30), () -> {
                    try {
                        Double n = sample(Exposition.parse(agent.get("/metrics").body()), "cgscope_user_cgroup_execs_total",
                                "cgroup", path, "kind", "container", "pod_uid", uid, "container_id", cid);
                        return n != null && n >= 3;
                    } catch (Exception e) {
                        throw new AssertionError(e);
                    }
                }, () -> "execs through the perf buffer after the privilege drop: " + agent.log());
            }
            agent.signal("TERM");
            assertEquals(0, agent.waitFor(Duration.ofSeconds(5)), agent.log());
        }
    }

    private static Double sample(List<Exposition.Sample> m, String name, String... labels) {
        for (Exposition.Sample s : m) {
            boolean match = s.name().equals(name) && s.labels().size() == labels.length / 2;
            for (int i = 0; match && i < labels.length; i += 2) {
                match = labels[i + 1].equals(s.label(labels[i]));
            }
            if (match) {
                return s.value();
            }
        }
        return null;
    }

    @Test
    void aBadConfigIsOneLineNamingTheFileAndStatus2(@TempDir Path dir) throws Exception {
        Files.copy(EXAMPLES.resolve("cgroup-syscalls.bpf.o"), dir.resolve("x.bpf.o"));
        Files.writeString(dir.resolve("x.yaml"), """
                metrics:
                  counters:
                    - name: x_total
                      help: h
                      labels:
                        - name: cgroup
                          size: 8
                          decoder:
                            - name: uint
                """);
        String jar = System.getenv("CGSCOPE_JAR");
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-jar", jar, "--web.listen-address=127.0.0.1:0", "--config.dir=" + dir, "--config.names=x"));
        Process p = new ProcessBuilder(cmd).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(20, TimeUnit.SECONDS));
        assertEquals(2, p.exitValue(), err);
        assertEquals(List.of("cgscope: " + dir.resolve("x.yaml") + ":8: unknown key \"decoder\" in counter \"x_total\":"
                + " a label (known: name, size, padding, decoders)"), err.lines().toList(), err);
        assertFalse(err.contains("\tat "), "no stack trace");
    }
}
