package io.cgscope.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The Prometheus text format 0.0.4 as a scrape returns it, parsed strictly: every line is a
 * HELP, a TYPE or a sample; every sample belongs to the family declared just before it (by
 * name, or with {@code _total}, {@code _bucket}, {@code _count}, {@code _sum} as its type allows);
 * label values use only the format's escapes; no series appears twice; a family is declared once.
 * {@link #promtool(String)} runs {@code promtool check metrics} (its parser and linter) on a body.
 */
public final class Exposition {
    private static final Pattern NAME = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*");
    private static final Pattern LABEL = Pattern.compile("[a-zA-Z_][a-zA-Z0-9_]*");

    /** One sample: its name, its labels in order, its value. */
    public record Sample(String name, Map<String, String> labels, double value) {
        public String label(String key) {
            return labels.get(key);
        }
    }

    private Exposition() {
    }

    /** Parses a body; throws {@link IllegalArgumentException} naming the line at the first violation. */
    public static List<Sample> parse(String body) {
        List<Sample> out = new ArrayList<>();
        Set<String> declared = new HashSet<>();
        Set<String> series = new HashSet<>();
        Map<String, String> types = new HashMap<>();
        String family = null;
        String[] lines = body.split("\n", -1);
        if (!body.endsWith("\n")) {
            throw new IllegalArgumentException("body does not end with a newline");
        }
        for (int n = 0; n < lines.length - 1; n++) {
            String line = lines[n];
            try {
                if (line.startsWith("# HELP ")) {
                    String name = line.substring(7).split(" ", 2)[0];
                    check(NAME.matcher(name).matches(), "bad name");
                    family = name;
                } else if (line.startsWith("# TYPE ")) {
                    String[] f = line.substring(7).split(" ");
                    check(f.length == 2 && NAME.matcher(f[0]).matches(), "bad TYPE");
                    check(List.of("counter", "gauge", "histogram", "summary", "untyped").contains(f[1]), "bad type");
                    check(declared.add(f[0]), "family declared twice");
                    family = f[0];
                    types.put(f[0], f[1]);
                } else if (line.startsWith("#") || line.isEmpty()) {
                    check(false, "unexpected comment or empty line");
                } else {
                    Sample s = sample(line);
                    check(family != null && belongs(s.name, family, types.get(family)),
                            "sample outside its family " + family);
                    check(series.add(s.name + s.labels), "duplicate series");
                    out.add(s);
                }
            } catch (RuntimeException e) {
                throw new IllegalArgumentException("line " + (n + 1) + " \"" + line + "\": " + e.getMessage(), e);
            }
        }
        return out;
    }

    private static boolean belongs(String sample, String family, String type) {
        if (sample.equals(family)) {
            return !"histogram".equals(type);
        }
        return switch (type == null ? "untyped" : type) {
            case "counter" -> sample.equals(family + "_total") || sample.equals(family + "_created");
            case "histogram" -> List.of("_bucket", "_count", "_sum", "_created").stream().anyMatch(x -> sample.equals(family + x));
            case "summary" -> List.of("_count", "_sum", "_created").stream().anyMatch(x -> sample.equals(family + x));
            default -> false;
        };
    }

    private static Sample sample(String line) {
        int i = 0;
        while (i < line.length() && line.charAt(i) != '{' && line.charAt(i) != ' ') {
            i++;
        }
        String name = line.substring(0, i);
        check(NAME.matcher(name).matches(), "bad sample name");
        Map<String, String> labels = new LinkedHashMap<>();
        if (i < line.length() && line.charAt(i) == '{') {
            i++;
            while (line.charAt(i) != '}') {
                int eq = line.indexOf('=', i);
                String key = line.substring(i, eq);
                check(LABEL.matcher(key).matches(), "bad label name " + key);
                check(line.charAt(eq + 1) == '"', "label value not quoted");
                StringBuilder v = new StringBuilder();
                int j = eq + 2;
                for (; line.charAt(j) != '"'; j++) {
                    char c = line.charAt(j);
                    if (c == '\\') {
                        char e = line.charAt(++j);
                        v.append(switch (e) {
                            case '\\' -> '\\';
                            case '"' -> '"';
                            case 'n' -> '\n';
                            default -> throw new IllegalArgumentException("bad escape \\" + e);
                        });
                    } else {
                        v.append(c);
                    }
                }
                check(labels.put(key, v.toString()) == null, "label twice");
                i = j + 1;
                if (line.charAt(i) == ',') {
                    i++;
                }
            }
            i++;
        }
        check(i < line.length() && line.charAt(i) == ' ', "no value");
        String[] rest = line.substring(i + 1).split(" ");
        check(rest.length <= 2, "trailing text");
        double value = switch (rest[0]) {
            case "+Inf" -> Double.POSITIVE_INFINITY;
            case "-Inf" -> Double.NEGATIVE_INFINITY;
            case "NaN" -> Double.NaN;
            default -> Double.parseDouble(rest[0]);
        };
        if (rest.length == 2) {
            Long.parseLong(rest[1]); // a timestamp
        }
        return new Sample(name, labels, value);
    }

    private static void check(boolean ok, String what) {
        if (!ok) {
            throw new IllegalArgumentException(what);
        }
    }

    /** {@code promtool check metrics} on the body: null when clean, else what it printed. */
    public static String promtool(String body) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("promtool", "check", "metrics").redirectErrorStream(true).start();
        try (var stdin = p.getOutputStream()) {
            stdin.write(body.getBytes(StandardCharsets.UTF_8));
        }
        String said = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        return p.waitFor() == 0 && said.isBlank() ? null : said;
    }
}
