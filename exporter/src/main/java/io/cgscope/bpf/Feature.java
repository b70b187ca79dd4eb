package io.cgscope.bpf;

import java.util.List;
import java.util.Locale;

/**
 * What {@code --bpf.programs} selects: each feature is a set of BPF programs in
 * {@code cgscope.bpf.c} that is loaded and attached on its own, so one failing leaves the others
 * working. The names are the flag's values and the {@code program} label of the metrics.
 */
public enum Feature {
    /** On-CPU time: charged at every sched_switch and at every cpu-clock tick. */
    CPU(List.of(new Prog("cpu_switch", false), new Prog("cpu_tick", true)), BpfMaps.CPU_NS),
    /** cpu-clock samples at {@code --bpf.sample-frequency}. */
    SAMPLES(List.of(new Prog("sample", true)), BpfMaps.SAMPLES),
    /** Context switches of the task switched out. */
    SWITCHES(List.of(new Prog("switch_count", false)), BpfMaps.SWITCHES),
    /** Run-queue latency, from wake-up (or preemption) to running. */
    RUNQLAT(List.of(new Prog("runq_wakeup", false), new Prog("runq_wakeup_new", false),
            new Prog("runq_switch", false)), BpfMaps.RUNQLAT);

    /**
     * One BPF program.
     *
     * @param perfEvent attached to one cpu-clock perf event per CPU; otherwise attached by its
     *                  section name ({@code tp_btf/...})
     */
    public record Prog(String name, boolean perfEvent) {
    }

    private final List<Prog> programs;
    private final String dataMap;

    Feature(List<Prog> programs, String dataMap) {
        this.programs = programs;
        this.dataMap = dataMap;
    }

    public List<Prog> programs() {
        return programs;
    }

    /** The per-cgroup map this feature fills. */
    public String dataMap() {
        return dataMap;
    }

    /** As in the flag and the labels: {@code cpu}, {@code samples}, {@code switches}, {@code runqlat}. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static Feature of(String label) {
        return valueOf(label.toUpperCase(Locale.ROOT));
    }
}
