package io.cgscope.bpf;

import java.util.List;
import java.util.Locale;

/**
 * What {@code --bpf.programs} selects: each feature is a set of BPF programs in
 * {@code cgscope.bpf.c} (the sched_switch program is shared, its parts switched on by
 * {@link #configOffset() flags} set before load) and is loaded and attached so that one failing
 * leaves the others working. The names are the flag's values and the {@code program} label of
 * {@code cgscope_bpf_program_up}.
 */
public enum Feature {
    /** On-CPU time: charged at every sched_switch and at every cpu-clock tick. */
    CPU(List.of(Prog.ON_SWITCH, new Prog("cpu_tick", true)), BpfMaps.COUNTERS, BpfMaps.CPU_NS_WORD, 0),
    /** cpu-clock samples at {@code --bpf.sample-frequency}. */
    SAMPLES(List.of(new Prog("sample", true)), BpfMaps.COUNTERS, BpfMaps.SAMPLES_WORD, -1),
    /** Context switches of the task switched out. */
    SWITCHES(List.of(Prog.ON_SWITCH), BpfMaps.COUNTERS, BpfMaps.SWITCHES_WORD, 1),
    /** Run-queue latency, from wake-up (or preemption) to running, as the scheduler accounts it. */
    RUNQLAT(List.of(Prog.ON_SWITCH), BpfMaps.RUNQLAT, 0, 2);

    /**
     * One BPF program.
     *
     * @param perfEvent attached to one cpu-clock perf event per CPU; otherwise attached by its
     *                  section name ({@code tp_btf/...})
     */
    public record Prog(String name, boolean perfEvent) {
        /** The one program on tp_btf/sched_switch, shared by cpu, switches and runqlat. */
        public static final Prog ON_SWITCH = new Prog("on_switch", false);
    }

    private final List<Prog> programs;
    private final String dataMap;
    private final int firstWord;
    private final int configOffset;

    Feature(List<Prog> programs, String dataMap, int firstWord, int configOffset) {
        this.programs = programs;
        this.dataMap = dataMap;
        this.firstWord = firstWord;
        this.configOffset = configOffset;
    }

    /** Its byte in {@code struct cgscope_config} (the ".rodata.config" map), or -1 when it has none. */
    public int configOffset() {
        return configOffset;
    }

    /** Every distinct program of these features, in a stable order. */
    public static List<Prog> programsOf(Iterable<Feature> features) {
        java.util.LinkedHashSet<Prog> out = new java.util.LinkedHashSet<>();
        for (Feature f : features) {
            out.addAll(f.programs);
        }
        return List.copyOf(out);
    }

    public List<Prog> programs() {
        return programs;
    }

    /** The per-cgroup map this feature fills (cpu, samples and switches share {@code counters}). */
    public String dataMap() {
        return dataMap;
    }

    /** Its first word in a value of {@link #dataMap()}. */
    public int firstWord() {
        return firstWord;
    }

    /** The per-cgroup maps these features fill, in {@link BpfMaps#PER_CGROUP} order. */
    public static List<String> mapsOf(Iterable<Feature> features) {
        java.util.Set<String> used = new java.util.HashSet<>();
        for (Feature f : features) {
            used.add(f.dataMap);
        }
        return BpfMaps.PER_CGROUP.stream().filter(used::contains).toList();
    }

    /** As in the flag and the labels: {@code cpu}, {@code samples}, {@code switches}, {@code runqlat}. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static Feature of(String label) {
        return valueOf(label.toUpperCase(Locale.ROOT));
    }
}
