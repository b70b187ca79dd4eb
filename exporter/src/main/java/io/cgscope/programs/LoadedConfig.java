package io.cgscope.programs;

import io.cgscope.bpf.BpfException;
import io.cgscope.bpf.RawTable;
import io.cgscope.bpf.UserMap;
import io.cgscope.bpf.UserObject;
import io.cgscope.bpf.UserProgram;
import io.cgscope.config.ProgramConfig;
import io.cgscope.config.ProgramConfig.Kind;
import io.cgscope.config.ProgramConfig.Metric;
import io.prometheus.client.Collector.MetricFamilySamples;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.LongSupplier;
import java.util.logging.Logger;

/**
 * One config at run time: its object loaded and attached ({@link UserObject}), each configured
 * metric bound to its map (or, for {@code perf_event_array} counters, to the counts of its perf
 * buffer), and what it counts about itself (decoder errors, failed reads, lost perf records).
 * A config whose object cannot be opened, or whose maps do not fit its metrics, is down
 * ({@code cgscope_user_config_up 0}) with one log line that says why; what works of it still
 * runs. Scraped on one thread at a time.
 */
final class LoadedConfig implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(LoadedConfig.class.getName());

    /** A metric and where its rows come from. */
    private static final class Bound {
        final UserMetric metric;
        final UserMetric.Rows rows;
        final PerfCounts perf;     // perf_event_array counters only
        final Duration flush;      // their flush_interval, or null
        long flushedAt;
        boolean errorLogged;
        boolean readFailureLogged;

        Bound(UserMetric metric, UserMetric.Rows rows, PerfCounts perf, Duration flush, long now) {
            this.metric = metric;
            this.rows = rows;
            this.perf = perf;
            this.flush = flush;
            this.flushedAt = now;
        }
    }

    private final ProgramConfig config;
    private final List<Bound> metrics = new ArrayList<>();
    private final List<String> problems = new ArrayList<>();
    private final LongSupplier nanoTime;
    private UserObject object;
    private long decoderErrors;
    private long scrapeErrors;
    private int unresolved;

    private LoadedConfig(ProgramConfig config, LongSupplier nanoTime) {
        this.config = config;
        this.nanoTime = nanoTime;
    }

    /**
     * Loads and attaches the config's object and binds its metrics. Never throws: what fails is
     * logged (one line each) and shows in the config's and programs' {@code up}.
     *
     * @param workloadLabels {@code --metrics.workload-labels}, for the metrics with a cgroup label
     */
    static LoadedConfig start(ProgramConfig config, String prefix, List<String> workloadLabels, HostTables host,
                              Map<String, Long> kaddrs, LongSupplier nanoTime) {
        LoadedConfig c = new LoadedConfig(config, nanoTime);
        List<String> missing = config.kaddrs().stream().filter(s -> kaddrs.getOrDefault(s, 0L) == 0).toList();
        if (!missing.isEmpty()) {
            c.problem("not loaded: kaddrs " + String.join(", ", missing) + " not found in /proc/kallsyms (or their"
                    + " addresses read 0: kernel.kptr_restrict, or not root)");
            return c;
        }
        try {
            c.object = UserObject.load(config.name(), config.object(), kaddrs);
        } catch (BpfException | RuntimeException e) {
            c.problem("cannot load " + config.object() + ": " + e.getMessage());
            return c;
        }
        for (UserProgram p : c.object.programs()) {
            if (!p.up()) {
                LOG.warning("config " + config.name() + ": program " + p.name() + " (" + p.section() + ") is down: "
                        + p.reason());
            }
        }
        if (!c.object.loaded()) {
            c.problem("no program of " + config.object() + " could be loaded");
            return c;
        }
        for (Metric m : config.metrics()) {
            c.bind(m, prefix, workloadLabels, host);
        }
        return c;
    }

    private void bind(Metric m, String prefix, List<String> workloadLabels, HostTables host) {
        String what = "metric " + m.name() + ": ";
        UserMap map = object.map(m.name()).orElse(null);
        if (map == null) {
            problem(what + "the object has no map named " + m.name() + " (each metric reads the map of its name)");
            return;
        }
        if (m.perfEventArray()) {
            if (map.type() != UserMap.PERF_EVENT_ARRAY) {
                problem(what + "perf_event_array: true, but map " + m.name() + " is a " + UserMap.typeName(map.type()));
                return;
            }
            UserMetric metric = new UserMetric(config.name(), m, prefix, host, false, workloadLabels);
            PerfCounts counts = new PerfCounts(metric.keySize());
            try {
                object.perfBuffer(m.name(), counts::record, counts::lost);
            } catch (BpfException e) {
                problem(what + e.getMessage());
                return;
            }
            metrics.add(new Bound(metric, counts, counts, m.flushInterval(), nanoTime.getAsLong()));
            return;
        }
        if (!map.readable() || map.valueSize() != 8) {
            problem(what + "map " + m.name() + " is a " + UserMap.typeName(map.type()) + " map with "
                    + map.valueSize() + "-byte values; metrics read hash, LRU hash and array maps (or their per-CPU"
                    + " forms) of u64 values" + (map.type() == UserMap.PERF_EVENT_ARRAY
                    ? " (or set perf_event_array: true)" : ""));
            return;
        }
        List<ProgramConfig.Label> labels = m.labels();
        boolean splitCpus = map.perCpu() && m.kind() == Kind.COUNTER && !labels.isEmpty()
                && labels.getLast().name().equals("cpu");
        UserMetric metric = new UserMetric(config.name(), m, prefix, host, splitCpus, workloadLabels);
        int described = metric.keySize() - (splitCpus ? labels.getLast().size() + labels.getLast().padding() : 0);
        boolean fits = labels.isEmpty() ? map.keySize() == 4
                : described == map.keySize() || splitCpus && labels.size() == 1 && map.keySize() == 4;
        if (!fits) {
            problem(what + "map " + m.name() + " has " + map.keySize() + "-byte keys, the labels describe "
                    + (labels.isEmpty() ? "none (the key u32 0)" : described + " bytes") + " (sizes and padding)");
        }
        metrics.add(new Bound(metric, new MapRows(map, splitCpus), null, null, nanoTime.getAsLong()));
    }

    private void problem(String why) {
        problems.add(why);
        LOG.warning("config " + config.name() + ": " + why);
    }

    String name() {
        return config.name();
    }

    ProgramConfig config() {
        return config;
    }

    /** 1 when the object is loaded and every metric found its map as configured. */
    boolean up() {
        return object != null && object.loaded() && problems.isEmpty();
    }

    /** The object's programs (empty when it could not be opened). */
    List<UserProgram> programs() {
        return object == null ? List.of() : object.programs();
    }

    Map<String, io.cgscope.bpf.CounterSource.RunStats> runStats() {
        return object == null ? Map.of() : object.runStats();
    }

    long decoderErrors() {
        return decoderErrors;
    }

    long scrapeErrors() {
        return scrapeErrors;
    }

    /** Cgroup ids its maps hold that nobody can name (counted for {@code /unknown}), at the last scrape. */
    int unresolved() {
        return unresolved;
    }

    /** Lost perf records per perf_event_array map. */
    Map<String, Long> perfLost() {
        Map<String, Long> out = new LinkedHashMap<>();
        for (Bound b : metrics) {
            if (b.perf != null) {
                out.put(b.metric.name(), b.perf.lost());
            }
        }
        return out;
    }

    /** Every metric's family. */
    List<MetricFamilySamples> collect(CgroupNamer namer) {
        List<MetricFamilySamples> out = new ArrayList<>(metrics.size());
        Set<Long> unresolvedIds = new HashSet<>();
        for (Bound b : metrics) {
            if (b.perf != null) {
                decoderErrors += b.perf.takeShortRecords();
                long now = nanoTime.getAsLong();
                if (b.flush != null && now - b.flushedAt >= b.flush.toNanos()) {
                    b.perf.clear(); // ebpf_exporter's flush_interval: the counts start again from zero
                    b.metric.reset();
                    b.flushedAt = now;
                }
            }
            UserMetric.Stats stats = new UserMetric.Stats();
            try {
                out.add(b.metric.collect(b.rows, namer, stats));
            } catch (BpfException | RuntimeException e) {
                scrapeErrors++;
                if (!b.readFailureLogged) {
                    b.readFailureLogged = true;
                    LOG.warning("config " + config.name() + ": metric " + b.metric.name() + ": reading failed (counted"
                            + " in cgscope_user_scrape_errors_total): " + e.getMessage());
                }
            }
            decoderErrors += stats.decoderErrors;
            unresolvedIds.addAll(stats.unresolved);
            if (stats.firstError != null && !b.errorLogged) {
                b.errorLogged = true;
                LOG.warning("config " + config.name() + ": metric " + b.metric.name() + ": a key cannot be decoded"
                        + " (counted in cgscope_user_decoder_errors_total; logged once): " + stats.firstError);
            }
        }
        unresolved = unresolvedIds.size();
        return out;
    }

    /** Writes one entry of a map (benchmarks and tests). */
    void put(String name, byte[] key, long value) throws BpfException {
        UserMap map = object == null ? null : object.map(name).orElse(null);
        if (map == null) {
            throw new BpfException("config " + config.name() + " has no map " + name);
        }
        map.put(key, value);
    }

    /** A map's entries as they are now, summed over CPUs (tests: which keys are left). */
    RawTable readMap(String name) throws BpfException {
        UserMap map = object == null ? null : object.map(name).orElse(null);
        if (map == null) {
            throw new BpfException("config " + config.name() + " has no map " + name);
        }
        RawTable t = new RawTable();
        map.read(t, false);
        return t;
    }

    /** Stops the perf buffers, detaches the programs, unloads the object. */
    @Override
    public void close() {
        if (object != null) {
            object.close();
        }
    }

    /** A map's entries as rows. */
    private static final class MapRows implements UserMetric.Rows {
        private final UserMap map;
        private final boolean split;

        /** @param split a per-CPU map's values one per CPU (for a cpu label), else summed */
        MapRows(UserMap map, boolean split) {
            this.map = map;
            this.split = split;
        }

        @Override
        public void read(RawTable into) throws BpfException {
            map.read(into, split);
        }

        @Override
        public void delete(byte[] key) throws BpfException {
            if (map.deletable()) {
                map.delete(key);
            }
        }
    }
}
