// SPDX-License-Identifier: GPL-2.0
/*
 * cgscope's OOM kill program (--bpf.programs=oom): every process the kernel's
 * OOM killer marks as its victim, named by cgroup, counted per victim cgroup
 * and sent to userspace with what a reader needs to explain the kill after
 * the container is gone.
 *
 * Its own object, not a program of the companion (cgscope.bpf.o): it attaches
 * to other hooks, and its failure must not take the companion's features down
 * (nor theirs this one).
 *
 * Hooks:
 *   oom_mark   tp_btf/mark_victim: the kill. mark_oom_victim() fires it once
 *              per task (TIF_MEMDIE guards it), right after __oom_kill_process
 *              sent SIGKILL. Its arguments differ by kernel: (int pid) until
 *              6.8, (struct task_struct *task, uid_t uid) since the fields of
 *              its event grew (comm, uid, rss, ...); CO-RE tells them apart by
 *              the event struct's uid field. tp_btf needs no tracefs.
 *   oom_enter  fentry/oom_kill_process, and oom_exit its fexit: the
 *              oom_control of the kill (the memcg whose limit was hit, NULL
 *              for a global OOM; the victim chosen), kept for oom_mark in a
 *              one-slot map while oom_kill_process runs (the OOM killer is
 *              serialised by oom_lock). Needs BPF trampolines
 *              (CONFIG_FUNCTION_TRACER): userspace loads them only where they
 *              load, and oom_mark works without them.
 *
 * Without oom_enter (this test machine has no function tracer) the memcg is
 * inferred: the nearest memory cgroup of the victim, going up, whose usage is
 * within 2 MiB (a huge page's charge) of its limit; the OOM killer only kills
 * for a memcg whose margin is below the failed charge. None at its limit means
 * a global OOM. The record says which way the memcg was found.
 *
 * Counts: oom_kills, a hash map keyed by the victim's cgroup in the hierarchy
 * the metrics are named by (--cgroup.hierarchy: cgroup2's id, what
 * bpf_get_current_cgroup_id() returns, or a v1 hierarchy's; chosen as the
 * companion chooses it, oom_config), exact even when records are lost. Records: the ring buffer `events`; a record that does
 * not fit is counted in oom_stats[OOM_LOST], never silent.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "hierarchy.h"

char LICENSE[] SEC("license") = "GPL";

#define MAX_CGROUPS 16384   /* default; userspace overrides with bpf_map__set_max_entries */
#define RING_SIZE (256 << 10)
#define TASK_COMM_LEN 16
#define PATH_LEVELS 12      /* names kept per path, from the cgroup up */
#define NAME_LEN 128        /* bytes per name, NUL included: a 64-hex container id and a prefix fit */
#define EEXIST 17
#define NEAR_LIMIT_PAGES 512 /* a 2 MiB huge page in 4 KiB pages: the largest single charge */
#define LIMITED_BELOW (1UL << 50) /* page counts at or above are "max" (PAGE_COUNTER_MAX is LONG_MAX / PAGE_SIZE) */

/*
 * Whose cgroup a kill counts for (--cgroup.hierarchy; Java: BpfHierarchy, which
 * writes these bytes before load at the offsets of the companion's
 * struct cgscope_config, so both objects take the same three fields).
 */
struct oom_config {
	__u8 pad0[3];
	__u8 hierarchy;     /* enum hierarchy_kind */
	__u8 controller;    /* HIERARCHY_CONTROLLER: enum cgroup_subsys_id___cgscope of the hierarchy */
	__u8 pad[3];
	__u32 hierarchy_id; /* HIERARCHY_NAMED: its cgroup_root.hierarchy_id */
	__u32 pad2;
};
const volatile struct oom_config oom_config SEC(".rodata.config") = {};


/* Where the memcg of a record comes from; userspace knows these (OomRecord.java). */
enum memcg_source {
	MEMCG_UNKNOWN = 0,
	MEMCG_OOM_CONTROL = 1, /* oom_control, from oom_enter: exact */
	MEMCG_INFERRED = 2,    /* the nearest memory cgroup at its limit */
};

