package io.cgscope.workload;

import java.nio.file.Path;
import java.util.List;
import java.util.function.LongPredicate;

/**
 * The workload of a cgroup: its path's classification ({@link PathClassifier}), its container's
 * bundle ({@link Bundles}, read once per container), and, where no bundle named it, kubelet's log
 * files ({@link KubeletLogs}: the pod's log directory, the container's log symlink), and its pod's
 * names. A bundle's names win where both exist (the bundle also has the image). Cheap to call
 * again (the bundle is cached, log names are looked up in memory; classifying a path is a pass over
 * its characters); never throws.
 */
public final class WorkloadResolver {
    private final Bundles bundles;
    private final KubeletLogs logs;

    public WorkloadResolver(Bundles bundles) {
        this(bundles, KubeletLogs.none());
    }

    public WorkloadResolver(Bundles bundles, KubeletLogs logs) {
        this.bundles = bundles;
        this.logs = logs;
    }

    /** Reads bundles from these runtime directories; none: names come from paths alone. */
    public static WorkloadResolver of(List<Path> runtimeDirs) {
        return of(runtimeDirs, null, null);
    }

    /**
     * Reads bundles from these runtime directories, and names from kubelet's pod log directory and
     * container log symlinks (each null when not wanted).
     */
    public static WorkloadResolver of(List<Path> runtimeDirs, Path podLogsDir, Path containerLogsDir) {
        return new WorkloadResolver(new Bundles(runtimeDirs.isEmpty() ? null : new BundleReader(runtimeDirs)),
                new KubeletLogs(podLogsDir, containerLogsDir));
    }

    /** Paths only: no bundle is ever read. */
    public static WorkloadResolver pathsOnly() {
        return new WorkloadResolver(new Bundles(null));
    }

    /**
     * The workload of a cgroup.
     *
     * @param id   the cgroup's id, so that its container's names are kept while the cgroup is
     *             (0 when the path is not one cgroup's, e.g. an ancestor a series was rolled up to)
     * @param path its path as the index shows it; null gives {@link Workload#OTHER}
     */
    public Workload of(long id, String path) {
        Workload w = PathClassifier.classify(path);
        if (w.containerId() != null) {
            BundleInfo b = bundles.get(w.containerId(), id);
            if (b != null) {
                w = w.withBundle(b);
            }
        }
        if (w.podUid() != null && (w.namespace() == null || w.pod() == null)) {
            Bundles.PodNames names = bundles.podNames(w.podUid());
            if (names != null) {
                w = w.withPodNames(names.namespace(), names.name());
            }
        }
        if (w.podUid() != null && unnamed(w)) {
            KubeletLogs.Names n = w.containerId() != null ? logs.container(w.containerId(), w.podUid(), id)
                    : logs.pod(w.podUid(), id);
            if (n != null) {
                w = w.withLogNames(n);
            }
        }
        return w;
    }

    /** Whether a pod's cgroup lacks a name a source could give: its pod's, or as a container its own. */
    private static boolean unnamed(Workload w) {
        return w.namespace() == null || w.pod() == null || w.containerId() != null && w.container() == null;
    }

    /**
     * Whether the names of this workload (from {@link #of}) may still come: a container of a pod
     * that no bundle named and whose log names are still looked for. Its first export waits for them
     * (a series' labels never change), at most {@link KubeletLogs#WAIT_NANOS} after they were first asked for.
     */
    public boolean awaitingNames(Workload w) {
        return w.containerId() != null && w.podUid() != null && unnamed(w) && w.kind() != Workload.Kind.SANDBOX
                && logs.awaiting(w.containerId(), w.podUid());
    }

    /**
     * Whether {@link #of} for this path would read a file (its container's bundle was never read):
     * callers on an event loop read it elsewhere first ({@link #readEarly}).
     */
    public boolean wouldRead(String path) {
        String id = PathClassifier.classify(path).containerId();
        return id != null && bundles.unread(id);
    }

    /**
     * Reads a container's bundle now if it never was (the tracker, as the index learns the cgroup);
     * when it gave no names, asks for the log names of the cgroup at {@code path} (looked up only then).
     */
    public void readEarly(String containerId, long cgroupId, java.util.function.LongFunction<String> path) {
        BundleInfo b = bundles.get(containerId, cgroupId);
        if ((b == null || b.pod() == null) && logs.enabled()) {
            String p = path.apply(cgroupId);
            if (p != null) {
                of(cgroupId, p);
            }
        }
    }

    /** Forgets names whose cgroups all left the index. */
    public void prune(LongPredicate cgroupKnown) {
        bundles.prune(cgroupKnown);
        logs.prune(cgroupKnown);
    }

    public Bundles bundles() {
        return bundles;
    }

    public KubeletLogs logs() {
        return logs;
    }
}
