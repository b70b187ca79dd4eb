// SPDX-License-Identifier: GPL-2.0
/*
 * cgscope's BPF companion: per-cgroup counters keyed by the cgroup id, the
 * value bpf_get_current_cgroup_id() returns (the kernfs node id, the same
 * number the fanotify index learns from file handles).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

/* Context switches per cgroup of the task switched out. Per-CPU so that the
 * hot path never needs an atomic; userspace sums the CPUs. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);   /* cgroup id */
	__type(value, __u64); /* switches */
} switches SEC(".maps");

SEC("tp_btf/sched_switch")
int BPF_PROG(on_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	__u64 cgid, one = 1, *count;

	if (prev->pid == 0) /* the idle task is not a cgroup's work */
		return 0;
	/* At sched_switch `current` is still prev. */
	cgid = bpf_get_current_cgroup_id();
	count = bpf_map_lookup_elem(&switches, &cgid);
	if (count)
		*count += 1;
	else
		bpf_map_update_elem(&switches, &cgid, &one, BPF_NOEXIST);
	return 0;
}
