// SPDX-License-Identifier: GPL-2.0
/*
 * cgscope's BPF companion: per-cgroup counters keyed by the cgroup id, the
 * value bpf_get_current_cgroup_id() returns (the kernfs node id, the same
 * number the fanotify index learns from file handles).
 *
 * Four features (--bpf.programs=cpu,samples,switches,runqlat), loaded so that
 * one that fails leaves the others working:
 *
 *   cpu       on_switch (its cpu part) + cpu_tick (perf_event, one per CPU)
 *   samples   sample (perf_event, one per CPU)
 *   switches  on_switch (its switches part)
 *   runqlat   on_switch (its run-queue part) + runq_wakeup, runq_wakeup_new
 *
 * sched_switch is the hot path (every context switch), so the three features
 * that need it share ONE program: each extra program on the tracepoint costs its
 * own dispatch, and separate programs measured 635 ns per switch here against
 * 160 ns for a single counter. Which parts run is decided by read-only flags
 * (struct cgscope_config) that userspace sets before load: the verifier sees
 * them as constants and prunes the disabled parts, so loading each feature
 * alone still isolates a feature the verifier rejects.
 *
 * The per-cgroup maps are plain per-CPU hash maps, not LRU: an entry leaves only
 * when cgscope deletes it (after it folded the values of a cgroup whose
 * retention ended); an LRU would silently make counters go backwards. They are
 * preallocated (the default): their memory is committed at load, max_entries
 * from --bpf.max-cgroups times the value size times the possible CPUs, and no
 * insert ever allocates in the scheduler's path. (BPF_F_NO_PREALLOC was tried:
 * its allocator refills per-CPU caches asynchronously, and a burst of inserts
 * failed with ENOMEM here long before the map was full.) A failed insert (a
 * full map) is counted in update_failures, never silent.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

char LICENSE[] SEC("license") = "GPL";

/*
 * Set by userspace before load (its own section, so a map of its own:
 * ".rodata.config", offset 0). Read-only once loaded: the verifier treats the
 * flags as constants and drops the code of disabled features.
 */
struct cgscope_config {
	__u8 cpu;      /* feature cpu */
	__u8 switches; /* feature switches */
	__u8 runqlat;  /* feature runqlat */
	__u8 pad[5];
};
const volatile struct cgscope_config cgscope_config SEC(".rodata.config") = {};

#define MAX_CGROUPS 16384 /* default; userspace overrides with bpf_map__set_max_entries */
#define TASK_RUNNING 0
#define EEXIST 17

/*
 * Run-queue latency histogram slots, in microseconds:
 *   slot 0:              < 1 us
 *   slot i (1..20):      [2^(i-1), 2^i) us
 *   slot 21:             >= 2^20 us (about 1.05 s)
 * so the cumulative count up to slot i is the number of waits shorter than
 * 2^i us, the Prometheus bucket le = 2^i * 1e-6 s (log2 buckets: every slot,
 * pow4: every other slot). Userspace knows this layout (RunqHistogram.java).
 */
#define RUNQ_SLOTS 22

struct runq_hist {
	__u64 slots[RUNQ_SLOTS];
	__u64 sum_ns; /* total wait, for the histogram's _sum */
};

/* Indexes of update_failures; userspace names them (BpfMaps.java). */
enum map_index {
	MAP_CPU_NS = 0,
	MAP_SAMPLES = 1,
	MAP_SWITCHES = 2,
	MAP_RUNQLAT = 3,
	MAP_RUNQ_START = 4,
	MAP_COUNT = 5,
};

/* On-CPU nanoseconds per cgroup (feature cpu). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, MAX_CGROUPS);
	__type(key, __u64);   /* cgroup id */
	__type(value, __u64); /* nanoseconds on CPU */
} cpu_ns SEC(".maps");

/* perf cpu-clock samples per cgroup (feature samples). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, MAX_CGROUPS);
	__type(key, __u64);   /* cgroup id */
	__type(value, __u64); /* samples */
} samples SEC(".maps");

