// SPDX-License-Identifier: GPL-2.0
/*
 * Test program (UserProgramsKernelTest): one object, three programs, of which one the verifier
 * refuses, one attaches only where the kernel has kprobes, and one works. The working one must
 * keep working, and each of the others must be down with libbpf's reason.
 */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "cgscope-maps.bpf.h"

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 16384);
    __type(key, u64);
    __type(value, u64);
} broken_switches_total SEC(".maps");

SEC("tp_btf/sched_switch")
int BPF_PROG(counts, bool preempt, struct task_struct *prev, struct task_struct *next)
{
    u64 cgroup = bpf_get_current_cgroup_id();

    cgscope_add(&broken_switches_total, &cgroup, 1);
    return 0;
}

/* Refused by the verifier: a map value used without checking it for NULL. */
SEC("tp_btf/sched_switch")
int BPF_PROG(refused, bool preempt, struct task_struct *prev, struct task_struct *next)
{
    u64 key = 0;
    u64 *value = bpf_map_lookup_elem(&broken_switches_total, &key);

    return *value;
}

/* Loads everywhere; attaches only where the kernel has kprobes (CONFIG_KPROBES). */
SEC("kprobe/do_nanosleep")
int probe(void *ctx)
{
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
