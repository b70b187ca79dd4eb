package io.cgscope.programs;

import java.util.List;

/**
 * A series' label values (a histogram's without the bucket) and the relative paths of its cgroup
 * labels (for the end of a folded total: {@link CgroupNamer#pathKnown}). Equal by values.
 */
final class LabelSet {
    final List<String> values;
    /** The relative (rolled-up) paths of its cgroup labels, for the fold's end; null without any. */
    final String[] paths;
    private final int hash;

    LabelSet(String[] values, String[] paths) {
        this.values = List.of(values);
        this.paths = paths;
        this.hash = this.values.hashCode();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof LabelSet t && t.hash == hash && t.values.equals(values);
    }

    @Override
    public int hashCode() {
        return hash;
    }
}