/* Context switches per cgroup of the task switched out (feature switches). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, MAX_CGROUPS);
	__type(key, __u64);   /* cgroup id */
	__type(value, __u64); /* switches */
} switches SEC(".maps");

/* Run-queue latency histogram per cgroup of the task that waited (feature runqlat). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, MAX_CGROUPS);
	__type(key, __u64); /* cgroup id */
	__type(value, struct runq_hist);
} runqlat SEC(".maps");

/*
 * When a task went onto a run queue (woken, or preempted while runnable), in
 * ktime ns; 0 when not waiting. Task-local storage: the kernel frees it when
 * the task exits, so nothing leaks for tasks that never run again.
 */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC); /* required for local storage */
	__type(key, int);
	__type(value, __u64);
} runq_start SEC(".maps");

/* Per CPU: when this CPU's time was last charged to a cgroup (feature cpu). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64); /* ktime ns of the last charge */
} cpu_last SEC(".maps");

/* Failed inserts per map (a full map, or no memory), indexed by enum map_index. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, MAP_COUNT);
	__type(key, __u32);
	__type(value, __u64);
} update_failures SEC(".maps");

/* Zero values to insert from (read-only data, not the 512-byte stack). */
static const __u64 zero_u64 = 0;
static const struct runq_hist zero_hist = {};

static __always_inline void count_failure(__u32 which)
{
	__u64 *n = bpf_map_lookup_elem(&update_failures, &which);

	if (n)
		*n += 1; /* per-CPU: no atomic needed */
}

/*
 * This CPU's slot of the cgroup's value, inserted as zero when missing. An
 * insert racing with another CPU's insert of the same key gets -EEXIST: then
 * the entry is there and the second lookup finds it.
 */
static __always_inline void *lookup_or_insert(void *map, __u64 *cgid, const void *zero, __u32 which)
{
	void *v = bpf_map_lookup_elem(map, cgid);
	long err;

	if (v)
		return v;
	err = bpf_map_update_elem(map, cgid, zero, BPF_NOEXIST);
	if (err && err != -EEXIST) {
		count_failure(which);
		return NULL;
	}
	return bpf_map_lookup_elem(map, cgid);
}

static __always_inline void add_u64(void *map, __u64 cgid, __u64 delta, __u32 which)
{
	__u64 *v = lookup_or_insert(map, &cgid, &zero_u64, which);

	if (v)
		*v += delta; /* per-CPU value: no atomic needed */
}

/*
 * Charges the time since this CPU's last charge to the cgroup of `current`
 * (skipped for the idle task, pid 0, whose time is nobody's work) and moves
 * the mark to now. Called at every switch and at every cpu-clock tick, so a
 * task that is never switched out is still charged once per tick period.
 */
static __always_inline void charge_cpu(bool idle, __u64 now, __u64 cgid)
{
	__u32 zero = 0;
	__u64 *last, delta;

	last = bpf_map_lookup_elem(&cpu_last, &zero);
	if (!last)
		return;
	delta = *last ? now - *last : 0;
	*last = now;
	if (idle || delta == 0)
		return;
	add_u64(&cpu_ns, cgid, delta, MAP_CPU_NS);
}

/* cpu: the periodic charge of a running task (software cpu-clock, one event per CPU). */
SEC("perf_event")
int cpu_tick(struct bpf_perf_event_data *ctx)
{
	bool idle = bpf_get_current_pid_tgid() == 0;

	charge_cpu(idle, bpf_ktime_get_ns(), idle ? 0 : bpf_get_current_cgroup_id());
	return 0;
}

/* samples: one cpu-clock sample of whatever runs on this CPU; idle samples are not counted. */
SEC("perf_event")
int sample(struct bpf_perf_event_data *ctx)
{
	if (bpf_get_current_pid_tgid() == 0)
		return 0;
	add_u64(&samples, bpf_get_current_cgroup_id(), 1, MAP_SAMPLES);
	return 0;
}

