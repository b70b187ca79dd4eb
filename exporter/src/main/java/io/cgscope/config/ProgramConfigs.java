package io.cgscope.config;

import io.cgscope.config.ProgramConfig.BucketType;
import io.cgscope.config.ProgramConfig.DecoderSpec;
import io.cgscope.config.ProgramConfig.Histogram;
import io.cgscope.config.ProgramConfig.Kind;
import io.cgscope.config.ProgramConfig.Label;
import io.cgscope.config.ProgramConfig.Metric;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;

import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Reads ebpf_exporter configuration files ({@code --config.dir}/{@code NAME.yaml}), as its README
 * documents the format, and refuses whatever it does not know: an unknown or misplaced key, a
 * missing required one, a value of the wrong type, a name Prometheus would refuse. Each problem
 * is one line naming the file, the line and the key ({@code cgroup-syscalls.yaml:14: unknown key
 * "bucket_mn" in histogram "write_bytes" (known: ...)}), and cgscope exits with status 2 before
 * anything is loaded. SnakeYAML's node API keeps the positions; nothing is built by reflection.
 *
 * <p>Two parts of the format are known but refused, with the reason: {@code tracing} (spans for
 * OpenTelemetry: cgscope exports metrics only) and {@code cgroup_id_map} (not in the README's format).
 *
 * <p>Over 400 lines because the format is checked where it is read: one method per kind of entry
 * (config, counter, histogram, label, decoder), each with its keys, its required ones and its
 * messages; the typed reads of nodes are {@link YamlNodes}'.
 */
public final class ProgramConfigs {
    /** Every decoder ebpf_exporter's README documents, plus {@code kstack} (in its examples). */
    public static final Set<String> DECODERS = Set.of("cgroup", "dname", "errno", "hex", "ifname", "inet_ip",
            "kstack", "ksym", "majorminor", "pci_class", "pci_device", "pci_subclass", "pci_vendor", "regexp",
            "static_map", "string", "syscall", "uint");
    private static final List<String> TOP = List.of("metrics", "kaddrs", "tracing", "cgroup_id_map");
    private static final List<String> METRICS = List.of("counters", "histograms");
    private static final List<String> COUNTER = List.of("name", "help", "perf_event_array", "flush_interval", "labels");
    private static final List<String> HISTOGRAM = List.of("name", "help", "bucket_type", "bucket_multiplier",
            "bucket_min", "bucket_max", "bucket_keys", "labels");
    private static final List<String> LABEL = List.of("name", "size", "padding", "decoders");
    private static final List<String> DECODER = List.of("name", "static_map", "allow_unknown", "regexps");
    private static final Pattern METRIC_NAME = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*");
    private static final Pattern LABEL_NAME = Pattern.compile("[a-zA-Z_][a-zA-Z0-9_]*");
    private static final Pattern CONFIG_NAME = Pattern.compile("[A-Za-z0-9_.][A-Za-z0-9_.-]*");
    /** The largest key a label can describe: BPF map keys are at most a few KB anyway. */
    private static final int MAX_SIZE = 1 << 16;

    private final Path file;
    private final String where;
    private final YamlNodes y;

    private ProgramConfigs(Path file) {
        this.file = file;
        this.where = file.toString();
        this.y = new YamlNodes(file);
    }

    /**
     * Reads {@code DIR/NAME.yaml} for each name and checks that {@code DIR/NAME.bpf.o} is readable.
     *
     * @throws ConfigException one line naming the flag or the file and line
     */
    public static List<ProgramConfig> load(Path dir, List<String> names) throws ConfigException {
        List<ProgramConfig> out = new ArrayList<>();
        Set<String> seen = new LinkedHashSet<>();
        for (String name : names) {
            if (!CONFIG_NAME.matcher(name).matches()) {
                throw new ConfigException("invalid value \"" + name + "\" in --config.names: a config name is a file"
                        + " name without its .yaml (letters, digits, '.', '_', '-')");
            }
            if (!seen.add(name)) {
                throw new ConfigException("--config.names names \"" + name + "\" twice");
            }
            Path yaml = dir.resolve(name + ".yaml");
            Path object = dir.resolve(name + ".bpf.o");
            if (!Files.isReadable(yaml)) {
                throw new ConfigException("--config.names=" + name + ": cannot read " + yaml);
            }
            if (!Files.isReadable(object)) {
                throw new ConfigException("--config.names=" + name + ": cannot read " + object
                        + " (compile NAME.bpf.c with clang -target bpf, see the README)");
            }
            String text;
            try {
                text = Files.readString(yaml, StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new ConfigException(yaml + ": cannot read: " + e.getMessage());
            }
            out.add(parse(name, yaml, object, text));
        }
        return List.copyOf(out);
    }

    /** The families cgscope itself exports about user programs (README, "Bringing ebpf_exporter programs"). */
    public static final List<String> OWN_FAMILIES = List.of("cgscope_user_config_up", "cgscope_user_program_up",
            "cgscope_user_program_run_seconds_total", "cgscope_user_program_runs_total",
            "cgscope_user_decoder_errors_total", "cgscope_user_unresolved_ids", "cgscope_user_perf_events_lost_total",
            "cgscope_user_scrape_errors_total");

    /**
     * Refuses two metrics that would expose the same name once prefixed (across configs, and a
     * histogram's {@code _bucket}, {@code _count}, {@code _sum}), or one of cgscope's own.
     */
    public static void checkNames(List<ProgramConfig> programs, String prefix) throws ConfigException {
        Map<String, String> taken = new LinkedHashMap<>();
        for (String own : OWN_FAMILIES) {
            taken.put(own, "cgscope's own metric");
        }
        for (ProgramConfig p : programs) {
            for (Metric m : p.metrics()) {
                String full = prefix + m.name();
                List<String> exposed = m.kind() == Kind.HISTOGRAM
                        ? List.of(full, full + "_bucket", full + "_count", full + "_sum") : List.of(full);
                for (String name : exposed) {
                    String owner = taken.putIfAbsent(name, p.yaml() + ":" + m.line());
                    if (owner != null) {
                        throw new ConfigException(p.yaml() + ":" + m.line() + ": metric \"" + m.name() + "\" would be"
                                + " exported as " + name + ", which is already " + (owner.startsWith("cgscope's")
                                ? owner : "the metric of " + owner) + " (--config.metric-prefix=" + prefix + ")");
                    }
                }
            }
        }
    }

    /** Parses one file's text (tests give it directly). */
    public static ProgramConfig parse(String name, Path yaml, Path object, String text) throws ConfigException {
        return new ProgramConfigs(yaml).config(name, object, text);
    }

    private ProgramConfig config(String name, Path object, String text) throws ConfigException {
        Node root;
        try {
            root = new Yaml(new SafeConstructor(new LoaderOptions())).compose(new StringReader(text));
        } catch (MarkedYAMLException e) {
            int line = e.getProblemMark() != null ? e.getProblemMark().getLine() + 1 : 1;
            throw new ConfigException(where + ":" + line + ": not valid YAML: " + e.getProblem());
        } catch (YAMLException e) {
            throw new ConfigException(where + ": not valid YAML: " + e.getMessage().replace('\n', ' '));
        }
        if (root == null) {
            throw new ConfigException(where + ": empty: a config needs metrics (counters or histograms)");
        }
        Map<String, NodeTuple> top = y.mapping(root, "the top level", TOP);
        if (top.containsKey("tracing")) {
            throw y.bad(top.get("tracing").getKeyNode(), "tracing is not supported by cgscope (it exports metrics,"
                    + " not OpenTelemetry spans): remove the tracing section or use ebpf_exporter for it");
        }
        if (top.containsKey("cgroup_id_map")) {
            throw y.bad(top.get("cgroup_id_map").getKeyNode(), "cgroup_id_map is not supported by cgscope (it is not"
                    + " part of the format ebpf_exporter's README documents)");
        }
        if (!top.containsKey("metrics")) {
            throw y.bad(root, "no metrics: a config needs metrics.counters or metrics.histograms");
        }
        Node metricsNode = top.get("metrics").getValueNode();
        Map<String, NodeTuple> metrics = y.mapping(metricsNode, "metrics", METRICS);
        List<Metric> out = new ArrayList<>();
        Set<String> names = new LinkedHashSet<>();
        if (metrics.containsKey("counters")) {
            for (Node n : y.sequence(metrics.get("counters").getValueNode(), "metrics.counters")) {
                out.add(counter(n));
            }
        }
        if (metrics.containsKey("histograms")) {
            for (Node n : y.sequence(metrics.get("histograms").getValueNode(), "metrics.histograms")) {
                out.add(histogram(n));
            }
        }
        if (out.isEmpty()) {
            throw y.bad(metricsNode, "metrics has neither counters nor histograms");
        }
        for (Metric m : out) {
            if (!names.add(m.name())) {
                throw new ConfigException(where + ":" + m.line() + ": a second metric named \"" + m.name()
                        + "\" (each metric reads the map of its name)");
            }
        }
        List<String> kaddrs = new ArrayList<>();
        if (top.containsKey("kaddrs")) {
            for (Node n : y.sequence(top.get("kaddrs").getValueNode(), "kaddrs")) {
                String sym = y.scalar(n, "a kaddrs entry");
                if (sym.isEmpty() || sym.chars().anyMatch(Character::isWhitespace)) {
                    throw y.bad(n, "kaddrs entry \"" + sym + "\" is not a kernel symbol name");
                }
                kaddrs.add(sym);
            }
        }
        return new ProgramConfig(name, file, object, List.copyOf(out), List.copyOf(kaddrs));
    }

    private Metric counter(Node node) throws ConfigException {
        Map<String, NodeTuple> m = y.mapping(node, "a counter", COUNTER);
        String name = metricName(m, node, "counter");
        String what = "counter \"" + name + "\"";
        String help = y.required(m, node, "help", what);
        boolean perf = m.containsKey("perf_event_array") && y.bool(m.get("perf_event_array").getValueNode(),
                what + ": perf_event_array");
        Duration flush = null;
        if (m.containsKey("flush_interval")) {
            if (!perf) {
                throw y.bad(m.get("flush_interval").getKeyNode(), what + ": flush_interval needs perf_event_array: true");
            }
            flush = y.goDuration(m.get("flush_interval").getValueNode(), what + ": flush_interval");
        }
        List<Label> labels = labels(m, what, false);
        return new Metric(Kind.COUNTER, name, help, perf, flush, labels, null, y.line(node));
    }

    private Metric histogram(Node node) throws ConfigException {
        Map<String, NodeTuple> m = y.mapping(node, "a histogram", HISTOGRAM);
        String name = metricName(m, node, "histogram");
        String what = "histogram \"" + name + "\"";
        String help = y.required(m, node, "help", what);
        String typeText = y.required(m, node, "bucket_type", what);
        BucketType type = null;
        for (BucketType t : BucketType.values()) {
            if (t.yaml.equals(typeText)) {
                type = t;
            }
        }
        if (type == null) {
            throw y.bad(m.get("bucket_type").getValueNode(), what + ": bucket_type \"" + typeText
                    + "\" is not one of exp2, exp2zero, linear, fixed");
        }
        double multiplier = 1;
        if (m.containsKey("bucket_multiplier")) {
            Node v = m.get("bucket_multiplier").getValueNode();
            multiplier = y.number(v, what + ": bucket_multiplier");
            if (multiplier == 0) {
                multiplier = 1; // ebpf_exporter's default for 0 or unset
            }
            if (multiplier < 0 || Double.isNaN(multiplier) || Double.isInfinite(multiplier)) {
                throw y.bad(v, what + ": bucket_multiplier must be a positive number");
            }
        }
        long min = 0;
        long max = 0;
        List<Double> keys = List.of();
        if (type == BucketType.FIXED) {
            if (!m.containsKey("bucket_keys")) {
                throw y.bad(node, what + ": bucket_type fixed needs bucket_keys");
            }
            // bucket_min/bucket_max are accepted (ebpf_exporter's schema asks for them) and unused.
            List<Double> ks = new ArrayList<>();
            for (Node k : y.sequence(m.get("bucket_keys").getValueNode(), what + ": bucket_keys")) {
                double key = y.number(k, what + ": a bucket_keys entry");
                if (!ks.isEmpty() && key <= ks.getLast()) {
                    throw y.bad(k, what + ": bucket_keys must increase (" + key + " after " + ks.getLast() + ")");
                }
                ks.add(key);
            }
            if (ks.isEmpty()) {
                throw y.bad(m.get("bucket_keys").getValueNode(), what + ": bucket_keys is empty");
            }
            keys = List.copyOf(ks);
        } else {
            if (m.containsKey("bucket_keys")) {
                throw y.bad(m.get("bucket_keys").getKeyNode(), what + ": bucket_keys is for bucket_type fixed only");
            }
            for (String k : List.of("bucket_min", "bucket_max")) {
                if (!m.containsKey(k)) {
                    throw y.bad(node, what + ": bucket_type " + type.yaml + " needs " + k);
                }
            }
            min = y.integer(m.get("bucket_min").getValueNode(), what + ": bucket_min", -4096, 1L << 40);
            max = y.integer(m.get("bucket_max").getValueNode(), what + ": bucket_max", -4096, 1L << 40);
            if (max <= min) {
                throw y.bad(m.get("bucket_max").getValueNode(), what + ": bucket_max (" + max
                        + ") must be above bucket_min (" + min + ")");
            }
            if (max - min > 4096) {
                throw y.bad(m.get("bucket_max").getValueNode(), what + ": more than 4096 buckets");
            }
        }
        List<Label> labels = labels(m, what, true);
        if (labels.isEmpty()) {
            throw y.bad(node, what + ": needs labels, the last of which is the bucket key");
        }
        return new Metric(Kind.HISTOGRAM, name, help, false, null, labels,
                new Histogram(type, multiplier, min, max, keys), y.line(node));
    }

    private String metricName(Map<String, NodeTuple> m, Node node, String kind) throws ConfigException {
        String name = y.required(m, node, "name", "a " + kind);
        if (!METRIC_NAME.matcher(name).matches()) {
            throw y.bad(m.get("name").getValueNode(), kind + " name \"" + name
                    + "\" is not a Prometheus metric name ([a-zA-Z_:][a-zA-Z0-9_:]*)");
        }
        return name;
    }

    private List<Label> labels(Map<String, NodeTuple> m, String what, boolean histogram) throws ConfigException {
        if (!m.containsKey("labels")) {
            return List.of();
        }
        List<Label> out = new ArrayList<>();
        Set<String> names = new LinkedHashSet<>();
        List<Node> nodes = y.sequence(m.get("labels").getValueNode(), what + ": labels");
        for (int i = 0; i < nodes.size(); i++) {
            Node n = nodes.get(i);
            Map<String, NodeTuple> l = y.mapping(n, what + ": a label", LABEL);
            String name = y.required(l, n, "name", what + ": a label");
            String lwhat = what + ": label \"" + name + "\"";
            boolean bucket = histogram && i == nodes.size() - 1;
            if (!LABEL_NAME.matcher(name).matches() || name.startsWith("__")) {
                throw y.bad(l.get("name").getValueNode(), lwhat + ": not a Prometheus label name"
                        + " ([a-zA-Z_][a-zA-Z0-9_]*, not starting with __)");
            }
            if (histogram && !bucket && name.equals("le")) {
                throw y.bad(l.get("name").getValueNode(), lwhat + ": le is the histogram's bucket label");
            }
            if (!bucket && !names.add(name)) {
                throw y.bad(l.get("name").getValueNode(), what + ": a second label named \"" + name + "\"");
            }
            if (!l.containsKey("size")) {
                throw y.bad(n, lwhat + ": size is missing (the field's bytes in the map key)");
            }
            int size = (int) y.integer(l.get("size").getValueNode(), lwhat + ": size", 1, MAX_SIZE);
            int padding = l.containsKey("padding")
                    ? (int) y.integer(l.get("padding").getValueNode(), lwhat + ": padding", 0, MAX_SIZE) : 0;
            if (!l.containsKey("decoders")) {
                throw y.bad(n, lwhat + ": decoders is missing (at least one, e.g. uint)");
            }
            List<DecoderSpec> decoders = new ArrayList<>();
            for (Node d : y.sequence(l.get("decoders").getValueNode(), lwhat + ": decoders")) {
                decoders.add(decoder(d, lwhat));
            }
            if (decoders.isEmpty()) {
                throw y.bad(l.get("decoders").getValueNode(), lwhat + ": decoders is empty (at least one, e.g. uint)");
            }
            if (decoders.stream().filter(d -> d.name().equals("cgroup")).count() > 1) {
                throw y.bad(n, lwhat + ": more than one cgroup decoder");
            }
            out.add(new Label(name, size, padding, List.copyOf(decoders), y.line(n)));
        }
        return List.copyOf(out);
    }

    private DecoderSpec decoder(Node node, String what) throws ConfigException {
        Map<String, NodeTuple> d = y.mapping(node, what + ": a decoder", DECODER);
        String name = y.required(d, node, "name", what + ": a decoder");
        if (!DECODERS.contains(name)) {
            throw y.bad(d.get("name").getValueNode(), what + ": unknown decoder \"" + name + "\" (known: "
                    + String.join(", ", DECODERS.stream().sorted().toList()) + ")");
        }
        String dwhat = what + ": decoder " + name;
        for (String option : List.of("static_map", "allow_unknown", "regexps")) {
            String owner = option.equals("regexps") ? "regexp" : "static_map";
            if (d.containsKey(option) && !name.equals(owner)) {
                throw y.bad(d.get(option).getKeyNode(), dwhat + ": " + option + " belongs to the " + owner + " decoder");
            }
        }
        Map<String, String> staticMap = Map.of();
        boolean allowUnknown = false;
        List<Pattern> regexps = List.of();
        if (name.equals("static_map")) {
            if (!d.containsKey("static_map")) {
                throw y.bad(node, dwhat + ": static_map is missing (input -> label value)");
            }
            Map<String, String> sm = new LinkedHashMap<>();
            Node mapNode = d.get("static_map").getValueNode();
            for (NodeTuple t : y.tuples(mapNode, dwhat + ": static_map")) {
                String key = y.text(t.getKeyNode(), dwhat + ": a static_map key");
                if (sm.put(key, y.text(t.getValueNode(), dwhat + ": static_map value of " + key)) != null) {
                    throw y.bad(t.getKeyNode(), dwhat + ": static_map has the key " + key + " twice");
                }
            }
            staticMap = Map.copyOf(sm);
            allowUnknown = d.containsKey("allow_unknown") && y.bool(d.get("allow_unknown").getValueNode(),
                    dwhat + ": allow_unknown");
        }
        if (name.equals("regexp")) {
            if (!d.containsKey("regexps")) {
                throw y.bad(node, dwhat + ": regexps is missing (the patterns a value must match)");
            }
            List<Pattern> ps = new ArrayList<>();
            for (Node r : y.sequence(d.get("regexps").getValueNode(), dwhat + ": regexps")) {
                ps.add(regexp(r, dwhat));
            }
            if (ps.isEmpty()) {
                throw y.bad(d.get("regexps").getValueNode(), dwhat + ": regexps is empty");
            }
            regexps = List.copyOf(ps);
        }
        return new DecoderSpec(name, staticMap, allowUnknown, regexps, y.line(node));
    }

    /**
     * A Go (RE2) pattern as a Java one: the syntax of the two agrees for what configs use
     * (anchors, classes, groups, repetition); Go's named group {@code (?P<name>...)} is Java's
     * {@code (?<name>...)}. RE2 has no backreferences or lookaround, so those cannot appear.
     */
    private Pattern regexp(Node node, String what) throws ConfigException {
        String expr = y.text(node, what + ": a regexps entry");
        try {
            return Pattern.compile(expr.replace("(?P<", "(?<"));
        } catch (PatternSyntaxException e) {
            throw y.bad(node, what + ": regexp \"" + expr + "\" does not compile: " + e.getDescription());
        }
    }
}
