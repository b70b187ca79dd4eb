package io.cgscope.dashboards;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A Grafana dashboard JSON model as the tests read it: its panels (rows' nested panels too), their
 * targets, its template variables, and Grafana's interpolation of variables into PromQL.
 */
record Dashboard(Path file, JsonObject json) {

    /** The repository's {@code dashboards/} folder (tests run in {@code exporter/}). */
    static final Path DIR = Path.of("..", "dashboards").toAbsolutePath().normalize();

    /** The dashboard files, by name. */
    static final List<String> FILES = List.of("cgscope-overview.json", "cgscope-cgroup.json", "cgscope-pod.json");

    /** The data source every panel and target must name: the {@code datasource} variable. */
    static final JsonObject DATASOURCE_VARIABLE = new JsonObject().put("type", "prometheus").put("uid", "${datasource}");

    /** Grafana's global variables, with what a 1 s scrape interval would give them. */
    static final Map<String, String> BUILT_INS = Map.of(
            "__rate_interval", "10s", // max($__interval + scrape interval, 4 x scrape interval), with some margin
            "__interval", "2s",
            "__interval_ms", "2000",
            "__range", "1m",
            "__range_s", "60",
            "__range_ms", "60000");

    record Target(Panel panel, String refId, String expr, String legendFormat, JsonObject json) {
    }

    record Panel(int id, String type, String title, JsonObject json) {
        boolean isRow() {
            return "row".equals(type);
        }

        List<Target> targets() {
            List<Target> out = new ArrayList<>();
            JsonArray targets = json.getJsonArray("targets", new JsonArray());
            for (int i = 0; i < targets.size(); i++) {
                JsonObject t = targets.getJsonObject(i);
                out.add(new Target(this, t.getString("refId"), t.getString("expr"), t.getString("legendFormat", ""), t));
            }
            return out;
        }
    }

    /** A template variable; {@code allValue} is what "All" stands for. */
    record Variable(String name, String type, boolean multi, boolean includeAll, String allValue, JsonObject json) {
        /** Grafana quotes multi-value and "All" variables as regular expressions (Prometheus data source). */
        boolean regexFormatted() {
            return multi || includeAll;
        }
    }

    static Dashboard load(String name) {
        Path file = DIR.resolve(name);
        try {
            return new Dashboard(file, new JsonObject(Files.readString(file)));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static List<Dashboard> all() {
        return FILES.stream().map(Dashboard::load).toList();
    }

    String name() {
        return file.getFileName().toString();
    }

    String uid() {
        return json.getString("uid");
    }

    /** Every panel, rows first as they appear, the panels inside collapsed rows after their row. */
    List<Panel> panels() {
        List<Panel> out = new ArrayList<>();
        JsonArray panels = json.getJsonArray("panels", new JsonArray());
        for (int i = 0; i < panels.size(); i++) {
            JsonObject p = panels.getJsonObject(i);
            out.add(panel(p));
            JsonArray nested = p.getJsonArray("panels", new JsonArray());
            for (int j = 0; j < nested.size(); j++) {
                out.add(panel(nested.getJsonObject(j)));
            }
        }
        return out;
    }

    private static Panel panel(JsonObject p) {
        return new Panel(p.getInteger("id", -1), p.getString("type"), p.getString("title", ""), p);
    }

    List<Target> targets() {
        return panels().stream().filter(p -> !p.isRow()).flatMap(p -> p.targets().stream()).toList();
    }

    List<Variable> variables() {
        List<Variable> out = new ArrayList<>();
        JsonArray list = json.getJsonObject("templating", new JsonObject()).getJsonArray("list", new JsonArray());
        for (int i = 0; i < list.size(); i++) {
            JsonObject v = list.getJsonObject(i);
            out.add(new Variable(v.getString("name"), v.getString("type"), v.getBoolean("multi", false),
                    v.getBoolean("includeAll", false), v.getString("allValue"), v));
        }
        return out;
    }

    Optional<Variable> variable(String name) {
        return variables().stream().filter(v -> v.name().equals(name)).findFirst();
    }

    /** The selected value of a custom variable ({@code current.value}). */
    static String currentValue(Variable v) {
        Object value = v.json().getJsonObject("current", new JsonObject()).getValue("value");
        return value instanceof JsonArray a ? a.getString(0) : (String) value;
    }

    // $name, ${name}, ${name:format}, [[name]], [[name:format]]
    private static final Pattern VARIABLE_REFERENCE =
            Pattern.compile("\\$(\\w+)|\\$\\{(\\w+)(?::(\\w+))?}|\\[\\[(\\w+)(?::(\\w+))?]]");

    /** The names of the variables an expression refers to. */
    static List<String> references(String expr) {
        List<String> names = new ArrayList<>();
        Matcher m = VARIABLE_REFERENCE.matcher(expr);
        while (m.find()) {
            names.add(m.group(1) != null ? m.group(1) : m.group(2) != null ? m.group(2) : m.group(4));
        }
        return names;
    }

    /**
     * Interpolates an expression as Grafana's Prometheus data source does: built-ins as given,
     * multi-value and "All" variables regex-escaped ({@code prometheusSpecialRegexEscape}), "All"
     * as the variable's {@code allValue}, single-value variables as they are
     * ({@code prometheusRegularEscape}). A value of {@code null} selects "All". An unknown
     * variable, or a format other than the default, is an error.
     */
    String interpolate(String expr, Map<String, String> values) {
        Matcher m = VARIABLE_REFERENCE.matcher(expr);
        StringBuilder sb = new StringBuilder();
        while (m.find()) {
            String name = m.group(1) != null ? m.group(1) : m.group(2) != null ? m.group(2) : m.group(4);
            String format = m.group(3) != null ? m.group(3) : m.group(5);
            if (format != null) {
                throw new IllegalArgumentException(name() + ": format :" + format + " of $" + name
                        + " is not checked by this test (and :regex breaks PromQL string escapes)");
            }
            String replacement;
            if (BUILT_INS.containsKey(name)) {
                replacement = BUILT_INS.get(name);
            } else {
                Variable v = variable(name).orElseThrow(
                        () -> new IllegalArgumentException(name() + ": $" + name + " is not a variable of the dashboard"));
                String value = values.containsKey(name) ? values.get(name) : currentValue(v);
                if (value == null || "$__all".equals(value)) {
                    if (!v.includeAll()) {
                        throw new IllegalArgumentException(name() + ": $" + name + " has no All");
                    }
                    replacement = v.allValue();
                } else {
                    replacement = v.regexFormatted() ? specialRegexEscape(value) : regularEscape(value);
                }
            }
            m.appendReplacement(sb, Matcher.quoteReplacement(replacement));
        }
        m.appendTail(sb);
        return sb.toString();
    }

    /** Grafana's {@code prometheusSpecialRegexEscape}: a regex in a PromQL string literal. */
    static String specialRegexEscape(String value) {
        return value.replace("\\", "\\\\\\\\").replaceAll("[$^*{}\\[\\]'+?.()|]", "\\\\\\\\$0");
    }

    /** Grafana's {@code prometheusRegularEscape}. */
    static String regularEscape(String value) {
        return value.replace("\\", "\\\\").replace("'", "\\\\'");
    }

    /** The expression with its string literals blanked, so brackets inside regexes do not count. */
    static String withoutStrings(String expr) {
        return expr.replaceAll("\"(?:[^\"\\\\]|\\\\.)*\"|'(?:[^'\\\\]|\\\\.)*'", "\"\"");
    }

    private static final Pattern CGSCOPE_NAME = Pattern.compile("\\bcgscope_[a-zA-Z0-9_]+");
    private static final Pattern SELECTOR_NAME = Pattern.compile("([a-zA-Z_:][a-zA-Z0-9_:]*)\\s*\\{");

    /** The metric names in a PromQL expression: cgscope's, and any name followed by a selector. */
    static List<String> metricNames(String expr) {
        String bare = withoutStrings(expr);
        List<String> names = new ArrayList<>();
        Matcher m = CGSCOPE_NAME.matcher(bare);
        while (m.find()) {
            names.add(m.group());
        }
        m = SELECTOR_NAME.matcher(bare);
        while (m.find()) {
            if (!names.contains(m.group(1))) {
                names.add(m.group(1));
            }
        }
        return names;
    }
}
