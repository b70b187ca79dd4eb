package io.cgscope.programs;

import java.util.Arrays;
import java.util.List;

/**
 * A series of one user metric: its label values (a histogram's without the bucket), the relative
 * paths of its cgroup labels (for the end of a folded total: {@link CgroupNamer#pathKnown}), and
 * its values. {@link UserMetric} keeps one instance per label set (equal by values) from scrape
 * to scrape and each key refers to its own, so counting a row is an addition, not a hash lookup:
 * {@code values} holds this scrape's sums ({@code epoch} says which scrape), {@code folded} the
 * totals of keys gone (null while there are none).
 */
final class LabelSet {
    final List<String> values;
    /**
     * What is exported when some workload labels have no value (they are left out, as the
     * built-in families leave them out): the names (a histogram's with {@code le}) and values;
     * null: the metric's names and {@link #values}.
     */
    List<String> names;
    List<String> namesLe;
    List<String> shown;
    final String[] paths;
    private final int hash;
    long[] v;
    long epoch = -1;
    long[] folded;
    /** No longer the instance for its values (dropped after two scrapes unused): keys find the current one. */
    boolean pruned;

    LabelSet(String[] values, String[] paths, int slots) {
        this.values = List.of(values);
        this.paths = paths;
        this.hash = this.values.hashCode();
        this.v = new long[slots];
    }

    /** Adds to this scrape's value of a slot; the first addition of a scrape starts it from zero. */
    void add(long scrape, int slot, long x, List<LabelSet> active) {
        if (epoch != scrape) {
            start(scrape, active);
        }
        v[slot] += Math.max(0, x);
    }

    /** Makes this set part of scrape {@code scrape}, its values zero. */
    void start(long scrape, List<LabelSet> active) {
        epoch = scrape;
        Arrays.fill(v, 0);
        active.add(this);
    }

    /** Adds to the total of keys gone; true when this is its first. */
    boolean fold(int slot, long x) {
        boolean first = folded == null;
        if (first) {
            folded = new long[v.length];
        }
        folded[slot] += Math.max(0, x);
        return first;
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
