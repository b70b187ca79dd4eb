package io.cgscope.config;

import io.cgscope.config.ProgramConfig.BucketType;
import io.cgscope.config.ProgramConfig.DecoderSpec;
import io.cgscope.config.ProgramConfig.Kind;
import io.cgscope.config.ProgramConfig.Label;
import io.cgscope.config.ProgramConfig.Metric;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * ebpf_exporter's configuration format as its README documents it: every key read, and every
 * bad file refused with one line that names the file, the line and the key.
 */
class ProgramConfigsTest {
    private static final Path YAML = Path.of("/configs/t.yaml");
    private static final Path OBJECT = Path.of("/configs/t.bpf.o");

    private static ProgramConfig parse(String text) throws ConfigException {
        return ProgramConfigs.parse("t", YAML, OBJECT, text);
    }

    /** The one line a bad file gives; it must name the file. */
    private static String refused(String text) {
        String m = assertThrows(ConfigException.class, () -> parse(text)).getMessage();
        assertTrue(m.startsWith(YAML + ":"), "names the file: " + m);
        assertFalse(m.contains("\n"), "one line: " + m);
        return m;
    }

    @Test
    void everyKeyOfACounter() throws ConfigException {
        ProgramConfig c = parse("""
                metrics:
                  counters:
                    - name: oom_kills_total
                      help: Count global and cgroup level OOMs
                      perf_event_array: true
                      flush_interval: 1m30s
                      labels:
                        - name: cgroup_path
                          size: 8
                          padding: 0
                          decoders:
                            - name: uint
                            - name: cgroup
                kaddrs:
                  - bpf_jit_current
                """);
        assertEquals("t", c.name());
        assertEquals(YAML, c.yaml());
        assertEquals(OBJECT, c.object());
        assertEquals(List.of("bpf_jit_current"), c.kaddrs());
        Metric m = c.metrics().getFirst();
        assertEquals(Kind.COUNTER, m.kind());
        assertEquals("oom_kills_total", m.name());
        assertEquals("Count global and cgroup level OOMs", m.help());
        assertTrue(m.perfEventArray());
        assertEquals(Duration.ofSeconds(90), m.flushInterval());
        assertNull(m.histogram());
        assertEquals(3, m.line());
        Label l = m.labels().getFirst();
        assertEquals("cgroup_path", l.name());
        assertEquals(8, l.size());
        assertEquals(0, l.padding());
        assertEquals(List.of("uint", "cgroup"), l.decoders().stream().map(DecoderSpec::name).toList());
    }

    @Test
    void everyKeyOfAHistogram() throws ConfigException {
        ProgramConfig c = parse("""
                metrics:
                  histograms:
                    - name: bio_latency_seconds
                      help: Block IO latency histogram
                      bucket_type: exp2
                      bucket_min: 0
                      bucket_max: 27
                      bucket_multiplier: 0.000001 # microseconds to seconds
                      labels:
                        - name: device
                          size: 4
                          decoders:
                            - name: majorminor
                        - name: operation
                          size: 4
                          decoders:
                            - name: uint
                            - name: static_map
                              allow_unknown: true
                              static_map:
                                0: read
                                1: write
                                0x22: drv_in
                        - name: bucket
                          size: 8
                          decoders:
                            - name: uint
                """);
        Metric m = c.metrics().getFirst();
        assertEquals(Kind.HISTOGRAM, m.kind());
        assertEquals(BucketType.EXP2, m.histogram().type());
        assertEquals(0, m.histogram().min());
        assertEquals(27, m.histogram().max());
        assertEquals(1e-6, m.histogram().multiplier());
        DecoderSpec sm = m.labels().get(1).decoders().get(1);
        assertTrue(sm.allowUnknown());
        // Integer keys as ebpf_exporter's YAML library gives them to a string map: decimal.
        assertEquals(Map.of("0", "read", "1", "write", "34", "drv_in"), sm.staticMap());
    }

