package io.cgscope.metrics;

import io.cgscope.config.Config.RollUp;
import io.cgscope.workload.Workload;

/**
 * What one cgroup's counts stand for under {@code --cgroup.roll-up}: the path of the series'
 * cgroup, the container's name when one series stands for a container across its restarts, and
 * the workload whose labels the series gets. Shared by the built-in families ({@link SeriesKeys})
 * and the user programs' {@code cgroup} decoder, so both roll up alike. Pure.
 *
 * @param path      the cgroup the series stands for (the cgroup's own, its container's or its pod's)
 * @param container with {@code container}: the container's name, part of the series' identity; else null
 * @param workload  the series' workload
 */
public record SeriesTarget(String path, String container, Workload workload) {
    /** The target of a cgroup at {@code path} whose workload is {@code w}. */
    public static SeriesTarget of(Workload w, RollUp rollUp, String path) {
        switch (rollUp) {
            case CONTAINER -> {
                if (w.inContainer() && w.container() != null && w.podCgroup() != null) {
                    // one series per pod and container name, across restarts
                    return new SeriesTarget(w.podCgroup(), w.container(), w.asContainerAcrossRestarts());
                } else if (w.inContainer()) {
                    return new SeriesTarget(w.containerCgroup(), null, w);
                }
            }
            case POD -> {
                if (w.podCgroup() != null) {
                    return new SeriesTarget(w.podCgroup(), null, w.asPod());
                } else if (w.inContainer()) {
                    return new SeriesTarget(w.containerCgroup(), null, w);
                }
            }
            case NONE -> {
            }
        }
        return new SeriesTarget(path, null, w);
    }
}