/* runqlat: the task is now waiting for a CPU. */
static __always_inline void runq_enqueued(struct task_struct *p, __u64 now)
{
	__u64 *ts;

	if (p->pid == 0)
		return;
	ts = bpf_task_storage_get(&runq_start, p, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!ts) {
		count_failure(MAP_RUNQ_START);
		return;
	}
	*ts = now;
}

/* log2 of a non-zero value, without loops (the verifier likes it flat). */
static __always_inline __u32 log2_u64(__u64 v)
{
	__u32 r = 0, shift;

	shift = (v > 0xFFFFFFFFULL) << 5; v >>= shift; r |= shift;
	shift = (v > 0xFFFF) << 4; v >>= shift; r |= shift;
	shift = (v > 0xFF) << 3; v >>= shift; r |= shift;
	shift = (v > 0xF) << 2; v >>= shift; r |= shift;
	shift = (v > 0x3) << 1; v >>= shift; r |= shift;
	r |= (v >> 1);
	return r;
}

SEC("tp_btf/sched_wakeup")
int BPF_PROG(runq_wakeup, struct task_struct *p)
{
	runq_enqueued(p, bpf_ktime_get_ns());
	return 0;
}

SEC("tp_btf/sched_wakeup_new")
int BPF_PROG(runq_wakeup_new, struct task_struct *p)
{
	runq_enqueued(p, bpf_ktime_get_ns());
	return 0;
}

/*
 * runqlat at a switch: a preempted prev goes back to the queue (still
 * TASK_RUNNING); next stops waiting: its wait goes into the histogram of next's
 * cgroup, read through CO-RE (next is not current, so the helper cannot be used).
 */
static __always_inline void runq_switch(struct task_struct *prev, struct task_struct *next, __u64 now)
{
	struct runq_hist *h;
	__u64 *ts, delta, us, cgid;
	__u64 slot;

	if (prev->__state == TASK_RUNNING)
		runq_enqueued(prev, now);
	if (next->pid == 0)
		return;
	ts = bpf_task_storage_get(&runq_start, next, 0, 0);
	if (!ts || *ts == 0)
		return; /* enqueued before cgscope attached, or storage refused */
	delta = now - *ts;
	*ts = 0;
	if ((__s64)delta < 0)
		return;
	us = delta / 1000;
	slot = us ? log2_u64(us) + 1 : 0;
	cgid = BPF_CORE_READ(next, cgroups, dfl_cgrp, kn, id);
	h = lookup_or_insert(&runqlat, &cgid, &zero_hist, MAP_RUNQLAT);
	if (!h)
		return;
	/* Clamp after the barrier: clang would otherwise fold a bound it can prove into nothing. */
	barrier_var(slot);
	if (slot >= RUNQ_SLOTS)
		slot = RUNQ_SLOTS - 1;
	h->slots[slot] += 1;
	h->sum_ns += delta;
}

/*
 * The one program on sched_switch, for cpu, switches and runqlat. At this
 * tracepoint `current` is still prev, the task being switched out, so the
 * helpers name prev's cgroup; the idle task (pid 0) is nobody's work.
 */
SEC("tp_btf/sched_switch")
int BPF_PROG(on_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	bool idle = prev->pid == 0;
	__u64 now = 0, cgid = 0;

	if (cgscope_config.cpu || cgscope_config.runqlat)
		now = bpf_ktime_get_ns();
	if (!idle && (cgscope_config.cpu || cgscope_config.switches))
		cgid = bpf_get_current_cgroup_id();
	if (cgscope_config.cpu)
		charge_cpu(idle, now, cgid);
	if (cgscope_config.switches && !idle)
		add_u64(&switches, cgid, 1, MAP_SWITCHES); /* one more switch of prev's cgroup */
	if (cgscope_config.runqlat)
		runq_switch(prev, next, now);
	return 0;
}
