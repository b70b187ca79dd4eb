package io.cgscope.config;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Every flag cgscope knows, in {@code --help} order, and the command-line parser. */
public final class Flags {
    static final List<Flag> ALL = List.of(
            Flag.value("web.listen-address", "[HOST]:PORT", ":9486",
                    "Address to listen on for /metrics and the HTTP API. An empty host means all interfaces."),
            Flag.value("web.telemetry-path", "PATH", "/metrics", "Path under which to expose metrics."),
            Flag.value("web.max-streams", "N", "16", "Most concurrent /events streams; more get 503."),
            Flag.value("web.max-connections", "N", "512",
                    "Most open HTTP connections (fewer if RLIMIT_NOFILE leaves less after a reserve of 256 fds);"
                            + " at the limit the longest silent connection without a complete request is closed for a new one."),
            Flag.value("web.read-header-timeout", "DURATION", "10s",
                    "Time a connection has to send a complete request (TLS handshake, head, any body), counted from"
                            + " its start or from its first byte after the last response; then it is closed."),
            Flag.value("web.idle-timeout", "DURATION", "2m",
                    "Time a kept-alive connection may wait for its next request before it is closed."),
            Flag.value("web.config.file", "FILE", "",
                    "Prometheus exporter-toolkit web config (TLS, basic auth). Empty: plain HTTP, no auth."),
            // The live page (/)
            Flag.value("web.grafana-url", "URL", "",
                    "Grafana's base URL (http or https): the page at / links each cgroup to the cgscope dashboards"
                            + " there. Empty: no links."),
            Flag.value("cgroup.root", "PATH", "",
                    "Mount point of the cgroup2 hierarchy root. Empty: found in /proc/self/mountinfo."),
            Flag.value("cgroup.retention", "DURATION", "15m",
                    "How long a removed cgroup stays resolvable (and its last counters exported)."),
            Flag.value("cgroup.max-retained", "N", "250000",
                    "Most removed cgroups kept resolvable (about 240 B of heap each at that size); beyond it the"
                            + " oldest go first, before their retention ends."),
            Flag.value("cgroup.sweep-interval", "DURATION", "5s",
                    "Interval of the tree sweeps that keep the index in sweep mode."),
            Flag.value("cgroup.index-mode", "auto|fanotify|bpf|sweep|crosscheck", "auto",
                    "fanotify: follow fanotify events, fail when refused; bpf: follow the cgroup tracepoints"
                            + " through BPF, fail when refused; sweep: periodic sweeps only; auto: fanotify, then"
                            + " bpf, then sweep, each fallback with a warning; crosscheck: fanotify keeps the index"
                            + " and BPF runs beside it, metrics count the ids one saw and the other did not."),
            Flag.value("cgroup.hierarchy", "unified|CONTROLLER|name=NAME|auto", "auto",
                    "The hierarchy whose cgroups name the metrics and answer /cgroup/<id> by default (every mounted"
                            + " hierarchy is indexed): auto is the unified one when --cgroup.root is given or processes"
                            + " sit below its root, else the v1 hierarchy whose processes are spread over the most cgroups."),
            Flag.value("cgroup.bpf-ring-size", "BYTES", "4MiB",
                    "Ring buffer of the BPF index source: a power of 2 from 4KiB (suffix KiB or MiB, or bytes)."
                            + " A full ring loses records (counted; each loss re-syncs the index)."),
            Flag.bool("fanotify.unlimited-queue", true,
                    "FAN_UNLIMITED_QUEUE: the kernel never drops cgroup events (costs ~130 B of kernel memory"
                            + " per queued event)."),
            Flag.value("cgroup.max-depth", "N", "0",
                    "Roll cgroups deeper than N up into their ancestor at depth N in metrics (0: unlimited)."),
            Flag.value("cgroup.include", "REGEX", "",
                    "Export only cgroups whose whole path matches (after the roll-up). Empty: all."),
            Flag.value("cgroup.exclude", "REGEX", "",
                    "Do not export cgroups whose whole path matches (after the roll-up). Empty: none."),
            Flag.value("cgroup.roll-up", "none|container|pod", "none",
                    "Sum every cgroup of a container (across its restarts) or of a pod into one series per"
                            + " container or pod; with container, --metrics.workload-labels must name container."),
            Flag.value("metrics.workload-labels", "LIST", "namespace,pod,container",
                    "Workload labels copied onto every per-cgroup series (where they have a value): any of"
                            + " kind, namespace, pod, container, pod_uid, container_id, qos_class, runtime, unit,"
                            + " image; empty for none (cgscope_cgroup_info always has them all)."),
            Flag.value("workload.runtime-dirs", "LIST",
                    "/run/containerd/io.containerd.runtime.v2.task,/run/containers/storage/overlay-containers",
                    "Directories of the container runtimes' OCI bundles (containerd's task bundles, CRI-O's and"
                            + " podman's containers/storage run root), read for pod and container names; empty: names"
                            + " from cgroup paths only."),
            Flag.value("workload.pod-logs-dir", "DIR", "/var/log/pods",
                    "kubelet's pod log directory (its podLogsDir): <namespace>_<pod>_<uid> names each pod; read"
                            + " for names no bundle gave (bundles are root's; this is world-readable). Empty: not read."),
            Flag.value("workload.container-logs-dir", "DIR", "/var/log/containers",
                    "kubelet's container log symlinks: <pod>_<namespace>_<container>-<id>.log names each"
                            + " container; read as --workload.pod-logs-dir. Empty: not read."),
            Flag.value("bpf.programs", "LIST", "cpu,samples,switches,runqlat,oom",
                    "BPF programs to load: any of cpu, samples, switches, runqlat, oom; empty for none."),
            Flag.value("bpf.sample-frequency", "HZ", "99", "CPU sampling frequency per CPU (perf cpu-clock)."),
            Flag.value("bpf.max-cgroups", "N", "16384", "Entries of each per-cgroup BPF map."),
            Flag.value("bpf.runqlat-buckets", "pow4|log2", "pow4",
                    "Run-queue latency buckets: powers of 4 from 1us (12 with +Inf) or of 2 (22)."),
            // user programs in ebpf_exporter's format (README, "Bringing ebpf_exporter programs")
            Flag.value("config.dir", "DIR", "",
                    "Directory of user programs in ebpf_exporter's format: NAME.yaml and NAME.bpf.o."),
            Flag.value("config.names", "LIST", "",
                    "User programs to load from --config.dir, comma separated; empty for none."),
            Flag.value("config.metric-prefix", "PREFIX", "cgscope_user_",
                    "Prefix of the user programs' metric names (ebpf_exporter's is ebpf_exporter_)."),
            Flag.value("config.cgroup-paths", "relative|absolute", "relative",
                    "The cgroup decoder's values: paths as cgscope's metrics have them, or absolute file system"
                            + " paths (the hierarchy's mount point in front) as ebpf_exporter's."),
            Flag.value("config.cgroup-hierarchy", "unified|CONTROLLER|name=NAME", "",
                    "The hierarchy whose ids the cgroup decoder names; empty: the unified one where it is mounted"
                            + " (bpf_get_current_cgroup_id() gives its ids), else the one --cgroup.hierarchy chose."),
            Flag.value("collector.cgroupfs", "LIST", "pressure,cpu,memory,io,pids",
                    "Kernel accounting files read per cgroup at each scrape: any of pressure, cpu, memory, io, pids;"
                            + " empty for none."),
            Flag.value("run-as", "USER", "",
                    "Drop to this user (and its group) once the mark is placed and the programs attached."),
            Flag.value("log.level", "debug|info|warn|error", "info", "Least severe log level written."),
            Flag.value("log.format", "logfmt|json", "logfmt", "Log line format (on stderr)."));