/* Kinds of OOM; userspace knows these (OomRecord.java). */
enum oom_kind {
	OOM_KIND_UNKNOWN = 0,
	OOM_KIND_CGROUP = 1,
	OOM_KIND_GLOBAL = 2,
};

/* oom_stats slots. */
enum oom_stat {
	OOM_LOST = 0,           /* records the ring had no room for */
	OOM_COUNT_FAILURES = 1, /* kills oom_kills could not count (a full map) */
	OOM_STATS = 2,
};

/* A name per level, the cgroup's own first; an empty name ends the path before the root. */
struct cgroup_path {
	char names[PATH_LEVELS][NAME_LEN];
};

/*
 * One kill, as the ring buffer carries it (little-endian, the host's). Userspace
 * knows this layout (OomRecord.java): keep both in step.
 */
struct oom_event {
	__u64 time_ns;          /* bpf_ktime_get_ns(): CLOCK_MONOTONIC */
	__u64 cgroup_id;        /* the victim's cgroup in the chosen hierarchy (kernfs id); 0 when unknown */
	__u64 memcg_id;         /* the memory cgroup whose limit was hit (kernfs id in its hierarchy); 0: none */
	__u64 victim_memcg_id;  /* the victim's own memory cgroup (kernfs id) */
	__u32 pid;              /* the victim's process (tgid); its thread when only the pid is known */
	__u32 tid;              /* the victim's thread */
	__u32 memcg_hierarchy;  /* cgroup_root.hierarchy_id of memcg_id's hierarchy: 0 is cgroup2 */
	__u8 kind;              /* enum oom_kind */
	__u8 memcg_source;      /* enum memcg_source */
	__u8 pad[2];
	char comm[TASK_COMM_LEN];
	struct cgroup_path cgroup_path; /* the victim's cgroup (chosen hierarchy), for when the index cannot name its id */
	struct cgroup_path memcg_path;  /* the memcg's, in its own hierarchy */
};

/* What oom_enter saw of the kill under way. */
struct oom_slot {
	__u64 pid_tgid;   /* current: the task running the OOM killer */
	__u64 memcg;      /* struct mem_cgroup *, 0 for a global OOM */
	__u64 chosen;     /* struct task_struct * the killer chose */
	__u64 time_ns;
	__u32 constraint; /* enum oom_constraint */
	__u32 valid;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_CGROUPS);
	__type(key, __u64);   /* the victim's cgroup id in the chosen hierarchy */
	__type(value, __u64); /* OOM kills */
} oom_kills SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, RING_SIZE);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, OOM_STATS);
	__type(key, __u32);
	__type(value, __u64);
} oom_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct oom_slot);
} oom_slot SEC(".maps");

static __always_inline void stat_add(__u32 which)
{
	__u64 *n = bpf_map_lookup_elem(&oom_stats, &which);

	if (n)
		__sync_fetch_and_add(n, 1);
}

static __always_inline void count_kill(__u64 cgid)
{
	static const __u64 zero = 0;
	__u64 *n = bpf_map_lookup_elem(&oom_kills, &cgid);
	long err;

	if (!n) {
		err = bpf_map_update_elem(&oom_kills, &cgid, &zero, BPF_NOEXIST);
		if (err && err != -EEXIST) {
			stat_add(OOM_COUNT_FAILURES);
			return;
		}
		n = bpf_map_lookup_elem(&oom_kills, &cgid);
		if (!n)
			return;
	}
	__sync_fetch_and_add(n, 1);
}

/* The names from cg up to (not including) its hierarchy's root; the rest of the slots stay zero. */
static __always_inline void path_of(struct cgroup *cg, struct cgroup_path *out)
{
	struct cgroup_subsys_state *parent;
	const char *name;
	int i;

	for (i = 0; i < PATH_LEVELS; i++) {
		if (!cg)
			return;
		parent = BPF_CORE_READ(cg, self.parent);
		if (!parent)
			return; /* cg is the root: its name is not part of a path */
		name = BPF_CORE_READ(cg, kn, name);
		bpf_probe_read_kernel_str(out->names[i], NAME_LEN, name);
		/* cgroup.self is the first member of struct cgroup: the parent css is the parent cgroup */
		cg = (struct cgroup *)parent;
	}
}

