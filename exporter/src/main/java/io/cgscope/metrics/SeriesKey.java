package io.cgscope.metrics;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The labels of one per-cgroup series, fixed when the series is first exported: {@code cgroup},
 * then the {@code --metrics.workload-labels} that have a value, and the values of
 * {@code cgscope_cgroup_info}. Two keys are the same series when their {@link #identity} is: the
 * labels of the first one win, so a series' labels never change during its life, even when a
 * bundle read later would name it differently.
 */
final class SeriesKey {
    final String cgroup;
    /** What the series stands for: its cgroup label, and with the container roll-up its container's name. */
    final String identity;
    /** {@code [cgroup, <workload labels with a value>...]}, shared by every sample of the series. */
    final List<String> names;
    final List<String> values;
    /** {@link #names} and {@code le}, for histogram buckets. */
    final List<String> namesLe;
    /** The values of {@code cgscope_cgroup_info}'s labels ({@link SeriesKeys#INFO_LABELS}). */
    final List<String> info;
    /**
     * {@link #names} and {@link #values} as every sample of the series writes them between its
     * braces, escaped once here rather than character by character in every scrape
     * ({@link ExpositionWriter}): {@code cgroup="...",namespace="..."}.
     */
    final String labelText;
    /** The same for {@code cgscope_cgroup_info} (null without it). */
    final String infoText;
    /** The last aggregation that used it (keys unused in one are forgotten). */
    long usedEpoch;

    SeriesKey(String cgroup, String identity, List<String> names, List<String> values, List<String> info) {
        this.cgroup = cgroup;
        this.identity = identity;
        this.names = names;
        this.values = values;
        List<String> le = new ArrayList<>(names);
        le.add("le");
        this.namesLe = Collections.unmodifiableList(le);
        this.info = info;
        this.labelText = ExpositionWriter.labelText(names, values);
        this.infoText = info == null ? null : ExpositionWriter.labelText(SeriesKeys.INFO_LABELS, info);
    }

    /** Label values for a bucket: this series' values and {@code le}. */
    List<String> valuesWith(String le) {
        String[] v = values.toArray(new String[values.size() + 1]);
        v[values.size()] = le;
        return java.util.Arrays.asList(v);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SeriesKey k && k.identity.equals(identity);
    }

    @Override
    public int hashCode() {
        return identity.hashCode();
    }

    @Override
    public String toString() {
        return names + "=" + values;
    }
}
