package io.cgscope.programs;

import io.cgscope.bpf.CounterSource;
import io.cgscope.bpf.UserProgram;
import io.cgscope.config.Config;
import io.cgscope.config.ProgramConfig;
import io.cgscope.config.ProgramConfig.DecoderSpec;
import io.cgscope.config.ProgramConfig.Label;
import io.cgscope.config.ProgramConfig.Metric;
import io.cgscope.index.CgroupIndex;
import io.cgscope.metrics.CgroupLabels;
import io.cgscope.workload.WorkloadResolver;
import io.prometheus.client.Collector;
import io.prometheus.client.CounterMetricFamily;
import io.prometheus.client.GaugeMetricFamily;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;
import java.util.function.UnaryOperator;
import java.util.logging.Logger;

/**
 * Users' own BPF programs, brought in ebpf_exporter's format ({@code --config.dir},
 * {@code --config.names}; README, "Bringing ebpf_exporter programs"): {@link #start()} loads and
 * attaches every config ({@link LoadedConfig}); each scrape reads their maps and exports their
 * metrics under {@code --config.metric-prefix}, the {@code cgroup} decoder naming ids through
 * cgscope's index ({@link CgroupNamer}), beside what cgscope knows of them: whether each config and
 * program is up, the programs' run time and count (while {@code kernel.bpf_stats_enabled} is 1),
 * decoder errors, unnamed cgroup ids, failed reads, lost perf records. {@link #collect()} never
 * throws; scrapes are serialized.
 */
public final class UserPrograms extends Collector implements Collector.Describable, AutoCloseable {
    private static final Logger LOG = Logger.getLogger(UserPrograms.class.getName());
    private static final List<String> CONFIG = List.of("config");
    private static final List<String> CONFIG_PROGRAM = List.of("config", "program");
    private static final List<String> CONFIG_MAP = List.of("config", "map");

    private final List<ProgramConfig> configs;
    private final String prefix;
    private final boolean absolute;
    private final CgroupIndex index;
    private final CgroupLabels labels;
    private final WorkloadResolver workloads;
    private final List<String> workloadLabels;
    private final Config.RollUp rollUp;
    private final boolean bundleIds;
    private final Duration retention;
    private final LongSupplier nanoTime;
    private final List<LoadedConfig> loaded = new ArrayList<>();
    private CgroupNamer namer;
    private boolean closed;

    /** Workload labels from paths alone (no bundles read). */
    public UserPrograms(Config config, CgroupIndex index) {
        this(config, index, WorkloadResolver.pathsOnly(), false);
    }

    /**
     * @param workloads names the workloads of the cgroup labels ({@code --metrics.workload-labels})
     * @param bundleIds the index is the hierarchy's whose cgroups keep their bundles in {@code workloads}
     */
    public UserPrograms(Config config, CgroupIndex index, WorkloadResolver workloads, boolean bundleIds) {
        this(config.programs(), config.metricPrefix(), config.absoluteCgroupPaths(), index,
                new CgroupLabels(config.maxDepth(), config.include(), config.exclude()), workloads,
                config.workloadLabels(), config.rollUp(), bundleIds, config.retention(), System::nanoTime);
    }

    /** Test seam: the configs, labels and clock given; no workload labels. */
    UserPrograms(List<ProgramConfig> configs, String prefix, boolean absolute, CgroupIndex index,
                 CgroupLabels labels, Duration retention, LongSupplier nanoTime) {
        this(configs, prefix, absolute, index, labels, WorkloadResolver.pathsOnly(), List.of(), Config.RollUp.NONE,
                false, retention, nanoTime);
    }

    private UserPrograms(List<ProgramConfig> configs, String prefix, boolean absolute, CgroupIndex index,
                         CgroupLabels labels, WorkloadResolver workloads, List<String> workloadLabels,
                         Config.RollUp rollUp, boolean bundleIds, Duration retention, LongSupplier nanoTime) {
        this.configs = configs;
        this.prefix = prefix;
        this.absolute = absolute;
        this.index = index;
        this.labels = labels;
        this.workloads = workloads;
        this.workloadLabels = List.copyOf(workloadLabels);
        this.rollUp = rollUp;
        this.bundleIds = bundleIds;
        this.retention = retention;
        this.nanoTime = nanoTime;
    }

