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
 *   runqlat   on_switch (its run-queue part)
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
#include "hierarchy.h"

char LICENSE[] SEC("license") = "GPL";

/*
 * Set by userspace before load (its own section, so a map of its own:
 * ".rodata.config", offset 0). Read-only once loaded: the verifier treats the
 * flags as constants and drops the code of disabled features.
 */
struct cgscope_config {
	__u8 cpu;          /* feature cpu */
	__u8 switches;     /* feature switches */
	__u8 runqlat;      /* feature runqlat */
	__u8 hierarchy;    /* whose cgroup counts: enum hierarchy_kind (--cgroup.hierarchy) */
	__u8 controller;   /* HIERARCHY_CONTROLLER: enum cgroup_subsys_id___cgscope of the hierarchy */
	__u8 pad[3];
	__u32 hierarchy_id; /* HIERARCHY_NAMED: its cgroup_root.hierarchy_id */
	__u32 pad2;
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
	MAP_COUNTERS = 0,
	MAP_RUNQLAT = 1,
	MAP_COUNT = 2,
};

/*
 * The plain counters of one cgroup (features cpu, samples, switches), in ONE
 * map: at a switch the cpu and switches parts update the same entry with one
 * lookup, and a scrape reads one map instead of three (reading a per-CPU hash
 * costs the kernel about 0.2 us per entry whatever the value size: 10k
 * cgroups took 2.1 ms per u64 map here, the 24-byte struct about the same).
 * Words of a feature that is off stay zero. Userspace knows the layout
 * (BpfMaps.java).
 */
struct cgroup_counters {
	__u64 cpu_ns;   /* nanoseconds on CPU (feature cpu) */
	__u64 samples;  /* cpu-clock samples (feature samples) */
	__u64 switches; /* context switches, counted for the task switched out (feature switches) */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, MAX_CGROUPS);
	__type(key, __u64); /* cgroup id */
	__type(value, struct cgroup_counters);
} counters SEC(".maps");

/* Run-queue latency histogram per cgroup of the task that waited (feature runqlat). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, MAX_CGROUPS);
	__type(key, __u64); /* cgroup id */
	__type(value, struct runq_hist);
} runqlat SEC(".maps");

/*
 * Per CPU: the task running here and its se.sum_exec_runtime when this CPU's
 * time was last charged (feature cpu). Charging differences of the kernel's own
 * per-task runtime, not of a clock, makes cgscope agree with cpu.stat
 * usage_usec (which adds the same deltas) whatever the IRQ and steal time: a
 * clock-based charge counted 5-11% too much on a loaded VM here.
 */
struct cpu_mark {
	__u64 task;    /* the task_struct pointer, as a number: whose runtime is below */
	__u64 runtime; /* its sum_exec_runtime at the last charge */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct cpu_mark);
} cpu_last SEC(".maps");

/* Failed inserts per map (a full map, or no memory), indexed by enum map_index. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, MAP_COUNT);
	__type(key, __u32);
	__type(value, __u64);
} update_failures SEC(".maps");

/* Zero values to insert from (read-only data, not the 512-byte stack). */
static const struct cgroup_counters zero_counters = {};
static const struct runq_hist zero_hist = {};

/* The task's cgroup id in the chosen hierarchy; `current` says t is the running task. */
static __always_inline __u64 cgroup_of(struct task_struct *t, bool current)
{
	if (cgscope_config.hierarchy == HIERARCHY_CONTROLLER) {
		int ssid = ssid_of(cgscope_config.controller);

		if (ssid < 0 || ssid >= MAX_HIERARCHIES)
			return 0;
		return t->cgroups->subsys[ssid]->cgroup->kn->id;
	}
	if (cgscope_config.hierarchy == HIERARCHY_NAMED) {
		struct cgroup *named = named_cgroup(BPF_CORE_READ(t, cgroups), cgscope_config.hierarchy_id);

		return named ? BPF_CORE_READ(named, kn, id) : 0;
	}
	return current ? bpf_get_current_cgroup_id() : t->cgroups->dfl_cgrp->kn->id;
}

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

/* This CPU's counters of a cgroup (per-CPU value: plain adds, no atomics). */
static __always_inline struct cgroup_counters *counters_of(__u64 cgid)
{
	return lookup_or_insert(&counters, &cgid, &zero_counters, MAP_COUNTERS);
}

/*
 * Returns the run time `curr` accumulated since this CPU's last charge, to be
 * charged to its cgroup (0 for the idle task, pid 0, whose time is nobody's
 * work), and marks `then` (the task that runs from now on) with its current
 * run time.
 * Called at every switch (curr = prev, then = next) and at every cpu-clock tick
 * (curr = then = current), so a task that is never switched out is still
 * charged once per tick period; its runtime there is as fresh as the last
 * scheduler tick. A task seen for the first time (cgscope just attached) only
 * sets the mark: its earlier run time is not ours to charge.
 */
