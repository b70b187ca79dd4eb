package io.cgscope.config;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FlagsTest {
    private static Config run(String... args) throws ConfigException {
        return ((Flags.Run) Flags.parse(args)).config();
    }

    @Test
    void defaults() throws ConfigException {
        Config c = run();
        assertEquals("", c.listenHost());
        assertEquals(9486, c.listenPort());
        assertEquals("/metrics", c.telemetryPath());
        assertEquals(Duration.ofMinutes(15), c.retention());
        assertEquals(Duration.ofSeconds(5), c.sweepInterval());
        assertEquals(Config.IndexMode.AUTO, c.indexMode());
        assertTrue(c.unlimitedQueue());
        assertEquals(Set.of("cpu", "samples", "switches", "runqlat", "oom"), c.bpfPrograms());
        assertEquals(99, c.sampleFrequency());
        assertEquals(16384, c.maxCgroups());
        assertEquals(16, c.maxStreams());
        assertEquals("", c.grafanaUrl());
        assertEquals(java.util.List.of("pressure", "cpu", "memory", "io", "pids"), java.util.List.copyOf(c.cgroupfsCollectors()));
        assertEquals(new WebLimits(512, Duration.ofSeconds(10), Duration.ofMinutes(2)), c.webLimits());
        assertEquals(new WebLimits(4, Duration.ofMillis(500), Duration.ofHours(1)), run("--web.max-connections=4",
                "--web.read-header-timeout=500ms", "--web.idle-timeout", "1h").webLimits());
    }

    @Test
    void grafanaUrl() throws ConfigException {
        assertEquals("https://grafana.example.com", run("--web.grafana-url=https://grafana.example.com/").grafanaUrl());
        assertEquals("http://10.0.0.5:3000/grafana", run("--web.grafana-url=http://10.0.0.5:3000/grafana").grafanaUrl());
    }

    @Test
    void cgroupfsCollectors() throws ConfigException {
        assertEquals(Set.of("io", "pressure"), run("--collector.cgroupfs= io, pressure,,").cgroupfsCollectors());
        assertEquals(Set.of(), run("--collector.cgroupfs=").cgroupfsCollectors());
        ConfigException e = assertThrows(ConfigException.class, () -> Flags.parse("--collector.cgroupfs=cpu,gpu"));
        assertEquals("invalid value \"cpu,gpu\" for --collector.cgroupfs: unknown collector \"gpu\"; known:"
                + " pressure,cpu,memory,io,pids", e.getMessage());
        for (String c : Config.CGROUPFS_COLLECTORS) {
            assertEquals(c, io.cgscope.accounting.Family.of(c).label(), "the flag's values are the families");
        }
    }

    @Test
    void valuesInEveryForm() throws ConfigException {
        Config c = run("--web.listen-address=[::1]:9000", "--cgroup.retention", "1h30m",
                "--no-fanotify.unlimited-queue", "--cgroup.index-mode=sweep", "--bpf.programs=cpu,runqlat",
                "--cgroup.include=system\\.slice/.*");
        assertEquals("::1", c.listenHost());
        assertEquals(9000, c.listenPort());
        assertEquals(Duration.ofMinutes(90), c.retention());
        assertFalse(c.unlimitedQueue());
        assertEquals(Config.IndexMode.SWEEP, c.indexMode());
        assertEquals(Set.of("cpu", "runqlat"), c.bpfPrograms());
        assertTrue(c.include().matcher("system.slice/x").matches());
        assertFalse(run("--fanotify.unlimited-queue=false").unlimitedQueue());
        assertEquals(Set.of(), run("--bpf.programs=").bpfPrograms());
    }

    @Test
    void indexModesAndTheRingSize() throws ConfigException {
        assertEquals(Config.IndexMode.BPF, run("--cgroup.index-mode=bpf").indexMode());
        assertEquals(Config.IndexMode.CROSSCHECK, run("--cgroup.index-mode=crosscheck").indexMode());
        assertEquals(4 << 20, run().bpfRingBytes());
        assertEquals(512 << 10, run("--cgroup.bpf-ring-size=512KiB").bpfRingBytes());
        assertEquals(4096, run("--cgroup.bpf-ring-size=4096").bpfRingBytes());
        assertEquals(64 << 20, run("--cgroup.bpf-ring-size", "64MiB").bpfRingBytes());
        for (String bad : new String[] {"3MiB", "2KiB", "4 MiB", "2048MiB", "lots", "-4096"}) {
            ConfigException e = assertThrows(ConfigException.class, () -> run("--cgroup.bpf-ring-size=" + bad), bad);
            assertTrue(e.getMessage().startsWith("invalid value \"" + bad + "\" for --cgroup.bpf-ring-size: "),
                    e.getMessage());
        }
    }

    @Test
    void theHierarchyIsAutoByDefaultAndAWordOrAName() throws ConfigException {
        assertEquals("auto", run().hierarchy());
        assertEquals("memory", run("--cgroup.hierarchy=memory").hierarchy());
        assertEquals("name=systemd", run("--cgroup.hierarchy=name=systemd").hierarchy());
        for (String bad : new String[] {"cpu,cpuacct", "", "name=", "a b", "../x"}) {
            ConfigException e = assertThrows(ConfigException.class, () -> run("--cgroup.hierarchy=" + bad), bad);
            assertTrue(e.getMessage().startsWith("invalid value \"" + bad + "\" for --cgroup.hierarchy: "),
                    e.getMessage());
        }
    }

    @Test
    void helpAndVersion() throws ConfigException {
        assertInstanceOf(Flags.Help.class, Flags.parse("--cgroup.retention=5m", "--help"));
        assertInstanceOf(Flags.Version.class, Flags.parse("--version"));
        String usage = Flags.usage();
        for (Flag f : Flags.ALL) {
            assertTrue(usage.contains(f.name()), f.name());
        }
    }

    @Test
    void telemetryPathIsAPlainPathNotTheApis() throws ConfigException {
        for (String path : new String[] {"/", "/cgroups", "/cgroup", "/cgroup/7", "/pods", "/events", "/healthz",
            "/hierarchies", "/static/x.js", "/api/x", "/a b", "/%41"}) {
            ConfigException e = assertThrows(ConfigException.class, () -> Flags.parse("--web.telemetry-path=" + path),
                    path);
            assertEquals("invalid value \"" + path + "\" for --web.telemetry-path: expected "
                    + (path.equals("/") ? "a path like /metrics" : "a plain path (letters, digits, . _ ~ - /) that is"
                            + " not one of the API's / /healthz /cgroup /cgroups /pods /events /api/top /static /hierarchies"),
                    e.getMessage());
        }
        assertEquals("/internal/metrics.v1",
                ((Flags.Run) Flags.parse("--web.telemetry-path=/internal/metrics.v1")).config().telemetryPath());
    }

    @Test
    void badInputIsOneClearLine() {
        String[][] bad = {
            {"--nope"}, {"--web.listen-address=9486"}, {"--web.listen-address=:70000"}, {"--cgroup.retention=5 min"},
            {"--cgroup.index-mode=magic"}, {"--bpf.programs=cpu,gpu"}, {"--cgroup.include=("}, {"--log.level=loud"},
            {"--fanotify.unlimited-queue=maybe"}, {"--cgroup.sweep-interval=10ms"}, {"positional"}, {"--web.max-streams"},
            {"--web.grafana-url=grafana:3000"}, {"--web.grafana-url=ftp://grafana"}, {"--web.grafana-url=https://u:p@grafana"},
            {"--web.grafana-url=https://grafana/?orgId=1"}, {"--web.grafana-url=http://gra fana"},
            {"--web.max-connections=0"}, {"--web.max-connections=many"}, {"--web.read-header-timeout=50ms"},
            {"--web.idle-timeout=2d"}, {"--web.idle-timeout=10"},
        };
        for (String[] args : bad) {
            ConfigException e = assertThrows(ConfigException.class, () -> Flags.parse(args), String.join(" ", args));
            assertFalse(e.getMessage().contains("\n"), e.getMessage());
            assertTrue(e.getMessage().contains("--") || e.getMessage().contains("argument"), e.getMessage());
        }
    }

    @Test
    void workloadFlags() throws ConfigException {
        Config d = run();
        assertEquals(Config.RollUp.NONE, d.rollUp());
        assertEquals(java.util.List.of("namespace", "pod", "container"), d.workloadLabels());
        assertEquals(java.util.List.of(java.nio.file.Path.of("/run/containerd/io.containerd.runtime.v2.task"),
                java.nio.file.Path.of("/run/containers/storage/overlay-containers")), d.runtimeDirs());
        Config c = run("--cgroup.roll-up=pod", "--metrics.workload-labels=image, kind,pod", "--workload.runtime-dirs=");
        assertEquals(Config.RollUp.POD, c.rollUp());
        assertEquals(java.util.List.of("kind", "pod", "image"), c.workloadLabels(), "in the exported order");
        assertEquals(java.util.List.of(), c.runtimeDirs());
        assertEquals(java.util.List.of(), run("--metrics.workload-labels=").workloadLabels());
        assertEquals(Config.RollUp.CONTAINER, run("--cgroup.roll-up=container").rollUp());
        assertEquals(java.nio.file.Path.of("/var/log/pods"), d.podLogsDir());
        assertEquals(java.nio.file.Path.of("/var/log/containers"), d.containerLogsDir());
        Config logs = run("--workload.pod-logs-dir=", "--workload.container-logs-dir=/host/var/log/containers");
        assertEquals(null, logs.podLogsDir(), "empty: not read");
        assertEquals(java.nio.file.Path.of("/host/var/log/containers"), logs.containerLogsDir());
        String[][] bad = {
            {"--cgroup.roll-up=namespace"}, {"--metrics.workload-labels=pod,cgroup"}, {"--metrics.workload-labels=slice"},
            {"--cgroup.roll-up=container", "--metrics.workload-labels=namespace,pod"},
            {"--workload.runtime-dirs=run/containerd"}, {"--workload.pod-logs-dir=var/log/pods"},
            {"--workload.container-logs-dir=containers"},
        };
        for (String[] args : bad) {
            ConfigException e = assertThrows(ConfigException.class, () -> Flags.parse(args), String.join(" ", args));
            assertFalse(e.getMessage().contains("\n"), e.getMessage());
            assertTrue(e.getMessage().startsWith("invalid value"), e.getMessage());
        }
    }

    @Test
    void durationsRoundTrip() {
        assertEquals(Duration.ofMillis(1500), Durations.parse("1s500ms"));
        assertEquals("1h30m", Durations.format(Duration.ofMinutes(90)));
        assertThrows(IllegalArgumentException.class, () -> Durations.parse("15"));
    }
}