    @Test
    void bucketTypesAndTheirKeys() throws ConfigException {
        ProgramConfig c = parse("""
                metrics:
                  histograms:
                    - {name: a, help: h, bucket_type: exp2zero, bucket_min: 0, bucket_max: 17, labels: [{name: bucket, size: 8, decoders: [{name: uint}]}]}
                    - {name: b, help: h, bucket_type: linear, bucket_min: 0, bucket_max: 20, bucket_multiplier: 50, labels: [{name: bucket, size: 8, decoders: [{name: uint}]}]}
                    - {name: c, help: h, bucket_type: fixed, bucket_keys: [1, 5, 10, 100], labels: [{name: bucket, size: 8, decoders: [{name: uint}]}]}
                    - {name: d, help: h, bucket_type: fixed, bucket_min: 0, bucket_max: 9, bucket_keys: [0.5, 2], labels: [{name: bucket, size: 8, decoders: [{name: uint}]}]}
                    - {name: e, help: h, bucket_type: exp2, bucket_min: -3, bucket_max: -2, bucket_multiplier: 0, labels: [{name: bucket, size: 8, decoders: [{name: uint}]}]}
                """);
        assertEquals(BucketType.EXP2ZERO, c.metrics().get(0).histogram().type());
        assertEquals(1.0, c.metrics().get(0).histogram().multiplier(), "the default multiplier");
        assertEquals(50.0, c.metrics().get(1).histogram().multiplier());
        assertEquals(BucketType.LINEAR, c.metrics().get(1).histogram().type());
        assertEquals(List.of(1.0, 5.0, 10.0, 100.0), c.metrics().get(2).histogram().keys());
        assertEquals(List.of(0.5, 2.0), c.metrics().get(3).histogram().keys(), "min/max accepted and unused for fixed");
        assertEquals(-3, c.metrics().get(4).histogram().min(), "the smallest bucket span: two keys");
        assertEquals(1.0, c.metrics().get(4).histogram().multiplier(), "0 means the default, as in ebpf_exporter");
    }

    @Test
    void regexpsCompileAndGoNamedGroupsAreAccepted() throws ConfigException {
        ProgramConfig c = parse("""
                metrics:
                  counters:
                    - name: x_total
                      help: h
                      labels:
                        - name: comm
                          size: 16
                          decoders:
                            - name: string
                            - name: regexp
                              regexps:
                                - ^(kswapd).*$
                                - ^(?P<unit>systemd.*)$
                """);
        DecoderSpec r = c.metrics().getFirst().labels().getFirst().decoders().get(1);
        assertEquals(2, r.regexps().size());
        assertTrue(r.regexps().get(1).matcher("systemd-journal").matches());
    }

    @Test
    void countersWithoutLabelsAndEmptyHistogramsListAreFine() throws ConfigException {
        ProgramConfig c = parse("""
                metrics:
                  counters:
                    - name: bpf_jit_pages_currently_allocated
                      help: Current number of pages allocated for bpf jit
                  histograms:
                """);
        assertEquals(1, c.metrics().size());
        assertEquals(List.of(), c.metrics().getFirst().labels());
    }

    @Test
    void everyDecoderNameIsKnown() throws ConfigException {
        for (String d : ProgramConfigs.DECODERS) {
            String extra = switch (d) {
                case "regexp" -> ", regexps: [x]";
                case "static_map" -> ", static_map: {1: one}";
                default -> "";
            };
            parse("metrics: {counters: [{name: x_total, help: h, labels: [{name: l, size: 8, decoders: [{name: " + d
                    + extra + "}]}]}]}");
        }
        assertEquals(18, ProgramConfigs.DECODERS.size());
    }

    // ---------------------------------------------------------------- bad files: one line, file, line, key

    @Test
    void unknownKeysAreRefusedWithTheirLine() {
        String m = refused("""
                metrics:
                  histograms:
                    - name: x
                      help: h
                      bucket_type: exp2
                      bucket_mn: 0
                """);
        assertTrue(m.startsWith(YAML + ":6: unknown key \"bucket_mn\" in a histogram"), m);
        assertTrue(refused("metric:\n  counters: []\n").startsWith(YAML + ":1: unknown key \"metric\" in the top level"));
        assertTrue(refused("metrics:\n  gauges: []\n").contains(":2: unknown key \"gauges\" in metrics"));
        assertTrue(refused("metrics: {counters: [{name: x, help: h, labels: [{name: l, size: 8, width: 2,"
                + " decoders: [{name: uint}]}]}]}").contains("unknown key \"width\""));
        assertTrue(refused("metrics: {counters: [{name: x, help: h, labels: [{name: l, size: 8,"
                + " decoders: [{name: uint, base: 16}]}]}]}").contains("unknown key \"base\""));
        assertTrue(refused("metrics: {counters: [{name: x, help: h, buckets: 3}]}").contains("unknown key \"buckets\""));
    }

