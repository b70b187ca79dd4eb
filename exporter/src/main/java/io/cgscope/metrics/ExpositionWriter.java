package io.cgscope.metrics;

import io.prometheus.client.Collector;
import io.prometheus.client.Collector.MetricFamilySamples;
import io.prometheus.client.exporter.common.TextFormat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Enumeration;
import java.util.List;

/**
 * Writes a scrape in text 0.0.4 or OpenMetrics 1.0.0, byte for byte as simpleclient's
 * {@link TextFormat} writes it, but fast where the bytes are: the per-cgroup families. A scrape of
 * 10,000 containers is tens of MB, most of it label values (a container's cgroup path is about 190
 * characters); simpleclient escapes each character through a {@code Writer.append(char)}, and a
 * {@code StringWriter} takes a lock for each. Here a series' labels are escaped once, when the
 * series is first exported ({@link SeriesKey#labelText}), and each sample ({@link SeriesSample})
 * copies them into an unsynchronized builder; whole-number values below 10^7 are written without
 * a {@code Double.toString}. Families with any other sample are written by simpleclient itself,
 * after these (into the same builder), so the output differs from simpleclient's only in the order
 * of the families. {@code ExpositionWriterTest} compares the bytes.
 */
public final class ExpositionWriter {
    private ExpositionWriter() {
    }

    /**
     * The exposition of these families in {@code contentType} ({@link TextFormat#CONTENT_TYPE_004}
     * or {@link TextFormat#CONTENT_TYPE_OPENMETRICS_100}).
     *
     * @param sizeHint the builder's first capacity (the last scrape's size saves its doublings)
     */
    public static StringBuilder write(String contentType, Enumeration<MetricFamilySamples> families, int sizeHint) {
        boolean om = TextFormat.CONTENT_TYPE_OPENMETRICS_100.equals(contentType);
        if (!om && !TextFormat.CONTENT_TYPE_004.equals(contentType)) {
            throw new IllegalArgumentException("unknown content type " + contentType);
        }
        StringBuilder out = new StringBuilder(Math.max(sizeHint, 1024));
        List<MetricFamilySamples> rest = new ArrayList<>();
        while (families.hasMoreElements()) {
            MetricFamilySamples f = families.nextElement();
            if (allSeriesSamples(f)) {
                header(out, f, om);
                samples(out, f, om);
            } else {
                rest.add(f);
            }
        }
        try {
            TextFormat.writeFormat(contentType, new BuilderWriter(out), Collections.enumeration(rest));
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a builder does not throw
        }
        return out;
    }

    private static boolean allSeriesSamples(MetricFamilySamples f) {
        if (f.samples.isEmpty() || !f.unit.isEmpty()) {
            return false;
        }
        for (MetricFamilySamples.Sample s : f.samples) {
            if (!(s instanceof SeriesSample) || s.timestampMs != null || s.exemplar != null) {
                return false;
            }
        }
        return f.type == Collector.Type.COUNTER || f.type == Collector.Type.GAUGE || f.type == Collector.Type.HISTOGRAM;
    }

    /** simpleclient's lines: 0.0.4 HELP then TYPE (a counter's name with {@code _total}); OpenMetrics TYPE then HELP. */
    private static void header(StringBuilder out, MetricFamilySamples f, boolean om) {
        String type = switch (f.type) {
            case COUNTER -> "counter";
            case HISTOGRAM -> "histogram";
            default -> "gauge";
        };
        if (om) {
            out.append("# TYPE ").append(f.name).append(' ').append(type).append('\n');
            out.append("# HELP ").append(f.name).append(' ');
            escape(out, f.help, true);
            out.append('\n');
        } else {
            String name = f.type == Collector.Type.COUNTER ? f.name + "_total" : f.name;
            out.append("# HELP ").append(name).append(' ');
            escape(out, f.help, false);
            out.append('\n');
            out.append("# TYPE ").append(name).append(' ').append(type).append('\n');
        }
    }

    /** {@code name{labels[,]} value}: 0.0.4 ends the labels with a comma, OpenMetrics does not. */
    private static void samples(StringBuilder out, MetricFamilySamples f, boolean om) {
        for (MetricFamilySamples.Sample sample : f.samples) {
            SeriesSample s = (SeriesSample) sample;
            out.append(s.name).append('{').append(s.labelText);
            if (s.extraText != null) {
                out.append(',').append(s.extraText);
            }
            out.append(om ? "} " : ",} ");
            value(out, s.value);
            out.append('\n');
        }
    }

    /**
     * {@link Collector#doubleToGoString}: {@code +Inf}, {@code -Inf}, else {@link Double#toString},
     * which writes a whole number from 0 up to 10^7 as its digits and {@code .0}; counts mostly are.
     */
    static void value(StringBuilder out, double v) {
        if (v >= 0 && v < 1e7 && v == Math.rint(v) && Double.doubleToRawLongBits(v) != Long.MIN_VALUE) {
            out.append((long) v).append(".0");
        } else {
            out.append(Collector.doubleToGoString(v));
        }
    }

    /** Label names and values as they go between the braces: {@code a="x",b="y"}, values escaped. */
    static String labelText(List<String> names, List<String> values) {
        StringBuilder sb = new StringBuilder(16 * names.size() + 64);
        for (int i = 0; i < names.size(); i++) {
            if (i > 0) {
                sb.append(',');
            }
            sb.append(names.get(i)).append("=\"");
            escape(sb, values.get(i), true);
            sb.append('"');
        }
        return sb.toString();
    }

    /** simpleclient's escaping: {@code \}, newline, and (in label values and OpenMetrics' help) {@code "}. */
    private static void escape(StringBuilder out, String s, boolean quotes) {
        int from = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            String e = c == '\\' ? "\\\\" : c == '\n' ? "\\n" : quotes && c == '"' ? "\\\"" : null;
            if (e != null) {
                out.append(s, from, i).append(e);
                from = i + 1;
            }
        }
        out.append(s, from, s.length());
    }

    /** A writer into a builder, without {@link java.io.StringWriter}'s lock per call. */
    private static final class BuilderWriter extends Writer {
        private final StringBuilder out;

        BuilderWriter(StringBuilder out) {
            this.out = out;
        }

        @Override
        public void write(int c) {
            out.append((char) c);
        }

        @Override
        public void write(char[] buf, int off, int len) {
            out.append(buf, off, len);
        }

        @Override
        public void write(String s, int off, int len) {
            out.append(s, off, off + len);
        }

        @Override
        public Writer append(char c) {
            out.append(c);
            return this;
        }

        @Override
        public Writer append(CharSequence s) {
            out.append(s);
            return this;
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    }
}
