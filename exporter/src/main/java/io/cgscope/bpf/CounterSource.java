package io.cgscope.bpf;

import java.util.Map;
import java.util.Set;

/**
 * What the metrics read from the BPF side, in plain Java: which features run, the per-cgroup
 * tables, the failure counters, the programs' own cost. {@link BpfComponent} is the real one;
 * tests hand-build one. Implementations are thread-safe.
 */
public interface CounterSource {
    /** A feature's state: up, or down with the reason (not selected, failed to load or attach). */
    record Status(boolean up, String reason) {
    }

    /** A BPF program's own cost, as the kernel counts it while {@code kernel.bpf_stats_enabled} is 1. */
    record RunStats(long runTimeNs, long runCount) {
    }

    /**
     * One read of the maps.
     *
     * @param up             the features that are up (their words in the tables are live)
     * @param tables         the per-cgroup maps the up features fill, by map name (ids -> values
     *                       summed over CPUs; words of a feature that is down are zero)
     * @param updateFailures failed inserts per map name, since load
     */
    record Counters(Set<Feature> up, Map<String, MapTable> tables, Map<String, Long> updateFailures) {
    }

    /** Every selected feature with its state. */
    Map<Feature, Status> status();

    /** Reads every up feature's map. The tables are reused: valid until the next read. */
    Counters read() throws BpfException;

    /**
     * A second reader of the same maps with tables of its own (the live page's sampler): its reads
     * are serialized with {@link #read()}, but never overwrite the tables {@link #read()} handed
     * to the metrics, which use them after the read returned.
     */
    Reader newReader();

    /** Reads the maps into tables only this reader uses: valid until its next read. */
    @FunctionalInterface
    interface Reader {
        Counters read() throws BpfException;
    }

    /** Removes a cgroup's entries from every per-cgroup map (after its values were folded). */
    void delete(long cgroupId) throws BpfException;

    /**
     * Per attached BPF program (by its name in the C: {@code on_switch}, {@code cpu_tick}, ...), its
     * run time and count; empty when the kernel does not collect them.
     */
    Map<String, RunStats> runStats();

    /** Capacity of each per-cgroup map ({@code --bpf.max-cgroups}). */
    int maxEntries();
}
