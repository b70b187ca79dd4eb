// SPDX-License-Identifier: GPL-2.0
/*
 * Per-cgroup program starts (exec) and CPU samples: an example of a user program for cgscope in
 * ebpf_exporter's format (cgroup-events.yaml beside it; README, "Bringing ebpf_exporter
 * programs"), showing three shapes the format has:
 *
 *   - a counter fed through a perf_event_array (perf_event_array: true): each record counts one;
 *   - a perf event named in the section (perf_event/type=,config=,frequency=), counting into a
 *     per-CPU hash map (its CPUs' values are summed);
 *   - a per-CPU array whose only label is cpu: one series per CPU.
 *
 * Build: clang -O2 -g -target bpf -D__TARGET_ARCH_x86 -I<dir of vmlinux.h> -c cgroup-events.bpf.c
 */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "cgscope-maps.bpf.h"

struct {
    __uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
    __uint(key_size, sizeof(u32));
    __uint(value_size, sizeof(u32));
} cgroup_execs_total SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_HASH);
    __uint(max_entries, 16384);
    __type(key, u64);
    __type(value, u64);
} cgroup_cpu_samples_total SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 1);
    __type(key, u32);
    __type(value, u64);
} cpu_samples_total SEC(".maps");

/* A task called execve(2): one record with the cgroup id (the labels' 8 bytes). */
SEC("tp_btf/sched_process_exec")
int BPF_PROG(on_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
    u64 cgroup = bpf_get_current_cgroup_id();

    bpf_perf_event_output(ctx, &cgroup_execs_total, BPF_F_CURRENT_CPU, &cgroup, sizeof(cgroup));
    return 0;
}

/* PERF_TYPE_SOFTWARE (1), PERF_COUNT_SW_CPU_CLOCK (0), 49 samples a second on each CPU. */
SEC("perf_event/type=1,config=0,frequency=49")
int on_sample(struct bpf_perf_event_data *ctx)
{
    u32 zero = 0;
    u64 *all = bpf_map_lookup_elem(&cpu_samples_total, &zero);

    if (all)
        *all += 1; /* this CPU's own slot: no other CPU writes it */
    if (bpf_get_current_pid_tgid() >> 32 == 0)
        return 0; /* the idle task */
    u64 cgroup = bpf_get_current_cgroup_id();

    cgscope_add(&cgroup_cpu_samples_total, &cgroup, 1);
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