    private static final Map<String, Flag> BY_NAME = new LinkedHashMap<>();

    static {
        for (Flag f : ALL) {
            BY_NAME.put(f.name(), f);
        }
    }

    /** What the command line asks for. */
    public sealed interface Command {
    }

    public record Run(Config config) implements Command {
    }

    public record Help() implements Command {
    }

    public record Version() implements Command {
    }

    private Flags() {
    }

    public static Command parse(String... args) throws ConfigException {
        Map<String, String> values = new LinkedHashMap<>();
        for (Flag f : ALL) {
            values.put(f.name(), f.defaultValue());
        }
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            if (arg.equals("--help") || arg.equals("-h")) {
                return new Help();
            }
            if (arg.equals("--version")) {
                return new Version();
            }
            if (!arg.startsWith("--") || arg.length() == 2) {
                throw new ConfigException("unexpected argument \"" + arg + "\" (flags start with --; see --help)");
            }
            String body = arg.substring(2);
            int eq = body.indexOf('=');
            String name = eq < 0 ? body : body.substring(0, eq);
            Flag flag = BY_NAME.get(name);
            if (flag == null && eq < 0 && name.startsWith("no-")) {
                Flag negated = BY_NAME.get(name.substring(3));
                if (negated != null && negated.isBoolean()) {
                    values.put(negated.name(), "false");
                    continue;
                }
            }
            if (flag == null) {
                throw new ConfigException("unknown flag --" + name + " (see --help)");
            }
            String value;
            if (eq >= 0) {
                value = body.substring(eq + 1);
            } else if (flag.isBoolean()) {
                value = "true";
            } else if (i + 1 < args.length) {
                value = args[++i];
            } else {
                throw new ConfigException("flag --" + name + " needs a value (" + flag.metavar() + ")");
            }
            values.put(name, value);
        }
        return new Run(Config.from(values));
    }

    /** The {@code --help} text. */
    public static String usage() {
        StringBuilder sb = new StringBuilder();
        sb.append("usage: cgscope [flags]\n\n")
                .append("cgscope names every cgroup and measures it: a live index of cgroup id -> path fed by\n")
                .append("fanotify, per-cgroup CPU time, samples, context switches and run-queue latency from BPF,\n")
                .append("exported for Prometheus with the cgroup path as the label, and an HTTP lookup API.\n")
                .append("Each cgroup is named as what it runs (pod, container, systemd unit) from its path and the\n")
                .append("container runtimes' OCI bundles.\n\n")
                .append("Flags:\n");
        sb.append(String.format("  %-44s %s%n", "-h, --help", "Show this help and exit."));
        sb.append(String.format("  %-44s %s%n", "--version", "Show the version and exit."));
        for (Flag f : ALL) {
            String left = f.isBoolean() ? "--[no-]" + f.name() : "--" + f.name() + "=" + f.metavar();
            String def = f.defaultValue().isEmpty() ? "" : " (default: " + f.defaultValue() + ")";
            sb.append(String.format("  %-44s %s%s%n", left, f.help(), def));
        }
        return sb.toString();
    }
}
