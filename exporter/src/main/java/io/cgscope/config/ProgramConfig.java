package io.cgscope.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * One user program as {@code --config.dir} and {@code --config.names} name it: ebpf_exporter's
 * configuration format ({@code DIR/NAME.yaml}) and the compiled object beside it
 * ({@code DIR/NAME.bpf.o}). Built only by {@link ProgramConfigs}, which checks every key.
 *
 * @param kaddrs kernel symbols whose addresses go into the object's {@code const volatile u64 kaddr_<symbol>}
 */
public record ProgramConfig(String name, Path yaml, Path object, List<Metric> metrics, List<String> kaddrs) {

    public enum Kind { COUNTER, HISTOGRAM }

    /** {@code bucket_type}: how a histogram's bucket keys become {@code le} values. */
    public enum BucketType {
        EXP2("exp2"), EXP2ZERO("exp2zero"), LINEAR("linear"), FIXED("fixed");

        public final String yaml;

        BucketType(String yaml) {
            this.yaml = yaml;
        }
    }

    /**
     * One entry of {@code metrics.counters} or {@code metrics.histograms}: the BPF map of the same
     * name becomes the metric.
     *
     * @param flushInterval a {@code perf_event_array} counter's reset interval; null: never reset
     * @param histogram     the bucket layout of a histogram, null for a counter
     * @param line          where it starts in the file (1-based), for messages
     */
    public record Metric(Kind kind, String name, String help, boolean perfEventArray, Duration flushInterval,
                         List<Label> labels, Histogram histogram, int line) {
    }

    /**
     * A histogram's buckets. {@code exp2}, {@code exp2zero}, {@code linear}: the keys
     * {@code min..max}, inclusive; {@code fixed}: {@code keys}, increasing.
     */
    public record Histogram(BucketType type, double multiplier, long min, long max, List<Double> keys) {
    }

    /** A field of the map key: {@code size} bytes read, then {@code padding} bytes skipped. */
    public record Label(String name, int size, int padding, List<DecoderSpec> decoders, int line) {
    }

    /**
     * One decoder of a label's chain.
     *
     * @param staticMap    {@code static_map} (input text -> label value), empty for other decoders
     * @param allowUnknown {@code static_map}: pass unmapped input through instead of {@code unknown:<input>}
     * @param regexps      {@code regexp}: the patterns, compiled
     */
    public record DecoderSpec(String name, Map<String, String> staticMap, boolean allowUnknown,
                              List<Pattern> regexps, int line) {
    }
}
