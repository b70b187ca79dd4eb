package io.cgscope.workload;

import java.nio.file.Path;
import java.util.List;
import java.util.function.LongPredicate;

/**
 * The workload of a cgroup: its path's classification ({@link PathClassifier}), its container's
 * bundle ({@link Bundles}, read once per container), and its pod's names. Cheap to call again
 * (the bundle is cached; classifying a path is a pass over its characters); never throws.
 */
public final class WorkloadResolver {
    private final Bundles bundles;

    public WorkloadResolver(Bundles bundles) {
        this.bundles = bundles;
    }

    /** Reads bundles from these runtime directories; none: names come from paths alone. */
    public static WorkloadResolver of(List<Path> runtimeDirs) {
        return new WorkloadResolver(new Bundles(runtimeDirs.isEmpty() ? null : new BundleReader(runtimeDirs)));
    }

    /** Paths only: no bundle is ever read. */
    public static WorkloadResolver pathsOnly() {
        return new WorkloadResolver(new Bundles(null));
    }

    /**
     * The workload of a cgroup.
     *
     * @param id   the cgroup's id, so that its container's bundle is kept while the cgroup is
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
        return w;
    }

    /**
     * Whether {@link #of} for this path would read a file (its container's bundle was never read):
     * callers on an event loop read it elsewhere first ({@link #readEarly}).
     */
    public boolean wouldRead(String path) {
        String id = PathClassifier.classify(path).containerId();
        return id != null && bundles.unread(id);
    }

    /** Reads a container's bundle now if it never was (the tracker, as the index learns the cgroup). */
    public void readEarly(String containerId, long cgroupId) {
        bundles.get(containerId, cgroupId);
    }

    /** Forgets bundles whose cgroups all left the index. */
    public void prune(LongPredicate cgroupKnown) {
        bundles.prune(cgroupKnown);
    }

    public Bundles bundles() {
        return bundles;
    }
}