static __always_inline struct mem_cgroup *memcg_of(struct task_struct *task)
{
	struct css_set *cset = BPF_CORE_READ(task, cgroups);
	int id = bpf_core_enum_value(enum cgroup_subsys_id, memory_cgrp_id);
	struct cgroup_subsys_state *css = NULL;

	if (!cset || id < 0 || id >= CGROUP_SUBSYS_COUNT)
		return NULL;
	bpf_core_read(&css, sizeof(css), &cset->subsys[id]);
	/* mem_cgroup.css is its first member */
	return (struct mem_cgroup *)css;
}

static __always_inline bool at_limit(struct page_counter *pc)
{
	unsigned long max = BPF_CORE_READ(pc, max);
	long usage = BPF_CORE_READ(pc, usage.counter);

	return max < LIMITED_BELOW && usage + NEAR_LIMIT_PAGES >= (long)max;
}

/* The nearest memory cgroup of memcg (itself included) at its limit, or NULL. */
static __always_inline struct mem_cgroup *memcg_at_limit(struct mem_cgroup *memcg, bool v1)
{
	int i;

	for (i = 0; i < PATH_LEVELS && memcg; i++) {
		if (at_limit(&memcg->memory))
			return memcg;
		if (v1 && bpf_core_field_exists(memcg->memsw) && at_limit(&memcg->memsw))
			return memcg;
		memcg = (struct mem_cgroup *)BPF_CORE_READ(memcg, css.parent);
	}
	return NULL;
}

static __always_inline struct cgroup *cgroup_of_memcg(struct mem_cgroup *memcg)
{
	return memcg ? BPF_CORE_READ(memcg, css.cgroup) : NULL;
}

/*
 * The victim's cgroup in the chosen hierarchy, by probe reads (the task of the
 * pid-only tracepoint comes from oom_control, not from the tracepoint itself).
 */
static __always_inline struct cgroup *victim_cgroup(struct task_struct *task)
{
	struct css_set *cset = BPF_CORE_READ(task, cgroups);
	struct cgroup_subsys_state *css = NULL;
	int ssid;

	if (!cset)
		return NULL;
	if (oom_config.hierarchy == HIERARCHY_CONTROLLER) {
		ssid = ssid_of(oom_config.controller);
		if (ssid < 0 || ssid >= MAX_HIERARCHIES)
			return NULL;
		bpf_core_read(&css, sizeof(css), &cset->subsys[ssid]);
		return css ? BPF_CORE_READ(css, cgroup) : NULL;
	}
	if (oom_config.hierarchy == HIERARCHY_NAMED)
		return named_cgroup(cset, oom_config.hierarchy_id);
	return BPF_CORE_READ(cset, dfl_cgrp);
}