static __always_inline __u64 cpu_delta(struct task_struct *curr, bool idle, struct task_struct *then)
{
	__u32 zero = 0;
	struct cpu_mark *mark;
	__u64 runtime, delta = 0;

	mark = bpf_map_lookup_elem(&cpu_last, &zero);
	if (!mark)
		return 0;
	runtime = curr->se.sum_exec_runtime;
	if (!idle && mark->task == (__u64)curr && runtime > mark->runtime)
		delta = runtime - mark->runtime;
	mark->task = (__u64)then;
	mark->runtime = then == curr ? runtime : then->se.sum_exec_runtime;
	return delta;
}

/* cpu: the periodic charge of a running task (software cpu-clock, one event per CPU). */
SEC("perf_event")
int cpu_tick(struct bpf_perf_event_data *ctx)
{
	struct task_struct *curr = bpf_get_current_task_btf();
	bool idle = bpf_get_current_pid_tgid() == 0;
	struct cgroup_counters *c;
	__u64 delta = cpu_delta(curr, idle, curr);

	if (delta) {
		c = counters_of(cgroup_of(curr, true));
		if (c)
			c->cpu_ns += delta;
	}
	return 0;
}

/* samples: one cpu-clock sample of whatever runs on this CPU; idle samples are not counted. */
SEC("perf_event")
int sample(struct bpf_perf_event_data *ctx)
{
	struct cgroup_counters *c;

	if (bpf_get_current_pid_tgid() == 0)
		return 0;
	c = counters_of(cgroup_of(bpf_get_current_task_btf(), true));
	if (c)
		c->samples += 1;
	return 0;
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

/*
 * runqlat at a switch: next stops waiting. The scheduler itself records when a
 * task was queued (sched_info.last_queued, set when it is woken or preempted
 * while runnable, in rq clock time) and consumes it just after this tracepoint
 * (sched_info_arrive adds rq clock minus last_queued to run_delay, what
 * /proc/<pid>/schedstat shows). Reading it here costs a few loads, instead of
 * wake-up programs and per-task storage of our own; the wait goes into the
 * histogram of next's cgroup (next is not current: no helper for it).
 *
 * The rq clock: this CPU's run queue is reached through a task's fair-class
 * run queue (se.cfs_rq->rq), checked to be this CPU's; the `runqueues` per-CPU
 * symbol would be simpler but needs CONFIG_KALLSYMS_ALL, which this kernel
 * lacks ("failed to find the address for kernel symbol 'runqueues'").
 * All loads are direct BTF pointer walks (CO-RE relocated, fault-safe), far
 * cheaper than bpf_probe_read_kernel calls on this hot path.
 */
static __always_inline struct rq *this_rq_of(struct task_struct *a, struct task_struct *b)
{
	__u32 cpu = bpf_get_smp_processor_id();
	struct cfs_rq *cfs = a->se.cfs_rq;
	struct rq *rq = cfs ? cfs->rq : NULL;

	if (rq && rq->cpu == cpu)
		return rq;
	cfs = b->se.cfs_rq;
	rq = cfs ? cfs->rq : NULL;
	return rq && rq->cpu == cpu ? rq : NULL;
}

static __always_inline void runq_switch(struct task_struct *prev, struct task_struct *next)
{
	struct runq_hist *h;
	struct rq *rq;
	__u64 queued, delta, us, cgid;
	__u64 slot;

	if (next->pid == 0)
		return;
	queued = next->sched_info.last_queued;
	if (queued == 0)
		return; /* not queued through the scheduler's accounting (e.g. the first run of a new task) */
	rq = this_rq_of(next, prev);
	if (!rq)
		return;
	delta = rq->clock - queued;
	if ((__s64)delta < 0)
		return;
	us = delta / 1000;
	slot = us ? log2_u64(us) + 1 : 0;
	cgid = cgroup_of(next, false);
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
	struct cgroup_counters *c;
	__u64 delta = 0;

	if (cgscope_config.cpu)
		delta = cpu_delta(prev, idle, next);
	/* prev's cpu time and its switch: one entry, one lookup */
	if (!idle && (delta || cgscope_config.switches)) {
		c = counters_of(cgroup_of(prev, true));
		if (c) {
			c->cpu_ns += delta;
			if (cgscope_config.switches)
				c->switches += 1;
		}
	}
	if (cgscope_config.runqlat)
		runq_switch(prev, next);
	return 0;
}
