/**
 * The BPF companion: libbpf bound with Panama FFM ({@code LibBpf}, the only class that links
 * libbpf: typed methods, one -errno convention, one failure helper), loading the bundled object
 * feature by feature, attaching, and reading the per-cgroup maps into tables for the metrics
 * ({@code BpfCompanion}, counting by the task's cgroup in the hierarchy {@code BpfHierarchy}
 * names); the index's own lifecycle programs ({@code LifecycleProgram}), their ring read from its
 * mapping ({@code BpfRing}) and parsed ({@code LifecycleRecords}); users' objects in
 * ebpf_exporter's format ({@code UserObject}: load, attach by section, {@code UserMap} batch reads
 * into a {@code RawTable}, perf buffers).
 *
 * <p>May import {@code linux} (perf events, errno, {@code Arch}); nothing else of cgscope.
 */
package io.cgscope.bpf;