    @Test
    void missingAndMisplacedKeys() {
        assertTrue(refused("metrics: {counters: [{name: x}]}").contains("counter \"x\": help is missing"));
        assertTrue(refused("metrics: {counters: [{help: h}]}").contains("a counter: name is missing"));
        assertTrue(refused("metrics: {histograms: [{name: x, help: h, bucket_min: 0, bucket_max: 2}]}")
                .contains("bucket_type is missing"));
        assertTrue(refused("metrics: {histograms: [{name: x, help: h, bucket_type: exp2, bucket_max: 2}]}")
                .contains("needs bucket_min"));
        assertTrue(refused("metrics: {histograms: [{name: x, help: h, bucket_type: fixed}]}")
                .contains("bucket_type fixed needs bucket_keys"));
        assertTrue(refused("metrics: {histograms: [{name: x, help: h, bucket_type: exp2, bucket_min: 0, bucket_max: 2,"
                + " bucket_keys: [1]}]}").contains("bucket_keys is for bucket_type fixed only"));
        assertTrue(refused("metrics: {histograms: [{name: x, help: h, bucket_type: exp2, bucket_min: 0, bucket_max: 2}]}")
                .contains("needs labels, the last of which is the bucket key"));
        assertTrue(refused("metrics: {counters: [{name: x, help: h, flush_interval: 1m}]}")
                .contains("flush_interval needs perf_event_array: true"));
        assertTrue(refused("metrics: {counters: [{name: x, help: h, labels: [{name: l, decoders: [{name: uint}]}]}]}")
                .contains("label \"l\": size is missing"));
        assertTrue(refused("metrics: {counters: [{name: x, help: h, labels: [{name: l, size: 8}]}]}")
                .contains("label \"l\": decoders is missing"));
        assertTrue(refused("metrics: {counters: [{name: x, help: h, labels: [{name: l, size: 8, decoders: []}]}]}")
                .contains("decoders is empty"));
        assertTrue(refused("metrics: {counters: [{name: x, help: h, labels: [{name: l, size: 8, decoders:"
                + " [{name: uint, regexps: [a]}]}]}]}").contains("regexps belongs to the regexp decoder"));
        assertTrue(refused("metrics: {counters: [{name: x, help: h, labels: [{name: l, size: 8, decoders:"
                + " [{name: regexp}]}]}]}").contains("regexps is missing"));
        assertTrue(refused("metrics: {counters: [{name: x, help: h, labels: [{name: l, size: 8, decoders:"
                + " [{name: static_map}]}]}]}").contains("static_map is missing"));
        assertTrue(refused("metrics: {counters: [{name: x, help: h, labels: [{name: l, size: 8, decoders:"
                + " [{name: uint, allow_unknown: true}]}]}]}").contains("allow_unknown belongs to the static_map decoder"));
    }

