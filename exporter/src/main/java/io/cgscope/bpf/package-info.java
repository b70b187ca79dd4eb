/**
 * The BPF companion: libbpf bound with Panama FFM ({@code LibBpf}, the only class that links
 * libbpf: typed methods, one -errno convention, one failure helper), loading the bundled object
 * feature by feature, attaching, and reading the per-cgroup maps into tables for the metrics.
 *
 * <p>May import {@code linux} (perf events, errno, {@code Arch}); nothing else of cgscope.
 */
package io.cgscope.bpf;
