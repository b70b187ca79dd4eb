package io.cgscope.bpf;

import java.util.List;

/** The maps of {@code cgscope.bpf.c}, by name, and the layout of their values. */
public final class BpfMaps {
    /**
     * The plain counters per cgroup id (per-CPU {@code struct cgroup_counters}): words
     * {@link #CPU_NS_WORD}, {@link #SAMPLES_WORD}, {@link #SWITCHES_WORD}.
     */
    public static final String COUNTERS = "counters";
    /** Words of {@code struct cgroup_counters}. */
    public static final int CPU_NS_WORD = 0;
    public static final int SAMPLES_WORD = 1;
    public static final int SWITCHES_WORD = 2;
    public static final int COUNTERS_WORDS = 3;
    /** Run-queue latency histogram per cgroup id (per-CPU {@code struct runq_hist}). */
    public static final String RUNQLAT = "runqlat";
    /** Failed inserts per map (per-CPU array, indexed by {@link #FAILURE_INDEX}). */
    public static final String UPDATE_FAILURES = "update_failures";

    /** {@code struct cgscope_config}: which parts of the shared sched_switch program run. */
    public static final String CONFIG = ".rodata.config";

    /** The per-cgroup maps, sized by {@code --bpf.max-cgroups}. */
    public static final List<String> PER_CGROUP = List.of(COUNTERS, RUNQLAT);

    /** {@code enum map_index} in the C: the map each slot of {@link #UPDATE_FAILURES} counts for. */
    public static final List<String> FAILURE_INDEX = List.of(COUNTERS, RUNQLAT);

    /** {@code RUNQ_SLOTS}: slot 0 is < 1 us, slot i in [2^(i-1), 2^i) us, the last is everything above. */
    public static final int RUNQ_SLOTS = 22;
    /** u64 words of one {@code struct runq_hist}: the slots, then the sum of waits in ns. */
    public static final int RUNQ_WORDS = RUNQ_SLOTS + 1;

    private BpfMaps() {
    }

    /** u64 words per value of a per-cgroup map. */
    public static int words(String map) {
        return map.equals(RUNQLAT) ? RUNQ_WORDS : COUNTERS_WORDS;
    }
}