    @Test
    void badValues() {
        assertTrue(refused("metrics: {histograms: [{name: x, help: h, bucket_type: exp3, bucket_min: 0, bucket_max: 2,"
                + " labels: [{name: b, size: 8, decoders: [{name: uint}]}]}]}")
                .contains("bucket_type \"exp3\" is not one of exp2, exp2zero, linear, fixed"));
        assertTrue(refused("metrics: {histograms: [{name: x, help: h, bucket_type: exp2, bucket_min: 5, bucket_max: 5,"
                + " labels: [{name: b, size: 8, decoders: [{name: uint}]}]}]}")
                .contains("bucket_max (5) must be above bucket_min (5)"));
        assertTrue(refused("metrics: {histograms: [{name: x, help: h, bucket_type: exp2, bucket_min: 0.5, bucket_max: 5,"
                + " labels: [{name: b, size: 8, decoders: [{name: uint}]}]}]}")
                .contains("bucket_min must be an integer, not \"0.5\""));
        assertTrue(refused("metrics: {histograms: [{name: x, help: h, bucket_type: exp2, bucket_min: 0, bucket_max: 5,"
                + " bucket_multiplier: fast, labels: [{name: b, size: 8, decoders: [{name: uint}]}]}]}")
                .contains("bucket_multiplier must be a number, not \"fast\""));
        assertTrue(refused("metrics: {histograms: [{name: x, help: h, bucket_type: fixed, bucket_keys: [1, 5, 5],"
                + " labels: [{name: b, size: 8, decoders: [{name: uint}]}]}]}").contains("bucket_keys must increase"));
        assertTrue(refused("metrics: {counters: [{name: x, help: h, perf_event_array: maybe}]}")
                .contains("perf_event_array must be true or false, not \"maybe\""));
        assertTrue(refused("metrics: {counters: [{name: x, help: h, perf_event_array: true, flush_interval: soon}]}")
                .contains("flush_interval: not a duration"));
        assertTrue(refused("metrics: {counters: [{name: x, help: h, labels: [{name: l, size: 0, decoders: [{name: uint}]}]}]}")
                .contains("size must be between 1 and 65536, not 0"));
        assertTrue(refused("metrics: {counters: [{name: x, help: h, labels: [{name: l, size: 8, padding: -1,"
                + " decoders: [{name: uint}]}]}]}").contains("padding must be between 0 and 65536, not -1"));
        assertTrue(refused("metrics: {counters: [{name: x, help: h, labels: [{name: l, size: 8, decoders: [{name: base64}]}]}]}")
                .contains("unknown decoder \"base64\""));
        assertTrue(refused("metrics: {counters: [{name: x, help: h, labels: [{name: l, size: 8, decoders: [{name: regexp,"
                + " regexps: [\"(\"]}]}]}]}").contains("regexp \"(\" does not compile"));
        assertTrue(refused("metrics: {counters: [{name: 9lives, help: h}]}").contains("not a Prometheus metric name"));
        assertTrue(refused("metrics: {counters: [{name: x, help: h, labels: [{name: cpu.orig, size: 4, decoders:"
                + " [{name: uint}]}]}]}").contains("not a Prometheus label name"));
        assertTrue(refused("metrics: {counters: [{name: x, help: h, labels: [{name: a, size: 4, decoders: [{name: uint}]},"
                + " {name: a, size: 4, decoders: [{name: uint}]}]}]}").contains("a second label named \"a\""));
        assertTrue(refused("metrics: {histograms: [{name: x, help: h, bucket_type: exp2, bucket_min: 0, bucket_max: 2,"
                + " labels: [{name: le, size: 4, decoders: [{name: uint}]}, {name: b, size: 8, decoders: [{name: uint}]}]}]}")
                .contains("le is the histogram's bucket label"));
        assertTrue(refused("metrics: {counters: [{name: x, help: h}, {name: x, help: h2}]}")
                .contains("a second metric named \"x\""));
        assertTrue(refused("metrics: {counters: [{name: x, help: h, labels: {name: l}}]}").contains("labels must be a list"));
        assertTrue(refused("metrics: {counters: {name: x}}").contains("metrics.counters must be a list"));
        assertTrue(refused("metrics: {counters: [{name: x, help: h}]}\nkaddrs: [\"a b\"]").contains("kaddrs entry"));
    }

    @Test
    void partsOfTheFormatCgscopeDoesNotSupportAreRefusedWithTheReason() {
        String tracing = refused("""
                tracing:
                  spans:
                    - name: exec
                      ringbuf: exec_spans
                """);
        assertTrue(tracing.startsWith(YAML + ":1: tracing is not supported by cgscope"), tracing);
        String idMap = refused("""
                metrics:
                  counters:
                    - {name: x_total, help: h}
                cgroup_id_map:
                  name: cgroup_id_map
                  type: hash
                """);
        assertTrue(idMap.startsWith(YAML + ":4: cgroup_id_map is not supported by cgscope"), idMap);
    }

    @Test
    void notYamlEmptyAndDuplicateKeys() {
        assertTrue(refused("metrics: [").contains("not valid YAML"));
        assertTrue(refused("").contains("empty"));
        assertTrue(refused("metrics:\n  counters: []\n  counters: []\n").contains(":3: key \"counters\" twice in metrics"));
        assertTrue(refused("kaddrs: [a]\n").contains("no metrics"));
        assertTrue(refused("metrics: {}\n").contains("metrics has neither counters nor histograms"));
    }

    @Test
    void namesCollideAcrossConfigsAndWithCgscopesOwn() throws ConfigException {
        ProgramConfig a = parse("metrics: {histograms: [{name: lat, help: h, bucket_type: exp2, bucket_min: 0,"
                + " bucket_max: 2, labels: [{name: b, size: 8, decoders: [{name: uint}]}]}]}");
        ProgramConfig b = ProgramConfigs.parse("u", Path.of("/configs/u.yaml"), OBJECT,
                "metrics: {counters: [{name: lat_count, help: h}]}");
        String m = assertThrows(ConfigException.class, () -> ProgramConfigs.checkNames(List.of(a, b), "p_")).getMessage();
        assertTrue(m.startsWith("/configs/u.yaml:1: metric \"lat_count\" would be exported as p_lat_count, which is"
                + " already the metric of /configs/t.yaml:1"), m);
        ProgramConfig own = parse("metrics: {counters: [{name: program_up, help: h}]}");
        assertTrue(assertThrows(ConfigException.class, () -> ProgramConfigs.checkNames(List.of(own), "cgscope_user_"))
                .getMessage().contains("cgscope's own metric"));
        ProgramConfigs.checkNames(List.of(a, own), "ebpf_exporter_"); // another prefix: not cgscope's own
    }

