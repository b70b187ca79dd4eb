package io.cgscope.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/** The validated configuration; built only by {@link Flags#parse}, or by tests through {@link #defaults()}. */
public record Config(
        String listenHost,
        int listenPort,
        String telemetryPath,
        int maxStreams,
        Path webConfigFile,  // the file; its content is webConfig
        Path cgroupRoot,
        Duration retention,
        int maxRetained,
        Duration sweepInterval,
        IndexMode indexMode,
        int bpfRingBytes,
        String hierarchy,
        boolean unlimitedQueue,
        int maxDepth,
        Pattern include,
        Pattern exclude,
        Set<String> bpfPrograms,
        int sampleFrequency,
        int maxCgroups,
        String runqlatBuckets,
        Set<String> cgroupfsCollectors,
        String runAs,
        String logLevel,
        String logFormat,
        WebConfig webConfig,
        // workload identity (issue 16)
        RollUp rollUp,
        List<String> workloadLabels,
        List<Path> runtimeDirs,
        Path podLogsDir,         // null: not read
        Path containerLogsDir,   // null: not read
        // the live page (issue 21)
        String grafanaUrl, // "" or an http(s) URL without a trailing slash
        // user programs (README, "Bringing ebpf_exporter programs")
        List<ProgramConfig> programs,
        String metricPrefix,
        boolean absoluteCgroupPaths,
        String programsHierarchy, // "": the hierarchy in use (--cgroup.hierarchy)
        // connection limits (issue 17)
        WebLimits webLimits) {

    public enum IndexMode { AUTO, FANOTIFY, BPF, SWEEP, CROSSCHECK }

    /** {@code --cgroup.roll-up}: what one per-cgroup series stands for. */
    public enum RollUp { NONE, CONTAINER, POD }

    /** The labels {@code --metrics.workload-labels} may name, in the order they are exported. */
    public static final List<String> WORKLOAD_LABELS = List.of("kind", "namespace", "pod", "container", "pod_uid",
            "container_id", "qos_class", "runtime", "unit", "image");

    /** {@code --bpf.programs} values: the companion's features, and {@code oom} (its own object). */
    public static final List<String> PROGRAMS = List.of("cpu", "samples", "switches", "runqlat", "oom");
    /** The paths the HTTP API owns: the telemetry path may take none of them. A new route adds its path here. */
    public static final List<String> API_PATHS = List.of("/", "/healthz", "/cgroup", "/cgroups", "/pods", "/events",
            "/api/top", "/static", "/hierarchies");
    /** Prefixes of the API's routes that have paths below them ({@code /cgroup/<id>}, the page's files, {@code /api/}). */
    public static final List<String> API_PREFIXES = List.of("/cgroup/", "/static/", "/api/");
    /** {@code --collector.cgroupfs} values: the cgroupfs accounting families (io.cgscope.accounting.Family). */
    public static final List<String> CGROUPFS_COLLECTORS = List.of("pressure", "cpu", "memory", "io", "pids");

    /** Every flag at its default. */
    public static Config defaults() {
        try {
            return ((Flags.Run) Flags.parse()).config();
        } catch (ConfigException e) {
            throw new IllegalStateException("the defaults do not parse", e);
        }
    }

    static Config from(Map<String, String> v) throws ConfigException {
        String listen = v.get("web.listen-address");
        int colon = listen.lastIndexOf(':');
        if (colon < 0) {
            throw bad("web.listen-address", listen, "expected [HOST]:PORT, e.g. :9486 or 127.0.0.1:9486");
        }
        String host = listen.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        int port = integer(v, "web.listen-address", listen.substring(colon + 1), 0, 65535);
        String telemetryPath = v.get("web.telemetry-path");
        if (!telemetryPath.startsWith("/") || telemetryPath.length() < 2 || telemetryPath.contains("?")) {
            throw bad("web.telemetry-path", telemetryPath, "expected a path like /metrics");
        }
        if (!telemetryPath.matches("/[A-Za-z0-9._~/-]+") || API_PATHS.contains(telemetryPath)
                || API_PREFIXES.stream().anyMatch(telemetryPath::startsWith)) {
            throw bad("web.telemetry-path", telemetryPath, "expected a plain path (letters, digits, . _ ~ - /)"
                    + " that is not one of the API's " + String.join(" ", API_PATHS));
        }
        Duration retention = duration(v, "cgroup.retention");
        Duration sweep = duration(v, "cgroup.sweep-interval");
        if (sweep.toMillis() < 100) {
            throw bad("cgroup.sweep-interval", v.get("cgroup.sweep-interval"), "must be at least 100ms");
        }
        IndexMode mode = switch (v.get("cgroup.index-mode")) {
            case "auto" -> IndexMode.AUTO;
            case "fanotify" -> IndexMode.FANOTIFY;
            case "bpf" -> IndexMode.BPF;
            case "sweep" -> IndexMode.SWEEP;
            case "crosscheck" -> IndexMode.CROSSCHECK;
            default -> throw bad("cgroup.index-mode", v.get("cgroup.index-mode"),
                    "expected auto, fanotify, bpf, sweep or crosscheck");
        };
        Set<String> programs = new LinkedHashSet<>();
        for (String p : v.get("bpf.programs").split(",")) {
            String name = p.strip();
            if (name.isEmpty()) {
                continue;
            }
            if (!PROGRAMS.contains(name)) {
                throw bad("bpf.programs", v.get("bpf.programs"), "unknown program \"" + name + "\"; known: "
                        + String.join(",", PROGRAMS));
            }
            programs.add(name);
        }
        Set<String> collectors = list(v, "collector.cgroupfs", CGROUPFS_COLLECTORS, "collector");
        String buckets = v.get("bpf.runqlat-buckets");
        if (!buckets.equals("pow4") && !buckets.equals("log2")) {
            throw bad("bpf.runqlat-buckets", buckets, "expected pow4 or log2");
        }
        String level = v.get("log.level");
        if (!List.of("debug", "info", "warn", "error").contains(level)) {
            throw bad("log.level", level, "expected debug, info, warn or error");
        }
        String prefix = v.get("config.metric-prefix");
        if (!prefix.isEmpty() && !prefix.matches("[a-zA-Z_:][a-zA-Z0-9_:]*")) {
            throw bad("config.metric-prefix", prefix, "not the start of a Prometheus metric name ([a-zA-Z_:][a-zA-Z0-9_:]*)");
        }
        String paths = v.get("config.cgroup-paths");
        if (!paths.equals("relative") && !paths.equals("absolute")) {
            throw bad("config.cgroup-paths", paths, "expected relative or absolute");
        }
        String format = v.get("log.format");
        if (!format.equals("logfmt") && !format.equals("json")) {
            throw bad("log.format", format, "expected logfmt or json");
        }
        RollUp rollUp = switch (v.get("cgroup.roll-up")) {
            case "none" -> RollUp.NONE;
            case "container" -> RollUp.CONTAINER;
            case "pod" -> RollUp.POD;
            default -> throw bad("cgroup.roll-up", v.get("cgroup.roll-up"), "expected none, container or pod");
        };
        List<String> workloadLabels = workloadLabels(v.get("metrics.workload-labels"));
        if (rollUp == RollUp.CONTAINER && !workloadLabels.contains("container")) {
            throw bad("cgroup.roll-up", "container", "--metrics.workload-labels must name container (the series of"
                    + " one pod's containers differ only by it)");
        }
        List<Path> runtimeDirs = new java.util.ArrayList<>();
        for (String d : v.get("workload.runtime-dirs").split(",")) {
            String dir = d.strip();
            if (dir.isEmpty()) {
                continue;
            }
            if (!dir.startsWith("/")) {
                throw bad("workload.runtime-dirs", v.get("workload.runtime-dirs"), "\"" + dir
                        + "\" is not an absolute path");
            }
            runtimeDirs.add(Path.of(dir));
        }
        return new Config(host, port, telemetryPath,
                integer(v, "web.max-streams", v.get("web.max-streams"), 0, 100_000),
                path(v.get("web.config.file")),
                path(v.get("cgroup.root")),
                retention,
                integer(v, "cgroup.max-retained", v.get("cgroup.max-retained"), 0, 100_000_000),
                sweep, mode,
                ringBytes(v, "cgroup.bpf-ring-size"),
                hierarchy(v, "cgroup.hierarchy"),
                bool(v, "fanotify.unlimited-queue"),
                integer(v, "cgroup.max-depth", v.get("cgroup.max-depth"), 0, 10_000),
                regex(v, "cgroup.include"),
                regex(v, "cgroup.exclude"),
                Set.copyOf(programs),
                integer(v, "bpf.sample-frequency", v.get("bpf.sample-frequency"), 1, 100_000),
                integer(v, "bpf.max-cgroups", v.get("bpf.max-cgroups"), 1, 1 << 24),
                buckets,
                collectors,
                v.get("run-as"),
                level, format,
                v.get("web.config.file").isEmpty() ? null : WebConfig.load(Path.of(v.get("web.config.file"))),
                rollUp, workloadLabels, List.copyOf(runtimeDirs),
                absoluteDir(v, "workload.pod-logs-dir"), absoluteDir(v, "workload.container-logs-dir"),
                grafanaUrl(v.get("web.grafana-url")),
                programs(v), prefix, paths.equals("absolute"), v.get("config.cgroup-hierarchy").strip(),
                webLimits(v));
    }

    /** An absolute directory flag; null when empty. */
    private static Path absoluteDir(Map<String, String> v, String flag) throws ConfigException {
        String dir = v.get(flag).strip();
        if (dir.isEmpty()) {
            return null;
        }
        if (!dir.startsWith("/")) {
            throw bad(flag, v.get(flag), "not an absolute path");
        }
        return Path.of(dir);
    }

    private static List<String> workloadLabels(String text) throws ConfigException {
        Set<String> named = new LinkedHashSet<>();
        for (String l : text.split(",")) {
            String name = l.strip();
            if (name.isEmpty()) {
                continue;
            }
            if (!WORKLOAD_LABELS.contains(name)) {
                throw bad("metrics.workload-labels", text, "unknown label \"" + name + "\"; known: "
                        + String.join(",", WORKLOAD_LABELS));
            }
            named.add(name);
        }
        // exported in one fixed order, whatever order they were named in
        return WORKLOAD_LABELS.stream().filter(named::contains).toList();
    }

    /** {@code --web.grafana-url}: an absolute http(s) URL with a host, no query or fragment; no trailing slash. */
    private static String grafanaUrl(String text) throws ConfigException {
        if (text.isEmpty()) {
            return "";
        }
        java.net.URI uri;
        try {
            uri = new java.net.URI(text);
        } catch (java.net.URISyntaxException e) {
            throw new ConfigException("invalid value \"" + text + "\" for --web.grafana-url: not a URL: " + e.getReason());
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(java.util.Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https") || uri.getHost() == null
                || uri.getRawQuery() != null || uri.getRawFragment() != null || uri.getRawUserInfo() != null) {
            throw new ConfigException("invalid value \"" + text + "\" for --web.grafana-url: expected http(s)://HOST[:PORT][/PATH]"
                    + " without credentials, query or fragment, e.g. https://grafana.example.com");
        }
        String url = text;
        while (url.endsWith("/")) {
            url = url.substring(0, url.length() - 1);
        }
        return url;
    }

    /** {@code --config.dir} and {@code --config.names}: the user programs, every file read and checked. */
    private static List<ProgramConfig> programs(Map<String, String> v) throws ConfigException {
        List<String> names = new java.util.ArrayList<>();
        for (String n : v.get("config.names").split(",")) {
            if (!n.strip().isEmpty()) {
                names.add(n.strip());
            }
        }
        String dir = v.get("config.dir");
        if (names.isEmpty()) {
            return List.of();
        }
        if (dir.isEmpty()) {
            throw bad("config.names", v.get("config.names"), "needs --config.dir, the directory of NAME.yaml and NAME.bpf.o");
        }
        if (!java.nio.file.Files.isDirectory(Path.of(dir))) {
            throw bad("config.dir", dir, "not a directory");
        }
        List<ProgramConfig> programs = ProgramConfigs.load(Path.of(dir), names);
        ProgramConfigs.checkNames(programs, v.get("config.metric-prefix"));
        return programs;
    }

    /** The HTTP connection limits (issue 17). */
    private static WebLimits webLimits(Map<String, String> v) throws ConfigException {
        return new WebLimits(
                integer(v, "web.max-connections", v.get("web.max-connections"), 1, 1_000_000),
                timeout(v, "web.read-header-timeout"),
                timeout(v, "web.idle-timeout"));
    }

    private static Duration timeout(Map<String, String> v, String flag) throws ConfigException {
        Duration d = duration(v, flag);
        if (d.toMillis() < 100 || d.compareTo(Duration.ofDays(1)) > 0) {
            throw bad(flag, v.get(flag), "must be between 100ms and 1d");
        }
        return d;
    }

    /** The listen address as given, for logs: {@code :9486}. */
    public String listenAddress() {
        return (listenHost.contains(":") ? "[" + listenHost + "]" : listenHost) + ":" + listenPort;
    }

    private static ConfigException bad(String flag, String value, String why) {
        return new ConfigException("invalid value \"" + value + "\" for --" + flag + ": " + why);
    }

    private static int integer(Map<String, String> v, String flag, String text, int min, int max)
            throws ConfigException {
        try {
            int n = Integer.parseInt(text);
            if (n < min || n > max) {
                throw bad(flag, v.get(flag), "must be between " + min + " and " + max);
            }
            return n;
        } catch (NumberFormatException e) {
            throw bad(flag, v.get(flag), "not a number");
        }
    }

    /** {@code unified}, {@code auto}, a controller or {@code name=X}; whether it is mounted is checked at start. */
    static String hierarchy(Map<String, String> v, String flag) throws ConfigException {
        String text = v.get(flag).strip();
        if (!text.matches("[a-z0-9_]+|name=[^,:\\s]+")) {
            throw bad(flag, text, "expected unified, auto, a controller (memory) or name=NAME (name=systemd)");
        }
        return text;
    }

    /** {@code 4MiB}, {@code 512KiB} or bytes; a power of 2 from a page (4 KiB) to 1 GiB, as the kernel's ring buffers are. */
    static int ringBytes(Map<String, String> v, String flag) throws ConfigException {
        String text = v.get(flag).strip();
        long unit = 1;
        String number = text;
        if (text.endsWith("MiB")) {
            unit = 1 << 20;
            number = text.substring(0, text.length() - 3);
        } else if (text.endsWith("KiB")) {
            unit = 1 << 10;
            number = text.substring(0, text.length() - 3);
        }
        long bytes;
        try {
            bytes = Long.parseLong(number) * unit;
        } catch (NumberFormatException e) {
            throw bad(flag, text, "expected bytes, or a number with KiB or MiB, e.g. 4MiB");
        }
        if (bytes < 4096 || bytes > 1 << 30 || Long.bitCount(bytes) != 1) {
            throw bad(flag, text, "must be a power of 2 from 4KiB to 1024MiB");
        }
        return (int) bytes;
    }

    /** A comma-separated subset of {@code known} (blanks and empty entries ignored), in the given order. */
    private static Set<String> list(Map<String, String> v, String flag, List<String> known, String what)
            throws ConfigException {
        Set<String> out = new LinkedHashSet<>();
        for (String p : v.get(flag).split(",")) {
            String name = p.strip();
            if (name.isEmpty()) {
                continue;
            }
            if (!known.contains(name)) {
                throw bad(flag, v.get(flag), "unknown " + what + " \"" + name + "\"; known: " + String.join(",", known));
            }
            out.add(name);
        }
        return java.util.Collections.unmodifiableSet(out);
    }

    private static Duration duration(Map<String, String> v, String flag) throws ConfigException {
        try {
            return Durations.parse(v.get(flag));
        } catch (IllegalArgumentException e) {
            throw bad(flag, v.get(flag), e.getMessage());
        }
    }

    private static boolean bool(Map<String, String> v, String flag) throws ConfigException {
        return switch (v.get(flag)) {
            case "true" -> true;
            case "false" -> false;
            default -> throw bad(flag, v.get(flag), "expected true or false");
        };
    }

    private static Pattern regex(Map<String, String> v, String flag) throws ConfigException {
        String text = v.get(flag);
        if (text.isEmpty()) {
            return null;
        }
        try {
            return Pattern.compile(text);
        } catch (PatternSyntaxException e) {
            throw bad(flag, text, "not a regular expression: " + e.getDescription());
        }
    }

    private static Path path(String text) {
        return text.isEmpty() ? null : Path.of(text);
    }
}