/* Fills and sends the record of a kill of `task` (NULL: only `pid` is known). */
static __always_inline void report(struct task_struct *task, __u32 pid)
{
	__u32 zero = 0;
	struct oom_slot *slot = bpf_map_lookup_elem(&oom_slot, &zero);
	struct mem_cgroup *hit = NULL, *own = NULL;
	struct cgroup *cg = NULL, *hit_cg;
	struct oom_event *e;
	__u64 now = bpf_ktime_get_ns();
	bool from_slot = false;

	if (slot && slot->valid && slot->pid_tgid == bpf_get_current_pid_tgid() && now - slot->time_ns < 10000000000ULL) {
		/*
		 * Read the slot into locals before any BPF_CORE_READ: an expression of our own struct
		 * inside one becomes a CO-RE relocation of it, and looking for a local type in the
		 * kernel's BTF iterates the modules' BTF too, which needs CAP_SYS_ADMIN (measured:
		 * "failed to iterate BTF objects" without it).
		 */
		struct task_struct *chosen = (struct task_struct *)slot->chosen;

		from_slot = true;
		if (!task && chosen && BPF_CORE_READ(chosen, pid) == pid)
			task = chosen; /* the pid-only tracepoint: the chosen one */
	}
	if (task)
		cg = victim_cgroup(task);
	count_kill(cg ? BPF_CORE_READ(cg, kn, id) : 0);

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		stat_add(OOM_LOST);
		return;
	}
	/* ring memory is not zeroed: every field is set, and each name starts empty (userspace reads to the NUL) */
	e->time_ns = now;
	e->cgroup_id = 0;
	e->memcg_id = 0;
	e->victim_memcg_id = 0;
	e->pid = pid;
	e->tid = pid;
	e->memcg_hierarchy = 0;
	e->kind = OOM_KIND_UNKNOWN;
	e->memcg_source = MEMCG_UNKNOWN;
	e->pad[0] = 0;
	e->pad[1] = 0;
	e->comm[0] = 0;
	for (int i = 0; i < PATH_LEVELS; i++) {
		e->cgroup_path.names[i][0] = 0;
		e->memcg_path.names[i][0] = 0;
	}
	if (task) {
		e->pid = BPF_CORE_READ(task, tgid);
		e->tid = BPF_CORE_READ(task, pid);
		BPF_CORE_READ_STR_INTO(&e->comm, task, comm);
		own = memcg_of(task);
	}
	if (cg) {
		e->cgroup_id = BPF_CORE_READ(cg, kn, id);
		path_of(cg, &e->cgroup_path);
	}
	if (own)
		e->victim_memcg_id = BPF_CORE_READ(own, css.cgroup, kn, id);
	if (from_slot) {
		hit = (struct mem_cgroup *)slot->memcg;
		e->memcg_source = MEMCG_OOM_CONTROL;
		e->kind = hit ? OOM_KIND_CGROUP : OOM_KIND_GLOBAL;
	} else if (own) {
		bool v1 = BPF_CORE_READ(own, css.cgroup, root, hierarchy_id) != 0;

		hit = memcg_at_limit(own, v1);
		e->memcg_source = MEMCG_INFERRED;
		e->kind = hit ? OOM_KIND_CGROUP : OOM_KIND_GLOBAL;
	}
	hit_cg = cgroup_of_memcg(hit);
	if (hit_cg) {
		e->memcg_id = BPF_CORE_READ(hit_cg, kn, id);
		e->memcg_hierarchy = BPF_CORE_READ(hit_cg, root, hierarchy_id);
		path_of(hit_cg, &e->memcg_path);
	}
	bpf_ringbuf_submit(e, 0);
}

SEC("tp_btf/mark_victim")
int oom_mark(__u64 *ctx)
{
	/*
	 * Since the event gained its uid field the first argument is the victim's
	 * task_struct; before, it was the pid. The fields were read with probe reads
	 * (BPF_CORE_READ) either way, so both shapes pass the verifier.
	 */
	if (bpf_core_field_exists(struct trace_event_raw_mark_victim, uid))
		report((struct task_struct *)ctx[0], 0);
	else
		report(NULL, (__u32)ctx[0]);
	return 0;
}

SEC("fentry/oom_kill_process")
int BPF_PROG(oom_enter, struct oom_control *oc, const char *message)
{
	__u32 zero = 0;
	struct oom_slot *slot = bpf_map_lookup_elem(&oom_slot, &zero);

	if (!slot)
		return 0;
	slot->pid_tgid = bpf_get_current_pid_tgid();
	slot->memcg = (__u64)BPF_CORE_READ(oc, memcg);
	slot->chosen = (__u64)BPF_CORE_READ(oc, chosen);
	slot->constraint = BPF_CORE_READ(oc, constraint);
	slot->time_ns = bpf_ktime_get_ns();
	slot->valid = 1;
	return 0;
}

SEC("fexit/oom_kill_process")
int BPF_PROG(oom_exit, struct oom_control *oc, const char *message)
{
	__u32 zero = 0;
	struct oom_slot *slot = bpf_map_lookup_elem(&oom_slot, &zero);

	if (slot)
		slot->valid = 0;
	return 0;
}