    @Test
    void goDurationsAndYamlIntegers() {
        assertEquals(Duration.ofMillis(1500), YamlNodes.parseGoDuration("1.5s"));
        assertEquals(Duration.ofMinutes(61), YamlNodes.parseGoDuration("1h1m"));
        assertEquals(Duration.ofNanos(300_000), YamlNodes.parseGoDuration("300us"));
        assertThrows(IllegalArgumentException.class, () -> YamlNodes.parseGoDuration("5"));
        assertThrows(IllegalArgumentException.class, () -> YamlNodes.parseGoDuration("1h x"));
        assertEquals(16, YamlNodes.yamlInt("0x10").intValue());
        assertEquals(8, YamlNodes.yamlInt("010").intValue());
        assertEquals(-5, YamlNodes.yamlInt("-5").intValue());
        assertEquals(1000, YamlNodes.yamlInt("1_000").intValue());
    }

    // ---------------------------------------------------------------- files: --config.dir and --config.names

    @Test
    void theFlagsFindTheFilesAndRefuseMissingOnes(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("a.yaml"), "metrics: {counters: [{name: a_total, help: h}]}\n");
        Files.write(dir.resolve("a.bpf.o"), new byte[] {0x7f, 'E', 'L', 'F'});
        Config c = ((Flags.Run) Flags.parse("--config.dir=" + dir, "--config.names=a")).config();
        assertEquals(1, c.programs().size());
        assertEquals(dir.resolve("a.bpf.o"), c.programs().getFirst().object());
        assertEquals("cgscope_user_", c.metricPrefix());
        assertFalse(c.absoluteCgroupPaths());
        assertTrue(((Flags.Run) Flags.parse("--config.cgroup-paths=absolute")).config().absoluteCgroupPaths());

        assertRefused("--config.names=b needs nothing", "invalid value \"b\" for --config.names: needs --config.dir",
                "--config.names=b");
        assertRefused("no yaml", "--config.names=b: cannot read " + dir.resolve("b.yaml"),
                "--config.dir=" + dir, "--config.names=b");
        Files.writeString(dir.resolve("b.yaml"), "metrics: {counters: [{name: b_total, help: h}]}\n");
        assertRefused("no object", "--config.names=b: cannot read " + dir.resolve("b.bpf.o"),
                "--config.dir=" + dir, "--config.names=b");
        assertRefused("twice", "--config.names names \"a\" twice", "--config.dir=" + dir, "--config.names=a,a");
        assertRefused("a path", "invalid value \"../a\" in --config.names", "--config.dir=" + dir, "--config.names=../a");
        assertRefused("no dir", "invalid value \"" + dir.resolve("nope") + "\" for --config.dir: not a directory",
                "--config.dir=" + dir.resolve("nope"), "--config.names=a");
        assertRefused("prefix", "invalid value \"9x\" for --config.metric-prefix", "--config.metric-prefix=9x");
        assertRefused("paths", "invalid value \"both\" for --config.cgroup-paths", "--config.cgroup-paths=both");
        Files.writeString(dir.resolve("a.yaml"), "metrics: {counters: [{name: a_total, help: h, buckets: 2}]}\n");
        assertRefused("a bad file", dir.resolve("a.yaml") + ":1: unknown key \"buckets\" in a counter",
                "--config.dir=" + dir, "--config.names=a");
    }

    private static void assertRefused(String what, String expectedStart, String... args) {
        String m = assertThrows(ConfigException.class, () -> Flags.parse(args), what).getMessage();
        assertTrue(m.startsWith(expectedStart), what + ": " + m);
        assertFalse(m.contains("\n"), what + ": one line");
    }

    @Test
    void theExamplesShippedWithCgscopeParse() throws IOException, ConfigException {
        Path examples = Path.of("examples");
        try (var files = Files.list(examples)) {
            for (Path yaml : files.filter(p -> p.toString().endsWith(".yaml")).toList()) {
                String name = yaml.getFileName().toString().replace(".yaml", "");
                ProgramConfig c = ProgramConfigs.parse(name, yaml, examples.resolve(name + ".bpf.o"), Files.readString(yaml));
                assertFalse(c.metrics().isEmpty(), name);
            }
        }
    }
}
