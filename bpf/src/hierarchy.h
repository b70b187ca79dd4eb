/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Which cgroup of a task a program names, shared by cgscope.bpf.c (the
 * counters) and oom.bpf.c (the OOM kills): the kinds of hierarchy
 * --cgroup.hierarchy chooses (Java: BpfHierarchy), the kernel's subsystem ids
 * by name, and the walk of a named v1 hierarchy. Included after vmlinux.h and
 * libbpf's headers.
 */
#ifndef CGSCOPE_HIERARCHY_H
#define CGSCOPE_HIERARCHY_H

/*
 * Which cgroup of a task the counters are keyed by (--cgroup.hierarchy; Java:
 * BpfHierarchy). A task has one cgroup in each hierarchy; the ids of v1
 * hierarchies are numbered apart from the unified one's, and the index that
 * names them is that hierarchy's.
 */
enum hierarchy_kind {
	HIERARCHY_UNIFIED = 0,    /* cgroup2: bpf_get_current_cgroup_id(), css_set.dfl_cgrp */
	HIERARCHY_CONTROLLER = 1, /* a v1 hierarchy with a controller: css_set.subsys[that controller] */
	HIERARCHY_NAMED = 2,      /* a v1 hierarchy without one (name=systemd): css_set.cgrp_links */
};

/*
 * The kernel's enum cgroup_subsys_id, under a name of our own: CO-RE relocates
 * each value by its name to the running kernel's number (which depends on the
 * kernel's config: 6.1 has misc and rdma, this build's kernel not), and a
 * controller the kernel lacks only poisons a branch that is never taken. The
 * order is userspace's code for them (BpfHierarchy.CONTROLLERS).
 */
enum cgroup_subsys_id___cgscope {
	cpuset_cgrp_id___cgscope,
	cpu_cgrp_id___cgscope,
	cpuacct_cgrp_id___cgscope,
	io_cgrp_id___cgscope, /* "blkio" in v1 */
	memory_cgrp_id___cgscope,
	devices_cgrp_id___cgscope,
	freezer_cgrp_id___cgscope,
	net_cls_cgrp_id___cgscope,
	perf_event_cgrp_id___cgscope,
	net_prio_cgrp_id___cgscope,
	hugetlb_cgrp_id___cgscope,
	pids_cgrp_id___cgscope,
	rdma_cgrp_id___cgscope,
	misc_cgrp_id___cgscope,
};

/* A css_set links one cgroup per hierarchy: at most this many to look through. */
#define MAX_HIERARCHIES 16

/* css_set.subsys[] index of the chosen controller: a constant once relocated, so the verifier sees a fixed offset. */
static __always_inline int ssid_of(__u8 controller)
{
	switch (controller) {
	case 0: return bpf_core_enum_value(enum cgroup_subsys_id___cgscope, cpuset_cgrp_id___cgscope);
	case 1: return bpf_core_enum_value(enum cgroup_subsys_id___cgscope, cpu_cgrp_id___cgscope);
	case 2: return bpf_core_enum_value(enum cgroup_subsys_id___cgscope, cpuacct_cgrp_id___cgscope);
	case 3: return bpf_core_enum_value(enum cgroup_subsys_id___cgscope, io_cgrp_id___cgscope);
	case 4: return bpf_core_enum_value(enum cgroup_subsys_id___cgscope, memory_cgrp_id___cgscope);
	case 5: return bpf_core_enum_value(enum cgroup_subsys_id___cgscope, devices_cgrp_id___cgscope);
	case 6: return bpf_core_enum_value(enum cgroup_subsys_id___cgscope, freezer_cgrp_id___cgscope);
	case 7: return bpf_core_enum_value(enum cgroup_subsys_id___cgscope, net_cls_cgrp_id___cgscope);
	case 8: return bpf_core_enum_value(enum cgroup_subsys_id___cgscope, perf_event_cgrp_id___cgscope);
	case 9: return bpf_core_enum_value(enum cgroup_subsys_id___cgscope, net_prio_cgrp_id___cgscope);
	case 10: return bpf_core_enum_value(enum cgroup_subsys_id___cgscope, hugetlb_cgrp_id___cgscope);
	case 11: return bpf_core_enum_value(enum cgroup_subsys_id___cgscope, pids_cgrp_id___cgscope);
	case 12: return bpf_core_enum_value(enum cgroup_subsys_id___cgscope, rdma_cgrp_id___cgscope);
	case 13: return bpf_core_enum_value(enum cgroup_subsys_id___cgscope, misc_cgrp_id___cgscope);
	}
	return -1;
}

/*
 * The cgroup of a css_set in a named v1 hierarchy (no controller, so no subsys[]
 * slot): the css_set's list of its cgroups, one per hierarchy, read with
 * fault-safe probe reads (a list walk needs container_of, which the verifier
 * allows only on plain numbers). Costs a few reads per hierarchy mounted. The
 * kfunc bpf_task_get_cgroup1() (6.8+) answers the same but takes the global
 * css_set_lock and a reference each call: not on every context switch.
 */
static __always_inline struct cgroup *named_cgroup(struct css_set *cset, __u32 hierarchy_id)
{
	__u64 head = (__u64)cset + bpf_core_field_offset(struct css_set, cgrp_links);
	__u64 pos = (__u64)BPF_CORE_READ(cset, cgrp_links.next);
	__u64 off = bpf_core_field_offset(struct cgrp_cset_link, cgrp_link);
	struct cgrp_cset_link *link;
	struct cgroup *cgrp;
	int i;

	for (i = 0; i < MAX_HIERARCHIES && pos && pos != head; i++) {
		link = (struct cgrp_cset_link *)(pos - off);
		cgrp = BPF_CORE_READ(link, cgrp);
		if (BPF_CORE_READ(cgrp, root, hierarchy_id) == (int)hierarchy_id)
			return cgrp;
		pos = (__u64)BPF_CORE_READ((struct list_head *)pos, next);
	}
	return NULL;
}

#endif /* CGSCOPE_HIERARCHY_H */