    /** Whether any config was named. */
    public boolean any() {
        return !configs.isEmpty();
    }

    /**
     * Loads and attaches every config, with the host tables its decoders need. Never throws: a
     * config or program that fails is logged and exported as down.
     *
     * @param cgroupMount the cgroup2 mount point, for {@code --config.cgroup-paths=absolute}
     * @return a one-line summary for the log
     */
    public synchronized String start(Path cgroupMount) {
        boolean symbols = false;
        boolean pci = false;
        for (ProgramConfig c : configs) {
            symbols |= !c.kaddrs().isEmpty();
            for (Metric m : c.metrics()) {
                for (Label l : m.labels()) {
                    for (DecoderSpec d : l.decoders()) {
                        symbols |= d.name().equals("ksym") || d.name().equals("kstack");
                        pci |= d.name().startsWith("pci_");
                    }
                }
            }
        }
        HostTables host;
        try {
            host = HostTables.load(symbols, pci);
        } catch (IOException e) {
            LOG.warning("programs: cannot read the host's tables (" + e.getMessage() + "): ksym, kstack and kaddrs"
                    + " find no symbols");
            host = new HostTables(Kallsyms.empty(), null, HostTables.syscalls(io.cgscope.linux.Arch.current()),
                    List::of, i -> null);
        }
        if (pci && host.pci == null) {
            LOG.warning("programs: no pci.ids (" + PciIds.PATHS + "; Debian's package pci.ids): the pci_* decoders"
                    + " say \"missing pci.ids db\"");
        }
        String mount = cgroupMount == null ? "" : cgroupMount.toString();
        UnaryOperator<String> display = !absolute ? UnaryOperator.identity()
                : label -> label.equals(CgroupLabels.ROOT) ? mount : mount + "/" + label;
        namer = new CgroupNamer(index, labels, workloads, workloadLabels, rollUp, bundleIds, display, retention,
                nanoTime);
        List<String> up = new ArrayList<>();
        List<String> down = new ArrayList<>();
        for (ProgramConfig c : configs) {
            Map<String, Long> kaddrs = new LinkedHashMap<>();
            for (String sym : c.kaddrs()) {
                Long addr = host.kallsyms.address(sym);
                kaddrs.put(sym, addr == null ? 0L : addr); // 0: the config is not loaded (LoadedConfig says why)
            }
            LoadedConfig l = LoadedConfig.start(c, prefix, workloadLabels, host, kaddrs, nanoTime);
            loaded.add(l);
            long programsUp = l.programs().stream().filter(UserProgram::up).count();
            (l.up() ? up : down).add(c.name() + " (" + programsUp + "/" + l.programs().size() + " programs)");
        }
        return "programs: configs up: " + (up.isEmpty() ? "none" : String.join(", ", up))
                + (down.isEmpty() ? "" : "; down: " + String.join(", ", down));
    }

