package io.cgscope.config;

import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;
import org.yaml.snakeyaml.nodes.Tag;

import java.math.BigInteger;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Typed reads of SnakeYAML's nodes for {@link ProgramConfigs}, each failure one
 * {@link ConfigException} naming the file and the node's line: mappings with known keys only,
 * lists, scalars as text, integers, numbers and booleans the way YAML 1.1 resolves them (the
 * YAML ebpf_exporter's Go library reads), Go durations.
 */
final class YamlNodes {
    private static final Pattern GO_DURATION = Pattern.compile("(\\d+(?:\\.\\d*)?|\\.\\d+)(ns|us|µs|μs|ms|s|m|h)");

    private final String where;

    YamlNodes(Path file) {
        this.where = file.toString();
    }


    /** A mapping's entries by key, each key known and given once. */
    Map<String, NodeTuple> mapping(Node node, String what, List<String> known) throws ConfigException {
        Map<String, NodeTuple> out = new LinkedHashMap<>();
        for (NodeTuple t : tuples(node, what)) {
            String key = text(t.getKeyNode(), "a key of " + what);
            if (!known.contains(key)) {
                throw bad(t.getKeyNode(), "unknown key \"" + key + "\" in " + what + " (known: "
                        + String.join(", ", known) + ")");
            }
            if (out.put(key, t) != null) {
                throw bad(t.getKeyNode(), "key \"" + key + "\" twice in " + what);
            }
        }
        return out;
    }

    List<NodeTuple> tuples(Node node, String what) throws ConfigException {
        if (!(node instanceof MappingNode m)) {
            throw bad(node, what + " must be a mapping (key: value)");
        }
        return m.getValue();
    }

    List<Node> sequence(Node node, String what) throws ConfigException {
        if (node instanceof ScalarNode s && s.getTag().equals(Tag.NULL)) {
            return List.of(); // "counters:" with nothing under it
        }
        if (!(node instanceof SequenceNode s)) {
            throw bad(node, what + " must be a list");
        }
        return s.getValue();
    }

    String required(Map<String, NodeTuple> m, Node owner, String key, String what) throws ConfigException {
        if (!m.containsKey(key)) {
            throw bad(owner, what + ": " + key + " is missing");
        }
        String v = scalar(m.get(key).getValueNode(), what + ": " + key);
        if (v.isEmpty()) {
            throw bad(m.get(key).getValueNode(), what + ": " + key + " is empty");
        }
        return v;
    }

    /** A scalar's text as written (null as empty). */
    String scalar(Node node, String what) throws ConfigException {
        if (!(node instanceof ScalarNode s)) {
            throw bad(node, what + " must be a single value");
        }
        return s.getTag().equals(Tag.NULL) ? "" : s.getValue();
    }

    /**
     * A scalar as ebpf_exporter's YAML library gives it to a string field: integers in their
     * decimal form ({@code 0x10} is {@code 16}), everything else as written.
     */
    String text(Node node, String what) throws ConfigException {
        String v = scalar(node, what);
        if (node.getTag().equals(Tag.INT)) {
            BigInteger n = yamlInt(v);
            if (n != null) {
                return n.toString();
            }
        }
        return v;
    }

    long integer(Node node, String what, long min, long max) throws ConfigException {
        String v = scalar(node, what);
        BigInteger n = node.getTag().equals(Tag.INT) ? yamlInt(v) : null;
        if (n == null) {
            throw bad(node, what + " must be an integer, not \"" + v + "\"");
        }
        if (n.compareTo(BigInteger.valueOf(min)) < 0 || n.compareTo(BigInteger.valueOf(max)) > 0) {
            throw bad(node, what + " must be between " + min + " and " + max + ", not " + n);
        }
        return n.longValue();
    }

    double number(Node node, String what) throws ConfigException {
        String v = scalar(node, what);
        if (node.getTag().equals(Tag.INT)) {
            BigInteger n = yamlInt(v);
            if (n != null) {
                return n.doubleValue();
            }
        }
        if (node.getTag().equals(Tag.FLOAT)) {
            try {
                return Double.parseDouble(v.replace("_", ""));
            } catch (NumberFormatException e) {
                // below
            }
        }
        throw bad(node, what + " must be a number, not \"" + v + "\"");
    }

    boolean bool(Node node, String what) throws ConfigException {
        String v = scalar(node, what).toLowerCase(Locale.ROOT);
        if (node.getTag().equals(Tag.BOOL)) {
            switch (v) {
                case "true", "yes", "on", "y" -> {
                    return true;
                }
                case "false", "no", "off", "n" -> {
                    return false;
                }
                default -> {
                }
            }
        }
        throw bad(node, what + " must be true or false, not \"" + v + "\"");
    }

    /** A Go duration ({@code 300ms}, {@code 1m30s}, {@code 1.5h}), as ebpf_exporter's {@code flush_interval} takes. */
    Duration goDuration(Node node, String what) throws ConfigException {
        String v = scalar(node, what);
        try {
            Duration d = parseGoDuration(v);
            if (d.isNegative() || d.isZero()) {
                throw bad(node, what + " must be positive, not \"" + v + "\"");
            }
            return d;
        } catch (IllegalArgumentException e) {
            throw bad(node, what + ": " + e.getMessage());
        }
    }

    /** Go's {@code time.ParseDuration} for non-negative values. */
    static Duration parseGoDuration(String text) {
        if (text.equals("0")) {
            return Duration.ZERO;
        }
        Matcher m = GO_DURATION.matcher(text);
        int at = 0;
        double nanos = 0;
        while (at < text.length() && m.find(at) && m.start() == at) {
            double n = Double.parseDouble(m.group(1));
            nanos += n * switch (m.group(2)) {
                case "ns" -> 1;
                case "us", "µs", "μs" -> 1e3;
                case "ms" -> 1e6;
                case "s" -> 1e9;
                case "m" -> 60e9;
                default -> 3600e9;
            };
            at = m.end();
        }
        if (at == 0 || at != text.length()) {
            throw new IllegalArgumentException("not a duration (like 30s, 1m30s, 1h): \"" + text + "\"");
        }
        return Duration.ofNanos(Math.round(nanos));
    }

    /** A YAML 1.1 integer as SnakeYAML resolves it: decimal, 0x hex, 0 octal, 0b binary, underscores, a sign. */
    static BigInteger yamlInt(String text) {
        String v = text.replace("_", "");
        boolean negative = v.startsWith("-");
        if (negative || v.startsWith("+")) {
            v = v.substring(1);
        }
        try {
            BigInteger n;
            if (v.startsWith("0x") || v.startsWith("0X")) {
                n = new BigInteger(v.substring(2), 16);
            } else if (v.startsWith("0b")) {
                n = new BigInteger(v.substring(2), 2);
            } else if (v.startsWith("0o")) {
                n = new BigInteger(v.substring(2), 8);
            } else if (v.length() > 1 && v.startsWith("0")) {
                n = new BigInteger(v.substring(1), 8);
            } else if (v.contains(":")) {
                return null; // sexagesimal (1:30): nobody means that in these files
            } else {
                n = new BigInteger(v);
            }
            return negative ? n.negate() : n;
        } catch (NumberFormatException e) {
            return null;
        }
    }

    static int line(Node node) {
        return node.getStartMark() == null ? 0 : node.getStartMark().getLine() + 1;
    }

    ConfigException bad(Node node, String message) {
        return new ConfigException(where + ":" + line(node) + ": " + message);
    }
}
