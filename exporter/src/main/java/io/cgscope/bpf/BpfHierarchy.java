package io.cgscope.bpf;

import java.util.List;

/**
 * Whose cgroup the companion's counters are keyed by (--cgroup.hierarchy): the task's cgroup in
 * the unified hierarchy, or in one v1 hierarchy, found through the task's css_set: by the slot of
 * one of the hierarchy's controllers ({@code subsys[]}, a few loads), or for a hierarchy without a
 * controller ({@code name=systemd}) by its id among the css_set's cgroups. Written into
 * {@code struct cgscope_config} before load (the verifier then keeps only the path chosen).
 *
 * @param kind         0 unified, 1 controller, 2 named ({@code enum hierarchy_kind} in the C)
 * @param controller   for kind 1: the index in {@link #CONTROLLERS}
 * @param hierarchyId  the kernel's {@code hierarchy_id} (0 for unified)
 * @param name         as {@code /hierarchies} names it, for logs
 */
public record BpfHierarchy(int kind, int controller, int hierarchyId, String name) {
    /** {@code enum cgroup_subsys_id___cgscope} in cgscope.bpf.c, in its order (v1 names: blkio is io). */
    public static final List<String> CONTROLLERS = List.of("cpuset", "cpu", "cpuacct", "blkio", "memory", "devices",
            "freezer", "net_cls", "perf_event", "net_prio", "hugetlb", "pids", "rdma", "misc");
    /** Offsets in {@code struct cgscope_config}. */
    static final int KIND_OFFSET = 3;
    static final int CONTROLLER_OFFSET = 4;
    static final int HIERARCHY_ID_OFFSET = 8;

    /** The unified hierarchy (cgroup2). */
    public static BpfHierarchy unified() {
        return new BpfHierarchy(0, 0, 0, "unified");
    }

    /**
     * A v1 hierarchy: by its first controller the companion knows, else by its id.
     *
     * @param controllers its controllers (none for a named hierarchy)
     */
    public static BpfHierarchy v1(int hierarchyId, String name, List<String> controllers) {
        for (String c : controllers) {
            int code = CONTROLLERS.indexOf(c);
            if (code >= 0) {
                return new BpfHierarchy(1, code, hierarchyId, name);
            }
        }
        return new BpfHierarchy(2, 0, hierarchyId, name);
    }

    /**
     * Writes this choice into an object's {@code .rodata.config} before load, at the offsets both
     * {@code struct cgscope_config} (cgscope.bpf.c) and {@code struct oom_config} (oom.bpf.c) use.
     */
    void configure(BpfObject obj) throws BpfException {
        obj.setInitialByte(BpfMaps.CONFIG, KIND_OFFSET, (byte) kind);
        obj.setInitialByte(BpfMaps.CONFIG, CONTROLLER_OFFSET, (byte) controller);
        for (int i = 0; i < 4; i++) { // u32, little-endian (x86-64, arm64)
            obj.setInitialByte(BpfMaps.CONFIG, HIERARCHY_ID_OFFSET + i, (byte) (hierarchyId >>> (8 * i)));
        }
    }

    /** For the start-up line: {@code memory (css_set.subsys[memory])}. */
    public String describe() {
        return switch (kind) {
            case 0 -> "unified";
            case 1 -> name + " (the task's css_set.subsys[" + CONTROLLERS.get(controller) + "])";
            default -> name + " (the task's css_set.cgrp_links, hierarchy id " + hierarchyId + ")";
        };
    }
}
