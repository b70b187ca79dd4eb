package io.cgscope.metrics;

import io.cgscope.config.Config.RollUp;
import io.cgscope.workload.Workload;
import io.cgscope.workload.WorkloadResolver;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Decides, once per cgroup id, which series its counts go to and with which labels: the workload
 * of its path ({@link WorkloadResolver}: classification and its container's bundle), then
 * {@code --cgroup.roll-up} (into its container's cgroup, or, across a container's restarts, into
 * its pod's cgroup and the container's name; or into its pod's cgroup), then
 * {@link CgroupLabels} ({@code --cgroup.max-depth}, include, exclude). The keys are interned by
 * what the series stands for, so every id of a series shares the first key's labels. Used by the
 * one scrape thread.
 */
final class SeriesKeys {
    static final List<String> CGROUP = List.of("cgroup");
    /** {@code cgscope_cgroup_info}'s labels. */
    static final List<String> INFO_LABELS = List.of("cgroup", "kind", "namespace", "pod", "container", "pod_uid",
            "container_id", "qos_class", "runtime", "unit", "image");
    /**
     * {@link #of}'s answer for a cgroup whose series must wait: a pod's container whose names are
     * still looked for ({@link WorkloadResolver#awaitingNames}). Its counts stay in the maps and are
     * exported, whole, by a later scrape, with the names then known.
     */
    static final SeriesKey HELD = new SeriesKey("", "", CGROUP, List.of(""), null);

    private final WorkloadResolver workloads;
    private final CgroupLabels labels;
    private final List<String> workloadLabels;
    private final RollUp rollUp;
    private final boolean info;
    private final Map<String, SeriesKey> interned = new HashMap<>();

    SeriesKeys(WorkloadResolver workloads, CgroupLabels labels, List<String> workloadLabels, RollUp rollUp) {
        this(workloads, labels, workloadLabels, rollUp, true);
    }

    private SeriesKeys(WorkloadResolver workloads, CgroupLabels labels, List<String> workloadLabels, RollUp rollUp,
                       boolean info) {
        this.workloads = workloads;
        this.labels = labels;
        this.workloadLabels = List.copyOf(workloadLabels);
        this.rollUp = rollUp;
        this.info = info;
    }

    /**
     * Paths only, no workload labels, no roll-up, no {@code cgscope_cgroup_info}: the {@code cgroup}
     * label alone, as before workloads were named (tests of the rest; the benchmark's reference).
     */
    static SeriesKeys plain(CgroupLabels labels) {
        return new SeriesKeys(WorkloadResolver.pathsOnly(), labels, List.of(), RollUp.NONE, false);
    }

    CgroupLabels labels() {
        return labels;
    }

    /** The key of {@code /unknown} (null when the filters exclude it). */
    SeriesKey unknown(long epoch) {
        String label = labels.label(CgroupLabels.UNKNOWN);
        return label == null ? null : intern(label, () -> build(label, label, Workload.OTHER), epoch);
    }

    /**
     * The key of a named cgroup's counts, or null when the filters exclude its series, or
     * {@link #HELD} (when {@code mayHold}) while its names may still come.
     */
    SeriesKey of(long id, String path, long epoch, boolean mayHold) {
        Workload w = workloads.of(id, path);
        if (mayHold && workloads.awaitingNames(w)) {
            return HELD;
        }
        SeriesTarget t = SeriesTarget.of(w, rollUp, path);
        String target = t.path();
        Workload series = t.workload();
        String container = t.container();
        String label = labels.label(target);
        if (label == null) {
            return null;
        }
        if (!label.equals(target)) {
            // --cgroup.max-depth cut above: the series stands for that ancestor
            container = null;
            series = workloads.of(0, label.startsWith("/") ? null : label);
        }
        String identity = container == null ? label : label + '\n' + container;
        Workload s = series;
        return intern(identity, () -> build(label, identity, s), epoch);
    }

    private SeriesKey intern(String identity, java.util.function.Supplier<SeriesKey> make, long epoch) {
        SeriesKey k = interned.get(identity);
        if (k == null) {
            k = make.get();
            interned.put(identity, k);
        }
        k.usedEpoch = epoch;
        return k;
    }

    /** Forgets keys no series used in the aggregation {@code epoch}. */
    void forgetUnused(long epoch) {
        interned.values().removeIf(k -> k.usedEpoch < epoch);
    }

    private SeriesKey build(String label, String identity, Workload w) {
        List<String> names = new ArrayList<>(1 + workloadLabels.size());
        List<String> values = new ArrayList<>(1 + workloadLabels.size());
        names.add("cgroup");
        values.add(label);
        for (String l : workloadLabels) {
            String v = value(w, l);
            if (v != null && !v.isEmpty()) {
                names.add(l);
                values.add(v);
            }
        }
        List<String> infoValues = null;
        if (info) {
            infoValues = new ArrayList<>(INFO_LABELS.size());
            infoValues.add(label);
            for (int i = 1; i < INFO_LABELS.size(); i++) {
                String v = value(w, INFO_LABELS.get(i));
                infoValues.add(v == null ? "" : v);
            }
            infoValues = Collections.unmodifiableList(infoValues);
        }
        return new SeriesKey(label, identity, names.size() == 1 ? CGROUP : Collections.unmodifiableList(names),
                Collections.unmodifiableList(values), infoValues);
    }

    /** A workload field by its label name; null where it has none. */
    static String value(Workload w, String label) {
        return switch (label) {
            case "kind" -> w.kind().label();
            case "namespace" -> w.namespace();
            case "pod" -> w.pod();
            case "container" -> w.container();
            case "pod_uid" -> w.podUid();
            case "container_id" -> w.containerId();
            case "qos_class" -> w.qosClass() == null ? null : w.qosClass().label();
            case "runtime" -> w.runtime() == null ? null : w.runtime().label();
            case "unit" -> w.unit();
            case "image" -> w.image();
            default -> throw new IllegalArgumentException("not a workload label: " + label);
        };
    }
}