    @Override
    public synchronized List<MetricFamilySamples> collect() {
        List<MetricFamilySamples> out = new ArrayList<>();
        if (loaded.isEmpty() || closed) {
            return out;
        }
        namer.begin();
        try {
            for (LoadedConfig c : loaded) {
                out.addAll(c.collect(namer));
            }
        } finally {
            namer.end();
        }
        GaugeMetricFamily configUp = new GaugeMetricFamily("cgscope_user_config_up",
                "1 when the user config's object is loaded and each of its metrics found its map (the log says why not).",
                CONFIG);
        GaugeMetricFamily programUp = new GaugeMetricFamily("cgscope_user_program_up",
                "1 when the user program is loaded and attached, 0 when it failed (the log says why, with libbpf's reason).",
                CONFIG_PROGRAM);
        CounterMetricFamily runSeconds = new CounterMetricFamily("cgscope_user_program_run_seconds",
                "Time the kernel spent running this user program (counted while kernel.bpf_stats_enabled=1).",
                CONFIG_PROGRAM);
        CounterMetricFamily runs = new CounterMetricFamily("cgscope_user_program_runs",
                "Runs of this user program (counted while kernel.bpf_stats_enabled=1).", CONFIG_PROGRAM);
        CounterMetricFamily decoderErrors = new CounterMetricFamily("cgscope_user_decoder_errors",
                "Map keys (or perf records) of the config that could not be decoded into labels, at each scrape that"
                        + " read them.", CONFIG);
        GaugeMetricFamily unresolved = new GaugeMetricFamily("cgscope_user_unresolved_ids",
                "Cgroup ids in the config's maps that the index cannot name (counted in cgroup=\"/unknown\").", CONFIG);
        CounterMetricFamily scrapeErrors = new CounterMetricFamily("cgscope_user_scrape_errors",
                "Reads of the config's maps that failed.", CONFIG);
        CounterMetricFamily lost = new CounterMetricFamily("cgscope_user_perf_events_lost",
                "Records of a perf_event_array counter that the kernel dropped (its ring was full).", CONFIG_MAP);
        boolean stats = false;
        for (LoadedConfig c : loaded) {
            List<String> name = List.of(c.name());
            configUp.addMetric(name, c.up() ? 1 : 0);
            for (UserProgram p : c.programs()) {
                programUp.addMetric(List.of(c.name(), p.name()), p.up() ? 1 : 0);
            }
            for (Map.Entry<String, CounterSource.RunStats> e : c.runStats().entrySet()) {
                stats = true;
                runSeconds.addMetric(List.of(c.name(), e.getKey()), e.getValue().runTimeNs() / 1e9);
                runs.addMetric(List.of(c.name(), e.getKey()), e.getValue().runCount());
            }
            decoderErrors.addMetric(name, c.decoderErrors());
            unresolved.addMetric(name, c.unresolved());
            scrapeErrors.addMetric(name, c.scrapeErrors());
            c.perfLost().forEach((map, n) -> lost.addMetric(List.of(c.name(), map), n));
        }
        out.add(configUp);
        out.add(programUp);
        if (stats) {
            out.add(runSeconds);
            out.add(runs);
        }
        out.add(decoderErrors);
        out.add(unresolved);
        out.add(scrapeErrors);
        if (!lost.samples.isEmpty()) {
            out.add(lost);
        }
        return out;
    }

    @Override
    public List<MetricFamilySamples> describe() {
        List<MetricFamilySamples> out = new ArrayList<>();
        if (configs.isEmpty()) {
            return out;
        }
        for (String own : List.of("cgscope_user_config_up", "cgscope_user_program_up", "cgscope_user_unresolved_ids")) {
            out.add(new GaugeMetricFamily(own, own, List.of()));
        }
        for (String own : List.of("cgscope_user_program_run_seconds", "cgscope_user_program_runs",
                "cgscope_user_decoder_errors", "cgscope_user_scrape_errors", "cgscope_user_perf_events_lost")) {
            out.add(new CounterMetricFamily(own, own, List.of()));
        }
        for (ProgramConfig c : configs) {
            for (Metric m : c.metrics()) {
                String full = prefix + m.name();
                Type type = m.kind() == ProgramConfig.Kind.HISTOGRAM ? Type.HISTOGRAM
                        : full.endsWith("_total") ? Type.COUNTER : Type.UNKNOWN;
                String family = type == Type.COUNTER ? full.substring(0, full.length() - "_total".length()) : full;
                out.add(new MetricFamilySamples(family, type, m.help(), List.of()));
            }
        }
        return out;
    }

    /**
     * Writes one entry of a config's map (every CPU's value, for a per-CPU map): benchmarks and
     * tests fill maps without events, as {@code BpfCompanion.put} does for cgscope's own.
     */
    public synchronized void put(String config, String map, byte[] key, long value) throws io.cgscope.bpf.BpfException {
        for (LoadedConfig c : loaded) {
            if (c.name().equals(config)) {
                c.put(map, key, value);
                return;
            }
        }
        throw new io.cgscope.bpf.BpfException("no config " + config);
    }

    /** The configs as loaded (tests). */
    synchronized List<LoadedConfig> loaded() {
        return List.copyOf(loaded);
    }

    /** Stops every config's perf buffers, detaches its programs and unloads its object. Idempotent. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (LoadedConfig c : loaded) {
            c.close();
        }
    }
}
