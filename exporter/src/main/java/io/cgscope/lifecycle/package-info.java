/**
 * The BPF index source: the cgroup lifecycle programs' records ({@code bpf/src/lifecycle.bpf.c},
 * loaded by {@code bpf.LifecycleProgram}) applied to each hierarchy's index. {@link
 * io.cgscope.lifecycle.LifecycleHub} owns the programs, their ring and the one reader thread, shared
 * by every hierarchy; {@link io.cgscope.lifecycle.LifecycleWatcher} is one hierarchy's
 * {@code IndexSource}; {@link io.cgscope.lifecycle.RecordApplier} turns a record into a create or
 * delete. {@link io.cgscope.lifecycle.CrossCheck} and {@link io.cgscope.lifecycle.CrossCheckReader}
 * compare the BPF source with fanotify ({@code --cgroup.index-mode=crosscheck}).
 *
 * <p>Imports: bpf (the programs and the parsed records), cgroupfs (sweeps), index, linux (poll,
 * eventfd). No {@code MemorySegment} in a signature here: the ring's bytes stay in bpf.
 */
package io.cgscope.lifecycle;
