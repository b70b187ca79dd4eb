package io.cgscope.metrics;

import java.util.regex.Pattern;

/**
 * Turns an index path into the {@code cgroup} label value: the {@code --cgroup.max-depth} roll-up
 * first (a deeper cgroup counts for its ancestor at depth N; the root {@code /} has depth 0,
 * {@code a} depth 1, {@code a/b} depth 2), then {@code --cgroup.include} and
 * {@code --cgroup.exclude}, which must match the whole (rolled-up) value. The filters apply to
 * {@code /} and {@code /unknown} too. Pure and thread-safe.
 */
public final class CgroupLabels {
    /** The one series for ids the index cannot resolve: no real path begins with {@code /} except the root. */
    public static final String UNKNOWN = "/unknown";
    public static final String ROOT = "/";

    /**
     * A workload label's value as the per-cgroup families export it ({@code kind}, {@code pod}, ...
     * of {@code --metrics.workload-labels}); null where the workload has none. For other
     * collectors that label cgroups (the user programs' {@code cgroup} decoder).
     */
    public static String workloadLabel(io.cgscope.workload.Workload w, String label) {
        return SeriesKeys.value(w, label);
    }

    private final int maxDepth;
    private final Pattern include;
    private final Pattern exclude;

    /**
     * @param maxDepth 0 for unlimited
     * @param include  null to include everything
     * @param exclude  null to exclude nothing
     */
    public CgroupLabels(int maxDepth, Pattern include, Pattern exclude) {
        this.maxDepth = maxDepth;
        this.include = include;
        this.exclude = exclude;
    }

    /** The label for a path (null: unresolved, see {@link #UNKNOWN}), or null when the result is filtered out. */
    public String label(String path) {
        String rolled = rollUp(path == null ? UNKNOWN : path);
        return exported(rolled) ? rolled : null;
    }

    /** The path cut to its first {@code maxDepth} segments; the root and {@code /unknown} stay as they are. */
    public String rollUp(String path) {
        if (maxDepth <= 0 || path.startsWith("/")) {
            return path;
        }
        int seen = 0;
        for (int i = 0; i < path.length(); i++) {
            if (path.charAt(i) == '/' && ++seen == maxDepth) {
                return path.substring(0, i);
            }
        }
        return path;
    }

    /** Whether a (rolled-up) label passes include and exclude, each a full match. */
    public boolean exported(String label) {
        if (include != null && !include.matcher(label).matches()) {
            return false;
        }
        return exclude == null || !exclude.matcher(label).matches();
    }
}
